import { join } from 'node:path';
import { filters, parseDeadLetter, parseReadingsBatch, topics } from '@cnx/protocol';
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
import { chiangMaiAirDevices, collect, connect, publishQos1, startTestGateway } from './helpers';
import { onContract } from './modbus/helpers';

const CITY = 'chiang-mai';
// Recent device time (older readings are legitimately flagged `stale`), on a whole minute.
const T0 = Math.floor(Date.now() / 60_000) * 60_000 - 30 * 60_000;

describe('gateway against real Mosquitto and InfluxDB', () => {
  let broker: MosquittoHandle;
  let influx: InfluxDBHandle;
  let dir: string;
  let gateway: Gateway;
  let device: MqttClient;
  let observer: MqttClient;
  let devices: string[];

  beforeAll(async () => {
    [broker, influx, dir, devices] = await Promise.all([
      startMosquitto(),
      startInfluxDB({ database: 'gw_it' }),
      makeTempDir(),
      chiangMaiAirDevices(),
    ]);
    gateway = await startTestGateway({
      GATEWAY_MQTT_URL: broker.url,
      INFLUX_URL: influx.url,
      INFLUX_DB: 'gw_it',
      CNX_DATA_DIR: dir,
      GATEWAY_SPOOL_DIR: join(dir, 'spool'),
    });
    device = await connect(broker.url, 'test-device');
    observer = await connect(broker.url, 'test-observer');
  });

  afterAll(async () => {
    device?.end(true);
    observer?.end(true);
    await gateway?.stop();
    await Promise.all([broker?.stop(), influx?.stop()]);
    if (dir) await removeDir(dir);
  });

  it('validates, flags, stores and republishes readings', async () => {
    const bus = await collect(observer, filters.allReadings(CITY));
    const [a, b] = devices as [string, string];
    const msgs = [
      { id: a, body: { ts: T0, seq: 1, values: { pm1: 20, pm25: 31.5, pm10: 44, temperature: 24, humidity: 60 } } },
      {
        id: a,
        body: { ts: T0 + 60_000, seq: 2, values: { pm1: 21, pm25: 33.1, pm10: 45, temperature: 24, humidity: 92 } },
      },
      { id: b, body: { ts: T0, seq: 1, values: { pm25: 1200, humidity: 40 } } },
    ];
    for (const m of msgs) await publishQos1(device, topics.telemetry(CITY, m.id), JSON.stringify(m.body));
    await bus.waitForReadings(3);
    // The producer's output is what the bus contract describes (the API and alerts parse with it).
    for (const m of bus.messages) expect(onContract(parseReadingsBatch, m).readings.length).toBeGreaterThan(0);
    expect(await gateway.flush(15_000)).toBe(true);

    const res = await influx.query(`SELECT * FROM reading WHERE time >= ${T0}ms AND time < ${T0 + 3_600_000}ms`);
    const series = res.results[0]?.series?.[0];
    expect(series?.values).toHaveLength(3);
    const col = (name: string) => series!.columns.indexOf(name);
    const rows = series!.values.map((v) => ({
      device: v[col('device')],
      seq: v[col('seq')],
      qc: v[col('qc')],
      pm25: v[col('pm25')],
      corrected: v[col('pm25_corrected')],
    }));
    const byKey = new Map(rows.map((r) => [`${r.device}/${r.seq}`, r]));
    expect(byKey.get(`${a}/1`)?.qc).toBe('');
    expect(byKey.get(`${a}/2`)?.qc).toContain('humidity');
    expect(byKey.get(`${b}/1`)?.qc).toContain('range');
    // Raw and EPA-corrected PM2.5 are both kept.
    expect(byKey.get(`${a}/1`)?.pm25).toBe(31.5);
    expect(typeof byKey.get(`${a}/1`)?.corrected).toBe('number');

    const normalized = bus.readings();
    expect(normalized.map((n) => n.device).sort()).toEqual([a, a, b].sort());
    expect(normalized.every((n) => n.city === CITY && n.kind === 'air' && n.station.length > 0)).toBe(true);
  });

  it('dead-letters every kind of bad input with its reason, and keeps accepting good input', async () => {
    const dl = await collect(observer, filters.allDeadletter(CITY));
    const [a] = devices as [string];
    const bad: [string, string, string | Buffer][] = [
      ['malformed_json', a, '{"ts": 17'],
      ['unknown_device', 'ghost-device', JSON.stringify({ ts: T0, values: { pm25: 1 } })],
      ['schema_violation', a, JSON.stringify({ ts: T0, values: { pm25: 'high' } })],
      ['unit_mismatch', a, JSON.stringify({ ts: T0, values: { temperature: 80 }, units: { temperature: 'degF' } })],
      ['impossible_value', a, JSON.stringify({ ts: T0, values: { humidity: 150 } })],
      ['bad_timestamp', a, JSON.stringify({ ts: 1_700_000, values: { pm25: 1 } })],
      ['payload_too_large', a, JSON.stringify({ ts: T0, values: { pm25: 1 }, fw: 'x'.repeat(40_000) })],
      // Beyond what the MQTT decoder buffers at all (payload limit + largest header): skipped as it
      // streams by, acknowledged, dead-lettered with its head; the connection stays up.
      ['payload_too_large', a, JSON.stringify({ ts: T0, values: { pm25: 1 }, fw: 'y'.repeat(300_000) })],
      ['invalid_utf8', a, Buffer.from([0x7b, 0xff, 0xfe, 0x7d])],
    ];
    for (const [, id, payload] of bad) await publishQos1(device, topics.telemetry(CITY, id), payload);
    await dl.waitFor(bad.length);
    const letters = dl.messages.map((m) => onContract(parseDeadLetter, m));
    expect(letters.map((l) => l.reason)).toEqual(bad.map(([reason]) => reason));
    for (const l of letters) expect(l.message.length).toBeGreaterThan(10);
    const tooLarge = letters.filter((l) => l.reason === 'payload_too_large');
    expect(tooLarge.map((l) => [l.truncated, l.payload.length])).toEqual([
      [true, 2048],
      [true, 2048],
    ]);
    expect(tooLarge[1]?.message).toContain(`${Buffer.byteLength(bad[7]![2])} bytes`);
    expect(tooLarge[1]?.payload.startsWith('{"ts":')).toBe(true);
    expect(letters.find((l) => l.reason === 'invalid_utf8')?.encoding).toBe('base64');
    expect(dl.messages.find((m) => m.payload.includes('unknown_device'))?.topic).toBe(
      topics.deadletter(CITY, 'ghost-device'),
    );

    // Still alive and still storing.
    const bus = await collect(observer, filters.allReadings(CITY));
    await publishQos1(
      device,
      topics.telemetry(CITY, a),
      JSON.stringify({ ts: T0 + 120_000, seq: 3, values: { pm25: 40, humidity: 50 } }),
    );
    await bus.waitForReadings(1);
    expect(await gateway.flush(15_000)).toBe(true);
    const res = await influx.query(
      `SELECT count(qc) FROM reading WHERE time >= ${T0}ms AND time < ${T0 + 3_600_000}ms`,
    );
    expect(res.results[0]?.series?.[0]?.values[0]?.[1]).toBe(4);
  });

  it('reports health and Prometheus metrics, with rejections counted by reason', async () => {
    const base = gateway.addresses.http;
    const health = await fetch(`${base}/health`);
    expect(health.status).toBe(200);
    const body = (await health.json()) as { status: string };
    expect(body.status).toBe('ok');
    const text = await (await fetch(`${base}/metrics`)).text();
    expect(text).toMatch(/gateway_messages_rejected_total\{reason="malformed_json"\} 1\b/);
    expect(text).toMatch(/gateway_messages_rejected_total\{reason="unknown_device"\} 1\b/);
    // Exactly 2: an unacknowledged (or connection-breaking) oversized message would come back.
    expect(text).toMatch(/gateway_messages_rejected_total\{reason="payload_too_large"\} 2\b/);
    expect(text).toMatch(/gateway_mqtt_reconnects_total 0\b/);
    expect(text).toMatch(/gateway_readings_written_total 4\b/);
    expect(text).toMatch(/gateway_qc_flags_total\{flag="humidity"\} 1\b/);
    expect(text).toMatch(/gateway_store_write_duration_seconds_count [1-9]/);
  });
});
