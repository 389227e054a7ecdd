import { join } from 'node:path';
import { filters, topics } from '@cnx/protocol';
import { type MosquittoHandle, makeTempDir, removeDir, startMosquitto } from '@cnx/testkit';
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Gateway } from '../src/gateway';
import { chiangMaiAirDevices, collect, connect, publishQos1, startTestGateway } from './helpers';

const CITY = 'chiang-mai';
const T0 = Math.floor(Date.now() / 60_000) * 60_000 - 50 * 60_000;
const at = (i: number) => T0 + i * 60_000;

/**
 * QC state kept across a gateway restart, through the real wiring (gateway.ts: the spool's
 * checkpoint hook, the pipeline's state map) with real Mosquitto and the SQLite store.
 */
describe('gateway restart keeps every device QC history (real Mosquitto)', () => {
  let broker: MosquittoHandle;
  let dir: string;
  let gateway: Gateway | undefined;
  let device: MqttClient;
  let observer: MqttClient;
  let devices: string[];
  const env = () => ({
    GATEWAY_MQTT_URL: broker.url,
    CNX_DATA_DIR: dir,
    GATEWAY_SPOOL_DIR: join(dir, 'spool'),
  });

  beforeAll(async () => {
    [broker, dir, devices] = await Promise.all([startMosquitto(), makeTempDir(), chiangMaiAirDevices()]);
    device = await connect(broker.url, 'qc-device');
    observer = await connect(broker.url, 'qc-observer');
  });

  afterAll(async () => {
    device?.end(true);
    observer?.end(true);
    await gateway?.stop();
    await broker?.stop();
    if (dir) await removeDir(dir);
  });

  /** Publish readings of one device and return the flags the gateway gave each (from the bus). */
  async function flagsOf(id: string, readings: { ts: number; seq: number; pm25: number }[]): Promise<string[][]> {
    const bus = await collect(observer, filters.allReadings(CITY));
    for (const r of readings) {
      const body = JSON.stringify({ ts: r.ts, seq: r.seq, values: { pm25: r.pm25, humidity: 50 } });
      await publishQos1(device, topics.telemetry(CITY, id), body);
    }
    await bus.waitForReadings(readings.length);
    observer.removeAllListeners('message');
    await observer.unsubscribeAsync(filters.allReadings(CITY));
    return bus.readings().map((r) => r.qc);
  }

  it('a stuck run carries on, a redelivered spike keeps its flag, a redelivery is no seq_duplicate', async () => {
    const [stuck, spiky] = devices as [string, string];
    const run = Array.from({ length: 29 }, (_, i) => ({ ts: at(i), seq: i, pm25: 55 }));
    const base = { ts: at(0), seq: 1, pm25: 20 };
    const spike = { ts: at(1), seq: 2, pm25: 300 };

    gateway = await startTestGateway(env());
    expect((await flagsOf(stuck, run)).every((f) => f.length === 0)).toBe(true);
    expect(await flagsOf(spiky, [base, spike])).toEqual([[], ['spike']]);
    await gateway.stop();
    gateway = undefined;

    gateway = await startTestGateway(env());
    // The 30th identical value: stuck (a gateway that forgot would start the run again).
    expect(await flagsOf(stuck, [{ ts: at(29), seq: 29, pm25: 55 }])).toEqual([['stuck']]);
    // The spike sent again (same seq and time): the same flags, not a duplicate.
    expect(await flagsOf(spiky, [spike])).toEqual([['spike']]);
    // The same seq at another time is a duplicate: seq 1 is remembered.
    expect(await flagsOf(spiky, [{ ...base, ts: at(5), pm25: 21 }])).toEqual([['seq_duplicate']]);
  });
});
