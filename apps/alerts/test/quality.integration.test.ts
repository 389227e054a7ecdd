/**
 * Alerts on clean, live data only (issue: a red pm25-1h alert fired at 1319 µg/m³ from readings the
 * gateway itself had flagged, while the API's 1-hour mean said 18.7). Normalised readings go over
 * the real broker exactly as the gateway republishes them; the service's clock follows the readings
 * (each batch is published when its last reading is "now"), so the default live window applies.
 */
import { Writable } from 'node:stream';
import type { QcFlag } from '@cnx/domain';
import type { NormalizedReadingPayload } from '@cnx/protocol';
import { createLogger } from '@cnx/runtime';
import { type MosquittoHandle, makeTempDir, removeDir, startMosquitto } from '@cnx/testkit';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AlertsService, loadAlertsConfig } from '../src/index';
import { waitFor } from './helpers';
import { busReading, publishBatch } from './process';

const MIN = 60_000;
const HOUR = 60 * MIN;
/** 2026-12-07 09:00 Thai time: each test starts its own day after the previous one. */
const T0 = Date.UTC(2026, 11, 7, 2, 0);

let clock = T0;
let broker: MosquittoHandle;
let service: AlertsService;
let dir: string;
let pub: MqttClient;
let base: string;
const events: { topic: string; type: string; level: string | null; value: number | null }[] = [];
const logLines: Record<string, unknown>[] = [];

beforeAll(async () => {
  broker = await startMosquitto();
  dir = await makeTempDir('cnx-alerts-quality-');
  const sink = new Writable({
    write(chunk, _enc, done) {
      for (const line of String(chunk).split('\n')) if (line) logLines.push(JSON.parse(line));
      done();
    },
  });
  service = new AlertsService(
    loadAlertsConfig({
      CNX_DATA_DIR: dir,
      ALERTS_MQTT_URL: broker.url,
      ALERTS_HTTP_PORT: '0',
      ALERTS_TICK_MS: '3600000',
      ALERTS_DISPATCH_POLL_MS: '20',
    }),
    createLogger('alerts-quality-test', 'info', sink),
    () => clock,
  );
  await service.start();
  base = `http://127.0.0.1:${service.port}`;
  pub = await mqtt.connectAsync(broker.url, { clientId: 'quality-it' });
  await pub.subscribeAsync('cnx/v1/chiang-mai/alerts/#', { qos: 1 });
  pub.on('message', (topic, payload) => {
    const ev = JSON.parse(payload.toString()) as { type: string; level: string | null; value: number | null };
    events.push({ topic, type: ev.type, level: ev.level, value: ev.value });
  });
});

afterAll(async () => {
  await pub?.endAsync();
  await service?.stop();
  await broker?.stop();
  if (dir) await removeDir(dir);
});

async function metric(name: string): Promise<number> {
  const body = await (await fetch(`${base}/metrics`)).text();
  return Number(new RegExp(`^${name} (\\d+)$`, 'm').exec(body)?.[1] ?? Number.NaN);
}

let published = 0;
/** Publish in batches of ten, each when its last reading is "now" (the gateway's flushes, in time). */
async function publishLive(readings: NormalizedReadingPayload[]): Promise<void> {
  for (let i = 0; i < readings.length; i += 10) {
    const batch = readings.slice(i, i + 10);
    clock = batch[batch.length - 1]!.ts + 5_000;
    published += batch.length;
    await publishBatch(pub, batch);
    // The next batch is "later": wait until this one is evaluated at its own time.
    await waitFor(async () => (await metric('alerts_readings_total')) === published, `${published} readings`);
  }
}

const STATION = (n: string) => `cm-air-${n}`;
const air = (station: string, ts: number, pm25: number, qc: QcFlag[] = []): NormalizedReadingPayload => ({
  ...busReading(station, `${station}-pms`, 'air', 'old-city', ts, { pm25, humidity: 60 }),
  qc,
});
const on = (station: string) => events.filter((e) => e.topic === `cnx/v1/chiang-mai/alerts/pm25-1h/${station}`);

