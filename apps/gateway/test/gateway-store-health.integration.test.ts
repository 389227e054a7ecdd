import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { topics } from '@cnx/protocol';
import {
  type InfluxDBHandle,
  type MosquittoHandle,
  makeTempDir,
  removeDir,
  startInfluxDB,
  startMosquitto,
} from '@cnx/testkit';
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Gateway } from '../src/gateway';
import type { HealthReport } from '../src/http';
import { chiangMaiAirDevices, connect, publishQos1, startTestGateway } from './helpers';

const CITY = 'chiang-mai';
const DB = 'gw_late';
const T0 = Math.floor(Date.now() / 60_000) * 60_000 - 30 * 60_000;

/** Poll /health (bounded) until `ok` holds; returns that report. */
async function healthUntil(gateway: Gateway, ok: (h: HealthReport) => boolean, what: string): Promise<HealthReport> {
  let last: HealthReport | undefined;
  for (let i = 0; i < 600; i++) {
    last = (await (await fetch(`${gateway.addresses.http}/health`)).json()) as HealthReport;
    if (ok(last)) return last;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`gave up waiting for ${what}; last /health: ${JSON.stringify(last)}`);
}

const writer = (h: HealthReport) => h.checks.writer as { ok: boolean; detail: { reason?: string } };

describe('gateway /health while the store is not there (real Mosquitto and InfluxDB)', () => {
  let broker: MosquittoHandle;
  let influx: InfluxDBHandle;
  let dir: string;
  let gateway: Gateway;
  let device: MqttClient;
  let devices: string[];

  beforeAll(async () => {
    [broker, influx, dir, devices] = await Promise.all([
      startMosquitto(),
      startInfluxDB({ database: 'gw_late_other' }),
      makeTempDir(),
      chiangMaiAirDevices(),
    ]);
    // InfluxDB is down when the gateway starts, and its database does not exist yet.
    await influx.stopProcess();
    gateway = await startTestGateway({
      GATEWAY_MQTT_URL: broker.url,
      INFLUX_URL: influx.url,
      INFLUX_DB: DB,
      CNX_DATA_DIR: dir,
      GATEWAY_SPOOL_DIR: join(dir, 'spool'),
      GATEWAY_MAX_BACKOFF_MS: '500',
    });
    device = await connect(broker.url, 'health-device');
  });

  afterAll(async () => {
    device?.end(true);
    await gateway?.stop();
    await Promise.all([broker?.stop(), influx?.stop()]);
    if (dir) await removeDir(dir);
  });

  const count = async () => {
    const res = await influx.query(
      `SELECT count(qc) FROM "${DB}".."reading" WHERE time >= ${T0}ms AND time < ${T0 + 3_600_000}ms`,
    );
    return Number(res.results[0]?.series?.[0]?.values[0]?.[1] ?? 0);
  };

  it('store not started: degraded, the writer not ok and saying why; readings spooled, none quarantined', async () => {
    const [a] = devices as [string];
    for (let i = 0; i < 10; i++) {
      await publishQos1(
        device,
        topics.telemetry(CITY, a),
        JSON.stringify({ ts: T0 + i * 1000, seq: i, values: { pm25: 12 } }),
      );
    }
    const h = await healthUntil(
      gateway,
      (x) => (x.checks.spool?.detail as { pendingRecords?: number } | undefined)?.pendingRecords === 10,
      'ten readings spooled',
    );
    expect(h.status).toBe('degraded');
    expect(writer(h).ok).toBe(false);
    expect(writer(h).detail.reason).toMatch(/^store not started: InfluxDB ping failed .*ECONNREFUSED/);
    expect(h.checks.store).toMatchObject({ ok: false, detail: { started: false } });
    const res = await fetch(`${gateway.addresses.http}/health`);
    expect(res.status).toBe(200); // degraded still accepts data
    expect(readdirSync(join(dir, 'spool')).filter((f) => f.startsWith('quarantine'))).toEqual([]);
  });

  it('once InfluxDB is up: the database is created, everything written, /health ok', async () => {
    await influx.restart();
    await healthUntil(gateway, (h) => h.status === 'ok', 'status ok');
    expect(await gateway.flush(30_000)).toBe(true);
    expect(await count()).toBe(10);
  });

  it('store gone later: degraded with the write failure as the reason, then ok again; nothing lost', async () => {
    await influx.stopProcess();
    const [, b] = devices as [string, string];
    for (let i = 0; i < 5; i++) {
      await publishQos1(
        device,
        topics.telemetry(CITY, b),
        JSON.stringify({ ts: T0 + i * 1000, seq: i, values: { pm25: 15 } }),
      );
    }
    const h = await healthUntil(gateway, (x) => !writer(x).ok, 'the writer not ok');
    expect(h.status).toBe('degraded');
    // The ping of /health or the first failed write, whichever comes first, names the cause.
    expect(writer(h).detail.reason).toMatch(/^store (writes failing|not reachable): .*ECONNREFUSED/);
    await healthUntil(
      gateway,
      (x) => /^store writes failing: .*; retrying in \d+ ms$/.test(writer(x).detail.reason ?? ''),
      'the failed write reported',
    );
    await influx.restart();
    await healthUntil(gateway, (x) => x.status === 'ok', 'status ok');
    expect(await gateway.flush(30_000)).toBe(true);
    expect(await count()).toBe(15);
    expect(readdirSync(join(dir, 'spool')).filter((f) => f.startsWith('quarantine'))).toEqual([]);
  });
});
