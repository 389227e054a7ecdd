import { hourStart, rolling24hMean, roundMetric } from '@cnx/domain';
import { Gateway, loadGatewayConfig } from '@cnx/gateway';
import { topics } from '@cnx/protocol';
import { createLogger } from '@cnx/runtime';
import {
  type InfluxDBHandle,
  type MosquittoHandle,
  makeTempDir,
  removeDir,
  startInfluxDB,
  startMosquitto,
} from '@cnx/testkit';
import { parse } from 'csv-parse/sync';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadApiConfig } from '../src/config';
import { ApiServer } from '../src/server';
import { HOUR, MIN } from './helpers';
import { openSse } from './sse';

const CITY = 'chiang-mai';
const AIR = [
  { station: 'cm-air-oldcity-01', device: 'cm-air-oldcity-01-pms', base: 30 },
  { station: 'cm-air-nimman-01', device: 'cm-air-nimman-01-pms', base: 60 },
];
const CANAL = { station: 'cm-canal-sriphum', device: 'cm-canal-sriphum-probe' };
const log = createLogger('api-it', process.env.TEST_LOG_LEVEL ?? 'warn');

function publishQos1(client: MqttClient, topic: string, payload: string): Promise<void> {
  return new Promise((resolve, reject) =>
    client.publish(topic, payload, { qos: 1 }, (e) => (e ? reject(e) : resolve())),
  );
}

async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/**
 * The API over data that went the production way: device -> real Mosquitto -> the gateway (in
 * process) -> store, and the gateway's bus republish -> the API's live stream. The same tests run on
 * a real InfluxDB 1.x and on the embedded SQLite file (opened read-only beside the gateway).
 */