describe('alerts on clean, live data', () => {
  it('the spike fault during clean air raises nothing (flagged readings never enter a signal)', async () => {
    const station = STATION('oldcity-01');
    const start = clock;
    // Two hours of clean air at 18-22 µg/m³, one reading a minute; every 4th reading is a 1300
    // µg/m³ spike the gateway flagged (range + spike), as with the simulator's `spike` fault.
    const readings = Array.from({ length: 120 }, (_, i) =>
      i % 4 === 3
        ? air(station, start + i * MIN, 1300, ['range', 'spike'])
        : air(station, start + i * MIN, 18 + (i % 5)),
    );
    const suspectBefore = await metric('alerts_readings_suspect_total');
    const eventsBefore = await metric('alerts_events_total');
    await publishLive(readings);
    expect(await metric('alerts_readings_suspect_total')).toBe(suspectBefore + 30);
    // Transitions are recorded in the same transaction as the readings: none, so nothing to send.
    expect(await metric('alerts_events_total')).toBe(eventsBefore);
    expect(on(station)).toEqual([]);
    expect(logLines.filter((l) => l.msg === 'alert state change' && l.station === station)).toEqual([]);
  });

  it('a real sustained rise raises the right level once, logged at info with its basis', async () => {
    const station = STATION('oldcity-02');
    const start = clock + HOUR;
    // 30 min clean, then 90 min of smoke at 55-60 µg/m³ (orange: 37.6-75.0), humid (annotated only).
    const readings = Array.from({ length: 120 }, (_, i) =>
      i < 30 ? air(station, start + i * MIN, 20) : air(station, start + i * MIN, 55 + (i % 6), ['humidity']),
    );
    await publishLive(readings);
    await waitFor(() => on(station).length > 0, 'the orange alert');
    expect(on(station).map((e) => `${e.type}:${e.level}`)).toEqual(['raised:orange']);
    const line = logLines.find((l) => l.msg === 'alert state change' && l.station === station);
    expect(line).toMatchObject({
      level: 30, // info
      transition: 'raised',
      rule: 'pm25-1h',
      alertLevel: 'orange',
      subject: station,
      basis: expect.stringContaining('QC-usable'),
      windowMin: 60,
    });
    expect(line!.value).toBeGreaterThan(37.6);
    expect(line!.readings).toBeGreaterThan(30);
  });

  it('a frozen DO probe does not silence the canal level: flags are judged per metric', async () => {
    const station = 'cm-canal-changphueak';
    const start = clock + HOUR;
    // Twenty minutes of one poll a minute: the level climbs past warning (1.4 m) while the DO probe
    // repeats 4.37 and the gateway flags the readings `stuck` on `do` alone.
    const readings = Array.from({ length: 20 }, (_, i) => ({
      ...busReading(station, `${station}-probe`, 'canal', 'chang-phueak', start + i * MIN, {
        water_level: 1.2 + i * 0.03,
        do: 4.37,
      }),
      qc: ['stuck'] as QcFlag[],
      qcMetrics: ['do' as const],
    }));
    await publishLive(readings);
    const level = () => events.filter((e) => e.topic === `cnx/v1/chiang-mai/alerts/canal-level/${station}`);
    await waitFor(() => level().length > 0, 'the canal-level warning');
    expect(level().map((e) => `${e.type}:${e.level}`)).toEqual(['raised:warning']);
  });

  it('history, replays and stale deliveries never step a rule; the next live reading does', async () => {
    const station = STATION('nimman-01');
    const now = clock + HOUR;
    clock = now;
    // A red episode from three days ago, uploaded now (clean readings, not live by their own time).
    const old = Array.from({ length: 120 }, (_, i) => air(station, now - 3 * 24 * HOUR + i * MIN, 150));
    const notLiveBefore = await metric('alerts_readings_not_live_total');
    const eventsBefore = await metric('alerts_events_total');
    published += old.length;
    await publishBatch(pub, old);
    await waitFor(async () => (await metric('alerts_readings_total')) === published, 'history taken in');
    expect(await metric('alerts_readings_not_live_total')).toBe(notLiveBefore + 120);
    // A stale-flagged delivery of today's smoke is suspect and not live either.
    published += 1;
    await publishBatch(pub, [air(station, now - 2 * HOUR, 400, ['stale'])]);
    await waitFor(async () => (await metric('alerts_readings_total')) === published, 'stale taken in');
    // Then live air: an hour of clean readings raises nothing (the history is not "the last hour").
    await publishLive(Array.from({ length: 60 }, (_, i) => air(station, now + i * MIN, 20)));
    expect(await metric('alerts_events_total')).toBe(eventsBefore);
    // And live smoke after it steps the rule as usual: orange after its 30 minutes.
    const later = now + 60 * MIN;
    await publishLive(Array.from({ length: 60 }, (_, i) => air(station, later + i * MIN, 55 + (i % 6))));
    await waitFor(() => on(station).length > 0, 'the orange alert after the history');
    expect(on(station).map((e) => `${e.type}:${e.level}`)).toEqual(['raised:orange']);
  });
});
