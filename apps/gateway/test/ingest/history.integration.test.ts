import { join } from 'node:path';
import { type DeadLetterPayload, filters, topics } from '@cnx/protocol';
import { createReadingStore, type ReadingStore } from '@cnx/store';
import { type MosquittoHandle, makeTempDir, removeDir, startMosquitto } from '@cnx/testkit';
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Gateway } from '../../src/gateway';
import { chiangMaiAirDevices, collect, connect, publishQos1, startTestGateway } from '../helpers';

const CITY = 'chiang-mai';
const MIN = 60_000;
const DAY = 86_400_000;
// Three days ago, on a whole minute: far past the telemetry topic's one hour before `stale`.
const OLD = Math.floor(Date.now() / MIN) * MIN - 3 * DAY;

/**
 * The history topic (docs/protocol.md): logged past readings go through the same pipeline as
 * telemetry (validation, QC, correction, spool, bus, store), but their lateness is not judged.
 * Real Mosquitto, the gateway in-process with its embedded SQLite store.
 */
describe('history topic against real Mosquitto', () => {
  let broker: MosquittoHandle;
  let dir: string;
  let gateway: Gateway;
  let device: MqttClient;
  let observer: MqttClient;
  let store: ReadingStore;
  let devices: string[];

  beforeAll(async () => {
    [broker, dir, devices] = await Promise.all([startMosquitto(), makeTempDir(), chiangMaiAirDevices()]);
    gateway = await startTestGateway({
      GATEWAY_MQTT_URL: broker.url,
      CNX_DATA_DIR: dir,
      GATEWAY_SPOOL_DIR: join(dir, 'spool'),
    });
    device = await connect(broker.url, 'history-test-device');
    observer = await connect(broker.url, 'history-test-observer');
    // A second reader beside the gateway's writer, as the API opens it.
    store = createReadingStore({ backend: 'sqlite', path: join(dir, 'cnx.sqlite'), readonly: true });
    await store.start();
  });

  afterAll(async () => {
    device?.end(true);
    observer?.end(true);
    await store?.stop();
    await gateway?.stop();
    await broker?.stop();
    if (dir) await removeDir(dir);
  });

  const stored = (deviceId: string, from: number, to: number) =>
    store.query({ from, to, deviceIds: [deviceId], limit: 1000, order: 'asc' });

  it('stores a reading three days old without `stale` on history; on telemetry the same gets `stale`', async () => {
    const bus = await collect(observer, filters.allReadings(CITY));
    const [a, b] = devices as [string, string];
    const body = JSON.stringify({ ts: OLD, values: { pm1: 11, pm25: 16.4, pm10: 24, temperature: 22, humidity: 60 } });
    await publishQos1(device, topics.history(CITY, a), body);
    await publishQos1(device, topics.telemetry(CITY, b), body);
    await bus.waitForReadings(2);
    expect(await gateway.flush(15_000)).toBe(true);

    const [fromHistory] = await stored(a, OLD, OLD + 1);
    const [fromTelemetry] = await stored(b, OLD, OLD + 1);
    expect(fromHistory?.qc).toEqual([]);
    expect(fromTelemetry?.qc).toEqual(['stale']);
    // Everything else is the telemetry path's: the EPA correction, the bus.
    expect(fromHistory?.values.pm25).toBe(16.4);
    expect(fromHistory?.corrections.map((c) => c.metric)).toEqual(['pm25']);
    expect(bus.readings().map((r) => [r.device, r.ts, r.qc])).toEqual([
      [a, OLD, []],
      [b, OLD, ['stale']],
    ]);

    const metrics = await (await fetch(`${gateway.addresses.http}/metrics`)).text();
    expect(metrics).toMatch(/^gateway_history_readings_accepted_total 1$/m);
    expect(metrics).toMatch(/^gateway_readings_accepted_total 2$/m);
  });

  it('takes a SenML log of many times in one message, and still flags what is wrong with it', async () => {
    const bus = await collect(observer, filters.allReadings(CITY));
    const c = devices[2] as string;
    const start = OLD + DAY; // two days ago
    // 12 one-minute readings of 5 metrics (60 records: a pack holds at most 64); the 7th is a spike.
    const pack: Record<string, unknown>[] = [];
    for (let k = 0; k < 12; k++) {
      const pm25 = k === 6 ? 600 : 20 + k;
      const values = { pm1: 14, pm25, pm10: 30, temperature: 21, humidity: 65 };
      Object.entries(values).forEach(([n, v], i) => {
        const rec: Record<string, unknown> = { n, v, t: k * 60 };
        if (k === 0 && i === 0) Object.assign(rec, { bn: `urn:dev:cnx:${c}:`, bt: start / 1000 });
        pack.push(rec);
      });
    }
    await publishQos1(device, topics.history(CITY, c), JSON.stringify(pack));
    // A reading from a clock ahead of the gateway's is `future` on history as on telemetry.
    await publishQos1(
      device,
      topics.history(CITY, c),
      JSON.stringify({ ts: Date.now() + 10 * MIN, values: { pm25: 9 } }),
    );
    await bus.waitForReadings(13);
    expect(await gateway.flush(15_000)).toBe(true);

    const rows = await stored(c, start, start + 12 * MIN);
    expect(rows.map((r) => r.ts)).toEqual(Array.from({ length: 12 }, (_, k) => start + k * MIN));
    expect(rows.map((r) => r.qc.join(','))).toEqual(Array.from({ length: 12 }, (_, k) => (k === 6 ? 'spike' : '')));
    expect(bus.readings().at(-1)?.qc).toEqual(['future']);
  });

  it('judges a log apart from live telemetry: after live readings, and uploaded twice, it keeps its flags', async () => {
    const bus = await collect(observer, filters.allReadings(CITY));
    const d = devices[3] as string;
    // The device is live now (a reading a minute ago) ...
    await publishQos1(
      device,
      topics.telemetry(CITY, d),
      JSON.stringify({ ts: Math.floor(Date.now() / MIN) * MIN - MIN, values: { pm25: 21, pm10: 30 } }),
    );
    // ... then its SD-card log of yesterday is uploaded, oldest first: 20, 21, 600 (a spike), 22, 23.
    const start = OLD + 2 * DAY;
    const log = [20, 21, 600, 22, 23].map((pm25, k) =>
      JSON.stringify({ ts: start + k * MIN, values: { pm25, pm10: 30 } }),
    );
    for (const body of log) await publishQos1(device, topics.history(CITY, d), body);
    await bus.waitForReadings(6);
    expect(await gateway.flush(15_000)).toBe(true);
    const flags = async () => (await stored(d, start, start + 5 * MIN)).map((r) => r.qc.join(','));
    expect(await flags()).toEqual(['', '', 'spike', '', '']);
    // The same log again (a technician uploads it twice): the same flags, the spike stays a spike.
    for (const body of log) await publishQos1(device, topics.history(CITY, d), body);
    await bus.waitForReadings(11);
    expect(await gateway.flush(15_000)).toBe(true);
    expect(await flags()).toEqual(['', '', 'spike', '', '']);
  });

  it('names the metric a flag is about, through to the store (a temperature jump does not taint PM2.5)', async () => {
    const bus = await collect(observer, filters.allReadings(CITY));
    const e = devices[4] as string;
    const t0 = Math.floor(Date.now() / MIN) * MIN - 5 * MIN;
    await publishQos1(
      device,
      topics.telemetry(CITY, e),
      JSON.stringify({ ts: t0, values: { pm25: 30, temperature: 22 } }),
    );
    await publishQos1(
      device,
      topics.telemetry(CITY, e),
      JSON.stringify({ ts: t0 + MIN, values: { pm25: 31, temperature: 29 } }),
    );
    // A humidity jump taints the corrected PM2.5 (the correction uses it): pm25 is named too.
    await publishQos1(
      device,
      topics.telemetry(CITY, e),
      JSON.stringify({ ts: t0 + 2 * MIN, values: { pm25: 31, temperature: 29, humidity: 40 } }),
    );
    await publishQos1(
      device,
      topics.telemetry(CITY, e),
      JSON.stringify({ ts: t0 + 3 * MIN, values: { pm25: 32, temperature: 29, humidity: 70 } }),
    );
    await bus.waitForReadings(4);
    expect(await gateway.flush(15_000)).toBe(true);
    const rows = await stored(e, t0, t0 + 4 * MIN);
    expect(rows.map((r) => [r.qc, r.qcMetrics])).toEqual([
      [[], undefined],
      [['spike'], ['temperature']],
      [[], undefined],
      [['spike'], ['pm25', 'humidity']],
    ]);
    expect(bus.readings().map((r) => r.qcMetrics)).toEqual([
      undefined,
      ['temperature'],
      undefined,
      ['pm25', 'humidity'],
    ]);
  });

  it('dead-letters a bad history message like a telemetry one, naming its topic', async () => {
    const dl = await collect(observer, filters.allDeadletter(CITY));
    await publishQos1(device, topics.history(CITY, 'ghost-device'), JSON.stringify({ ts: OLD, values: { pm25: 1 } }));
    await publishQos1(device, topics.history(CITY, devices[0] as string), '{"ts": 17');
    await dl.waitFor(2);
    const letters = dl.messages.map((m) => JSON.parse(m.payload) as DeadLetterPayload);
    expect(letters.map((l) => [l.reason, l.topic])).toEqual([
      ['unknown_device', topics.history(CITY, 'ghost-device')],
      ['malformed_json', topics.history(CITY, devices[0] as string)],
    ]);
  });
});