describe.each(['influxdb', 'sqlite'] as const)('API over the gateway path (%s)', (backend) => {
  let broker: MosquittoHandle;
  let influx: InfluxDBHandle | undefined;
  let dir: string;
  let gateway: Gateway;
  let api: ApiServer;
  let device: MqttClient;
  // Readings end a minute ago, on whole minutes, and go back 25 hours.
  const end = Math.floor(Date.now() / MIN) * MIN - MIN;
  const published = new Map<string, number[]>();

  const get = async (path: string) => {
    const res = await fetch(`${api.url}${path}`);
    const json = res.headers.get('content-type')?.startsWith('application/json');
    // biome-ignore lint/suspicious/noExplicitAny: bodies are checked field by field
    const body: any = json ? await res.json() : await res.text();
    return { res, body };
  };

  beforeAll(async () => {
    [broker, influx, dir] = await Promise.all([
      startMosquitto(),
      backend === 'influxdb' ? startInfluxDB({ database: 'api_it' }) : Promise.resolve(undefined),
      makeTempDir('cnx-api-it-'),
    ]);
    const storeEnv: Record<string, string> = influx ? { INFLUX_URL: influx.url, INFLUX_DB: 'api_it' } : {};
    gateway = new Gateway(
      loadGatewayConfig({
        GATEWAY_MQTT_URL: broker.url,
        CNX_DATA_DIR: dir,
        GATEWAY_HTTP_PORT: '0',
        GATEWAY_FLUSH_MS: '20',
        ...storeEnv,
      }),
      log,
    );
    await gateway.start();
    api = new ApiServer(
      loadApiConfig({
        API_MAX_EVENT_LOOP_DELAY_MS: '0',
        API_PORT: '0',
        CNX_DATA_DIR: dir,
        API_MQTT_URL: broker.url,
        API_CACHE_TTL_S: '0',
        API_RATE_LIMIT_MAX: '100000',
        ...storeEnv,
      }),
      log,
    );
    await api.start();
    device = mqtt.connect(broker.url, { clientId: `api-it-device-${backend}` });
    await new Promise<void>((resolve, reject) => {
      device.once('connect', () => resolve());
      device.once('error', reject);
    });
    let seq = 0;
    for (const a of AIR) {
      const times: number[] = [];
      for (let ts = end - 25 * HOUR; ts <= end; ts += 10 * MIN) {
        const h = (end - ts) / HOUR;
        const pm25 = Math.round((a.base + h + (seq % 3) * 0.3) * 10) / 10; // smooth: no spike, never stuck
        const values = { pm25, pm10: Math.round(pm25 * 14) / 10, humidity: 60 + (seq % 5), temperature: 29 };
        // The day before the last hour is the device's logged history, uploaded now on its history
        // topic (a late delivery on the telemetry topic would be flagged stale and count for nothing).
        const topic = ts < end - 50 * MIN ? topics.history(CITY, a.device) : topics.telemetry(CITY, a.device);
        await publishQos1(device, topic, JSON.stringify({ ts, seq: seq++, values }));
        times.push(ts);
      }
      published.set(a.station, times);
    }
    const canalTimes: number[] = [];
    for (let ts = end - 70 * MIN; ts <= end; ts += 5 * MIN) {
      const level = 1.0 + ((ts - (end - 70 * MIN)) / HOUR) * 0.5; // rising 0.5 m/h
      const values = { water_level: Math.round(level * 1000) / 1000, do: 5 + (seq % 3) / 10, ph: 7.1 };
      await publishQos1(device, topics.telemetry(CITY, CANAL.device), JSON.stringify({ ts, seq: seq++, values }));
      canalTimes.push(ts);
    }
    published.set(CANAL.station, canalTimes);
    expect(await gateway.flush(30_000)).toBe(true);
  });

  afterAll(async () => {
    device?.end(true);
    await api?.stop();
    await gateway?.stop();
    await Promise.all([broker?.stop(), influx?.stop()]);
    if (dir) await removeDir(dir);
  });

  it('reports health ok with the store and the bus', async () => {
    await until('bus connected', async () => (await get('/health')).body.checks.bus.ok === true);
    const { res, body } = await get('/health');
    expect(res.status).toBe(200);
    expect(body).toMatchObject({ status: 'ok', checks: { store: { ok: true }, bus: { ok: true } } });
  });

  it('shows station status from what the gateway stored', async () => {
    const { body } = await get('/v1/stations/cm-air-oldcity-01');
    const inDay = published.get('cm-air-oldcity-01')!.filter((t) => t > Date.now() - 24 * HOUR).length;
    expect(body.status).toMatchObject({ lastSeen: new Date(end).toISOString(), online: true });
    expect(Math.abs(body.status.qc.readings - inDay)).toBeLessThanOrEqual(1); // the 24 h window moves
    // History uploads are not late (never flagged stale) and the telemetry of the last hour is on time.
    expect(body.status.qc).toMatchObject({ flagged: 0, excluded: 0 });
  });

  it('computes the rolling 24 h mean and AQI from the corrected PM2.5 the gateway stored', async () => {
    const { body } = await get('/v1/stations/cm-air-oldcity-01/latest');
    expect(body.latest.ts).toBe(new Date(end).toISOString());
    expect(body.latest.corrections[0].method).toMatch(/^epa-barkjohn/);
    const pm25 = body.air.pm25;
    expect(pm25.basis).toBe('pm25_corrected');
    expect(pm25.rolling24h.valid).toBe(true);
    const now = Date.now();
    const from = new Date(hourStart(now) - 23 * HOUR).toISOString();
    const series = (
      await get(`/v1/stations/cm-air-oldcity-01/series?metric=pm25_corrected&interval=1h&from=${from}&qc=include`)
    ).body;
    const hourly = series.data.map((b: { start: string; mean: number }) => ({
      hourStart: Date.parse(b.start),
      mean: b.mean,
    }));
    // Shown at PM2.5's precision (issue 14), computed from the unrounded hourly means.
    expect(pm25.rolling24h.value).toBe(roundMetric('pm25', rolling24hMean(hourly, now).value!));
    expect(body.air.aqi.th).toMatchObject({ scheme: 'th-pcd-2023', averaging: 'rolling24h' });
    expect(body.air.aqi.us).toMatchObject({ scheme: 'us-epa-2024', averaging: 'nowcast' });
    const raw = (await get(`/v1/stations/cm-air-oldcity-01/series?metric=pm25&interval=1h&from=${from}&qc=include`))
      .body;
    expect(raw.data.at(-2).mean).not.toBeCloseTo(series.data.at(-2).mean, 1);
  });

  it('pages raw readings and streams exports covering exactly what was published', async () => {
    const times = published.get('cm-air-nimman-01')!;
    const from = new Date(times[0]!).toISOString();
    const to = new Date(end + 1).toISOString();
    let url: string | null = `/v1/stations/cm-air-nimman-01/readings?from=${from}&to=${to}&limit=40`;
    const seen: string[] = [];
    while (url) {
      const page: { data: { ts: string }[]; meta: { next: string | null } } = (await get(url)).body;
      seen.push(...page.data.map((r) => r.ts));
      url = page.meta.next;
    }
    expect(seen).toEqual(times.map((t) => new Date(t).toISOString()));
    const csv: string = (await get(`/v1/exports/readings?from=${from}&to=${to}&station=cm-air-nimman-01`)).body;
    const rows: string[][] = parse(csv, { record_delimiter: '\r\n' });
    expect(rows[0]![0]).toBe('time'); // the header, first
    expect(rows.slice(1).map((r) => r[0])).toEqual(times.map((t) => new Date(t).toISOString()));
    const nd: string = (await get(`/v1/exports/readings?from=${from}&to=${to}&format=ndjson`)).body;
    const all = [...published.values()].reduce((n, t) => n + t.length, 0);
    expect(nd.trimEnd().split('\n')).toHaveLength(all + 1);
  });

  it('gives canal level, rate of rise and water-quality class', async () => {
    const { body } = await get('/v1/canal/cm-canal-sriphum');
    expect(body.level.valueM).toBeCloseTo(1.0 + (70 / 60) * 0.5, 2);
    expect(body.rise.mPerHour).toBeCloseTo(0.5, 1);
    expect(body.rise.risingFast).toBe(true);
    expect(body.rise).toMatchObject({ trend: 'rising_fast', reason: null, windowMinutes: 60 });
    expect(body.rise.samples).toBeGreaterThanOrEqual(10);
    expect(body.rise.mPerHour - body.rise.uncertaintyMPerHour).toBeGreaterThan(0.3);
    expect(body.waterQuality).toMatchObject({ class: 3, partial: true });
    const district = (await get('/v1/districts/tha-phae')).body;
    expect(district.data.summary.canal.stationId).toBe('cm-canal-sriphum');
  });

  it('streams readings republished by the gateway on the bus, live', async () => {
    const stream = await openSse(`${api.url}/v1/stream?station=cm-air-oldcity-01`);
    try {
      expect(stream.status).toBe(200);
      await new Promise((r) => setTimeout(r, 200)); // the subscription is in place
      const ts = end + 30_000;
      const values = { pm25: 33.3, humidity: 61, pm10: 44 };
      await publishQos1(device, topics.telemetry(CITY, 'cm-air-nimman-01-pms'), JSON.stringify({ ts, values }));
      await publishQos1(device, topics.telemetry(CITY, 'cm-air-oldcity-01-pms'), JSON.stringify({ ts, values }));
      await stream.waitFor((e) => e.some((x) => x.event === 'reading'));
      const events = stream.events.filter((x) => x.event === 'reading');
      expect(events).toHaveLength(1);
      const data = JSON.parse(events[0]!.data);
      expect(data).toMatchObject({
        station: 'cm-air-oldcity-01',
        ts: new Date(ts).toISOString(),
        values: { pm25: 33.3 },
      });
      expect(data.corrections[0].metric).toBe('pm25');
    } finally {
      stream.close();
    }
  });
});
