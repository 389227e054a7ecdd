import { join } from 'node:path';
import { createFleet, type Fleet, loadCityFleet, type MalformedKind, type PublishedEvent } from '@cnx/firmware-sim';
import { type DeadLetterPayload, filters } from '@cnx/protocol';
import {
  type InfluxDBHandle,
  type MosquittoHandle,
  makeTempDir,
  removeDir,
  startInfluxDB,
  startMosquitto,
} from '@cnx/testkit';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GatewayProcess } from '../src/gateway-process';
import { storedRows } from '../src/influx';

const CITY = 'chiang-mai';

/** What the gateway must answer to each malformed kind the simulator produces (JSON devices). */
const EXPECTED_REASON: Record<MalformedKind, string> = {
  invalid_json: 'malformed_json',
  not_an_object: 'senml_invalid', // a top-level JSON array is read as a SenML pack
  wrong_types: 'schema_violation',
  missing_ts: 'schema_violation',
  bad_ts: 'bad_timestamp',
  missing_values: 'schema_violation',
  unit_mismatch: 'unit_mismatch',
  negative_value: 'impossible_value',
  out_of_range: 'impossible_value',
  binary_garbage: 'invalid_utf8',
  empty: 'malformed_json',
};

describe('end to end: simulator -> Mosquitto -> gateway -> InfluxDB', () => {
  let broker: MosquittoHandle;
  let influx: InfluxDBHandle;
  let dir: string;
  let gateway: GatewayProcess;
  let observer: MqttClient;
  const deadLetters: DeadLetterPayload[] = [];

  beforeAll(async () => {
    [broker, influx, dir] = await Promise.all([startMosquitto(), startInfluxDB({ database: 'e2e' }), makeTempDir()]);
    gateway = new GatewayProcess({
      GATEWAY_MQTT_URL: broker.url,
      INFLUX_URL: influx.url,
      INFLUX_DB: 'e2e',
      CNX_DATA_DIR: dir,
      GATEWAY_SPOOL_DIR: join(dir, 'spool'),
    });
    await gateway.start();
    observer = await mqtt.connectAsync(broker.url, { clientId: 'e2e-observer' });
    observer.on('message', (_t, payload) => deadLetters.push(JSON.parse(payload.toString()) as DeadLetterPayload));
    await observer.subscribeAsync(filters.allDeadletter(CITY), { qos: 1 });
  });

  afterAll(async () => {
    await observer?.endAsync();
    await gateway?.stop();
    await Promise.all([broker?.stop(), influx?.stop()]);
    if (dir) await removeDir(dir);
  });

  it('stores every valid simulated reading once, with QC flags, and dead-letters every malformed one with its reason', async () => {
    const { devices } = await loadCityFleet(CITY, { limit: 8 });
    const ids = devices.map((d) => d.id);
    const simStart = Date.now() - 30 * 60_000;
    const accepted0 = (await gateway.metric('gateway_readings_accepted_total')) ?? 0;
    const fleet: Fleet = createFleet({
      city: CITY,
      devices,
      mqtt: { url: broker.url },
      scenario: 'haze',
      seed: 7,
      timeScale: 60,
      interval: '10s',
      simStart,
      format: 'mixed',
      maxMessages: 480,
      faults: [
        { device: ids[0]!, mode: 'malformed', nth: 3 },
        { device: ids[2]!, mode: 'stuck' },
        { device: ids[4]!, mode: 'clock-skew', offset: '45m' },
        { device: ids[6]!, mode: 'spike', probability: 0.3 },
      ],
    });
    const published = new Map<string, PublishedEvent>();
    fleet.on('published', (e) => published.set(`${e.deviceId}/${e.seq}`, e));
    const acked = new Set<string>();
    fleet.on('acked', (e) => acked.add(`${e.deviceId}/${e.seq}`));
    await fleet.start();
    await fleet.finished;
    await fleet.stop();

    const sent = [...published.entries()].filter(([key]) => acked.has(key)).map(([, e]) => e);
    const valid = sent.filter((e) => !e.malformed);
    const malformed = sent.filter((e) => e.malformed);
    expect(valid.length).toBeGreaterThan(300);
    expect(malformed.length).toBeGreaterThan(10);

    // Acknowledged by the broker is not yet received by the gateway: wait for every valid one.
    await gateway.drained({ gateway_readings_accepted_total: accepted0 + valid.length });
    const rows = await storedRows(influx, simStart - 3_600_000, Date.now() + 3_600_000);
    // Nothing lost, nothing duplicated: exactly the valid readings, keyed by (device, device time).
    const key = (device: string, ts: number) => `${device}@${ts}`;
    expect(rows.map((r) => key(r.device, r.ts)).sort()).toEqual(valid.map((e) => key(e.deviceId, e.ts)).sort());

    // QC flags reach the store.
    const flagsOf = (device: string) =>
      new Set(rows.filter((r) => r.device === device).flatMap((r) => r.qc.split(',').filter(Boolean)));
    expect(flagsOf(ids[2]!).has('stuck')).toBe(true);
    expect(flagsOf(ids[4]!).has('future')).toBe(true);
    expect(flagsOf(ids[6]!).has('spike')).toBe(true);
    expect(flagsOf(ids[1]!).has('future')).toBe(false);

    // Each malformed message was dead-lettered with the reason its kind calls for.
    const deadline = Date.now() + 10_000;
    while (deadLetters.length < malformed.length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(deadLetters.map((d) => d.reason)).toEqual(malformed.map((e) => EXPECTED_REASON[e.malformed!]));
    expect(deadLetters.every((d) => d.topic.endsWith(`/${ids[0]}/telemetry`))).toBe(true);

    const rejected = await gateway.metric('gateway_messages_rejected_total{reason="malformed_json"}');
    expect(rejected).toBe(malformed.filter((e) => EXPECTED_REASON[e.malformed!] === 'malformed_json').length);
    expect((await gateway.health()).status).toBe('ok');
  });
});
