/**
 * The bus side of the API bench's in-memory "now" target: a throw-away Mosquitto, a publisher that
 * sends the city's readings batches at a live city's pace (one air reading every `everyMs`, each one
 * invalidating the view and every cached body), and a wait until the API's view is built.
 */
import type { CityPack } from '@cnx/city-pack';
import { readingsBatchJson, topics } from '@cnx/protocol';
import { type MosquittoHandle, startMosquitto } from '@cnx/testkit';
import mqtt, { type MqttClient } from 'mqtt';

export interface BenchBus {
  broker: MosquittoHandle;
  /** Readings published so far. */
  readonly published: number;
  stop(): Promise<void>;
}

/** Starts the broker and publishes one reading of a round-robin air station every `everyMs`. */
export async function startBenchBus(pack: CityPack, everyMs: number): Promise<BenchBus> {
  const broker = await startMosquitto();
  const client: MqttClient = await mqtt.connectAsync(broker.url, { clientId: 'cnx-bench-bus' });
  const air = pack.stations.filter((s) => s.kind === 'air');
  let n = 0;
  const timer = setInterval(() => {
    const st = air[n % air.length]!;
    const device = pack.devices.find((d) => d.stationId === st.id)!;
    const now = Date.now();
    const pm25 = 20 + (n % 30);
    const reading = {
      v: 1,
      city: pack.city.id,
      station: st.id,
      device: device.id,
      kind: st.kind,
      district: st.district,
      ts: now,
      values: { pm1: pm25 * 0.7, pm25, pm10: pm25 * 1.4, temperature: 30, humidity: 60 },
      corrections: [{ metric: 'pm25', value: Math.round(pm25 * 6) / 10, method: 'epa-barkjohn-2021-extended@1' }],
      qc: [],
      receivedAt: now,
    };
    n++;
    client.publish(topics.readings(pack.city.id), readingsBatchJson([JSON.stringify(reading)]), { qos: 0 });
  }, everyMs);
  return {
    broker,
    get published() {
      return n;
    },
    async stop() {
      clearInterval(timer);
      await client.endAsync(true);
      await broker.stop();
    },
  };
}

/** Waits until the API's in-memory view is built (its /metrics gauge is above 0), at most `timeoutMs`. */
export async function waitForNowView(port: number, timeoutMs = 60_000): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    const m = /^api_now_view_readings (\d+)/m.exec(text);
    const held = m ? Number(m[1]) : 0;
    if (held > 0) return held;
    if (Date.now() > deadline) throw new Error('the API did not build its in-memory "now" view in time');
    await new Promise((r) => setTimeout(r, 250));
  }
}
