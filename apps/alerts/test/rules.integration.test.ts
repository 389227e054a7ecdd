/**
 * The Chiang Mai rules that were only unit-tested (packages/domain/src/alerts/engine.test.ts) — low
 * dissolved oxygen, canal rate of rise, stuck sensor, station offline — through the running service:
 * normalised readings are published on the real broker exactly as the gateway republishes them
 * (`cnx/v1/{city}/readings`, readingsBatchJson, QoS 1) and the alert events are read back from the
 * service's MQTT alert topics. The clock is injected; the offline rule is driven by the service's tick.
 */
import { createLogger } from '@cnx/runtime';
import { type MosquittoHandle, makeTempDir, removeDir, startMosquitto } from '@cnx/testkit';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AlertsService, loadAlertsConfig } from '../src/index';
import { waitFor } from './helpers';
import { busReading, publishBatch } from './process';

const MIN = 60_000;
/** 2025-03-10 10:00 Thai time: data runs up to here, then the clock moves for the offline rule. */
const T = Date.UTC(2025, 2, 10, 3, 0);

let clock = T;
let broker: MosquittoHandle;
let service: AlertsService;
let dir: string;
let pub: MqttClient;
let base: string;
interface AlertEvent {
  type: string;
  rule: string;
  level: string | null;
  severity: string | null;
  value: number | null;
  ts: number;
  subject: { id: string };
}
const seen: { topic: string; ev: AlertEvent }[] = [];

beforeAll(async () => {
  broker = await startMosquitto();
  dir = await makeTempDir('cnx-alerts-rules-');
  service = new AlertsService(
    loadAlertsConfig({
      CNX_DATA_DIR: dir,
      // The episodes below replay hours of readings in seconds: readings up to 10 h old still step the
      // rules here (live-window behaviour itself: quality.integration.test.ts).
      ALERTS_LIVE_WINDOW_MIN: '600',
      ALERTS_MQTT_URL: broker.url,
      ALERTS_HTTP_PORT: '0',
      ALERTS_TICK_MS: '3600000', // the test runs the tick after moving the clock
      ALERTS_DISPATCH_POLL_MS: '20',
    }),
    createLogger('alerts-rules-test', 'warn'),
    () => clock,
  );
  await service.start();
  base = `http://127.0.0.1:${service.port}`;
  pub = await mqtt.connectAsync(broker.url, { clientId: 'rules-it' });
  await pub.subscribeAsync('cnx/v1/chiang-mai/alerts/#', { qos: 1 });
  pub.on('message', (topic, payload) => seen.push({ topic, ev: JSON.parse(payload.toString()) as AlertEvent }));
});

afterAll(async () => {
  await pub?.endAsync();
  await service?.stop();
  await broker?.stop();
  if (dir) await removeDir(dir);
});

let published = 0;
/** Publish as the gateway does, counting readings (the service's alerts_readings_total must reach it). */
async function publish(readings: Parameters<typeof publishBatch>[1]): Promise<void> {
  published += readings.length;
  await publishBatch(pub, readings);
}
/** Until the service has evaluated every reading published so far. */
const evaluated = () =>
  waitFor(async () => {
    const body = await (await fetch(`${base}/metrics`)).text();
    return Number(/^alerts_readings_total (\d+)$/m.exec(body)?.[1]) === published;
  }, `${published} readings evaluated`);

const on = (rule: string, station: string) =>
  seen.filter((s) => s.topic === `cnx/v1/chiang-mai/alerts/${rule}/${station}`).map((s) => s.ev);
const sequence = (rule: string, station: string) => on(rule, station).map((e) => `${e.type}:${e.level ?? '-'}`);

/** Readings every `stepMin` (default 5) minutes ending at T, one value function per metric. */
function series(
  station: string,
  device: string,
  kind: 'air' | 'canal',
  district: string,
  n: number,
  values: (i: number) => Record<string, number>,
  stepMin = 5,
) {
  return Array.from({ length: n }, (_, i) =>
    busReading(station, device, kind, district, T - (n - 1 - i) * stepMin * MIN, values(i)),
  );
}

describe('rules through the real broker', () => {
  it('dissolved oxygen below the class-4 minimum (2.0 mg/L) for an hour raises; a shorter dip does not', async () => {
    // 30 min at 5.0, a 35-minute dip to 1.6 (under an hour: nothing), 30 min at 4.5, 70 min at 1.5
    // (raised after 60 min), 20 min at 2.2 (within the 0.3 hysteresis: still low), 35 min at 4.0
    // (cleared after 30 min above 2.3).
    const plan = [
      ...Array(6).fill(5.0),
      ...Array(8).fill(1.6),
      ...Array(6).fill(4.5),
      ...Array(15).fill(1.5),
      ...Array(4).fill(2.2),
      ...Array(8).fill(4.0),
    ] as number[];
    const readings = series('cm-canal-sriphum', 'cm-canal-sriphum-probe', 'canal', 'tha-phae', plan.length, (i) => ({
      do: plan[i]!,
      water_level: 0.8,
      ph: 7.1,
    }));
    // In several bus messages, as the gateway flushes them.
    for (let i = 0; i < readings.length; i += 10) await publish(readings.slice(i, i + 10));
    await waitFor(() => sequence('do-low', 'cm-canal-sriphum').includes('cleared:-'), 'DO cleared');
    expect(sequence('do-low', 'cm-canal-sriphum')).toEqual(['raised:below-class-4', 'cleared:-']);
    const [raised, cleared] = on('do-low', 'cm-canal-sriphum');
    const firstLow = readings[20]!.ts; // the first 1.5 of the long episode
    expect(raised).toMatchObject({ value: 1.5, severity: 'warning', ts: firstLow + 60 * MIN });
    expect(cleared!.ts).toBe(readings[39]!.ts + 30 * MIN); // 30 min after the first 4.0
  });

  it('a canal rising faster than 0.3 m/h for 10 minutes raises "rising fast"; a slow rise does not', async () => {
    // 30 min flat at 0.60 m, 40 min rising 0.2 m/h (slow), 40 min rising 0.9 m/h (fast), 50 min flat,
    // one reading a minute. The rise signal is the lower end of the slope's 95 % interval and needs
    // ≥ 10 readings spanning ≥ 15 min in the rule's 30-minute window (signals.ts canalRiseSignal):
    // readings every 5 minutes (7 per window) would never give one; the probes poll every minute.
    const levels: number[] = [];
    let level = 0.6;
    for (let i = 0; i < 31; i++) levels.push(level);
    for (const rate of [0.2, 0.9])
      for (let i = 0; i < 40; i++) {
        level += rate / 60;
        levels.push(level);
      }
    for (let i = 0; i < 50; i++) levels.push(level);
    const readings = series(
      'cm-canal-rakaeng',
      'cm-canal-rakaeng-probe',
      'canal',
      'chang-khlan',
      levels.length,
      (i) => ({
        water_level: Math.round(levels[i]! * 1000) / 1000,
        do: 5,
      }),
      1,
    );
    // In several bus messages, as the gateway flushes them.
    for (let i = 0; i < readings.length; i += 40) await publish(readings.slice(i, i + 40));
    await waitFor(() => sequence('canal-rise', 'cm-canal-rakaeng').includes('cleared:-'), 'rise cleared');
    expect(sequence('canal-rise', 'cm-canal-rakaeng')).toEqual(['raised:fast', 'cleared:-']);
    const raised = on('canal-rise', 'cm-canal-rakaeng')[0]!;
    const fastStart = readings[71]!.ts;
    // Not during the slow rise, and not before the fast one is established and held for 10 minutes.
    expect(raised.ts).toBeGreaterThanOrEqual(fastStart + 10 * MIN);
    expect(raised.value).toBeGreaterThanOrEqual(0.3);
    expect(raised.value).toBeLessThanOrEqual(0.9 + 1e-6);
    // The level itself stayed under the warning level (1.75 m): no level alert.
    expect(sequence('canal-level', 'cm-canal-rakaeng')).toEqual([]);
  });

  it('a PM2.5 sensor repeating one value for 2 hours is "stuck"; it clears when the value moves', async () => {
    // 60 min varying, 130 min at exactly 16.0, then varying again for 20 min.
    const plan = [
      ...Array.from({ length: 12 }, (_, i) => 15 + (i % 4)),
      ...Array(27).fill(16.0),
      ...Array.from({ length: 4 }, (_, i) => 17 + i),
    ] as number[];
    const readings = series('cm-air-cmu-01', 'cm-air-cmu-01-pms', 'air', 'cmu', plan.length, (i) => ({
      pm25: plan[i]!,
      humidity: 60 + (i % 5),
    }));
    await publish(readings);
    await waitFor(() => sequence('pm25-stuck', 'cm-air-cmu-01').includes('cleared:-'), 'stuck cleared');
    expect(sequence('pm25-stuck', 'cm-air-cmu-01')).toEqual(['raised:stuck', 'cleared:-']);
    const raised = on('pm25-stuck', 'cm-air-cmu-01')[0]!;
    // The run of 16.0 starts at index 12 (index 11 is 18): 120 minutes later is index 36.
    expect(raised).toMatchObject({ value: 120, severity: 'info', ts: readings[36]!.ts });
    expect(sequence('pm25-1h', 'cm-air-cmu-01')).toEqual([]); // clean air: no smoke alert
  });

  it('a station silent for 30 minutes is offline (on the tick); its next reading clears it', async () => {
    await publish(series('cm-air-nimman-01', 'cm-air-nimman-01-pms', 'air', 'nimman', 6, (i) => ({ pm25: 20 + i })));
    // Another station reports 20 minutes later.
    await publish([
      busReading('cm-air-oldcity-01', 'cm-air-oldcity-01-pms', 'air', 'old-city', T + 20 * MIN, { pm25: 22 }),
    ]);
    await evaluated();
    // The tick returns the deliveries it queued: every transition queues its bus message.
    clock = T + 29 * MIN;
    expect(service.tick()).toBe(0); // 29 minutes: nobody is offline yet
    expect(sequence('station-offline-air', 'cm-air-nimman-01')).toEqual([]); // 29 min: not yet

    clock = T + 31 * MIN;
    // Offline now: nimman and cmu (air), sriphum and rakaeng (canal); not Old City (heard 11 min ago).
    expect(service.tick()).toBe(4);
    await waitFor(() => sequence('station-offline-air', 'cm-air-nimman-01').length > 0, 'offline raised');
    expect(on('station-offline-air', 'cm-air-nimman-01')[0]).toMatchObject({
      type: 'raised',
      level: 'offline',
      severity: 'info',
      value: 31,
      ts: T + 31 * MIN,
    });
    // The public list shows it, without personal data.
    const list = (await (await fetch(`${base}/v1/alerts`)).json()) as {
      current: { rule: string; subject: { id: string } }[];
    };
    expect(list.current).toContainEqual(
      expect.objectContaining({
        rule: 'station-offline-air',
        status: 'active',
        subject: expect.objectContaining({ id: 'cm-air-nimman-01' }),
      }),
    );

    clock = T + 32 * MIN;
    await publish([busReading('cm-air-nimman-01', 'cm-air-nimman-01-pms', 'air', 'nimman', clock, { pm25: 21 })]);
    await evaluated();
    expect(service.tick()).toBe(1); // nimman cleared; the others are still offline (no repeat)
    await waitFor(() => sequence('station-offline-air', 'cm-air-nimman-01').includes('cleared:-'), 'offline cleared');
    expect(sequence('station-offline-air', 'cm-air-nimman-01')).toEqual(['raised:offline', 'cleared:-']);
    // Old City reported 11 minutes before: never offline.
    expect(sequence('station-offline-air', 'cm-air-oldcity-01')).toEqual([]);
  });
});
