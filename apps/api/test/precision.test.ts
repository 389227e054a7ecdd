import { join } from 'node:path';
import type { CityPack } from '@cnx/city-pack';
import { DECIMALS, deviceIntervalMs, METRICS, metricDecimals, timeZoneOffsetMs } from '@cnx/domain';
import { InfluxDbReadingStore, type ReadingStore, RollupRunner, SqliteReadingStore } from '@cnx/store';
import { type InfluxDBHandle, makeTempDir, removeDir, startInfluxDB } from '@cnx/testkit';
import { parse } from 'csv-parse/sync';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../src/app';
import { KIND_METRICS } from '../src/services/export.service';
import { chiangMai, logger, ManualLive, NOW, seedReadings, testConfig } from './helpers';

/**
 * Issue 14: no number anywhere in the API has more digits than it means (`15.736923076923079`).
 * Every public JSON route of the OpenAPI document is fetched for every station and district over a
 * seeded store (whose readings are unrounded on purpose: pm1 = pm25 x 0.7), and every number is
 * checked against its precision: a metric's value, mean, extreme, correction or rate against the
 * registry's `decimals`; the other numbers against the table below (from @cnx/domain DECIMALS).
 * A number the walker cannot place must be an integer, so a new fractional field fails here until
 * its precision is defined.
 */
const FIELDS: Record<string, number> = {
  lat: DECIMALS.coordinate,
  lon: DECIMALS.coordinate,
  bbox: DECIMALS.coordinate,
  coordinates: DECIMALS.coordinate,
  flaggedShare: DECIMALS.share,
  excludedShare: DECIMALS.share,
  coverage: DECIMALS.share,
  weight: DECIMALS.weight,
  percentComplete: DECIMALS.percent,
  percentOfBank: DECIMALS.percent,
  spanMinutes: DECIMALS.minutes,
  distanceM: DECIMALS.metres,
  radiusM: DECIMALS.metres,
  valueM: METRICS.water_level.decimals,
  freeboardM: METRICS.water_level.decimals,
  bankHeightM: METRICS.water_level.decimals,
  warningLevelM: METRICS.water_level.decimals,
  criticalLevelM: METRICS.water_level.decimals,
  mPerHour: METRICS.water_level.decimals,
  uncertaintyMPerHour: METRICS.water_level.decimals,
  warningMPerHour: METRICS.water_level.decimals,
  hour1Mean: METRICS.pm25.decimals,
  rolling24hMean: METRICS.pm25.decimals,
  ratePerHour: METRICS.pm25.decimals,
};

/** Not JSON, not read from the store, or forwarded from the alerts service (tested there). */
const SKIP = /^\/(metrics|admin\/|v1\/(stream|staff\/|alerts|subscription|reports))/;

const decimalsOf = (x: number): number => {
  const [, frac = ''] = String(x).split('.');
  return String(x).includes('e') ? 99 : frac.length;
};

type Frame = { key: string; obj: unknown };

function allowed(key: string, chain: Frame[], doc: unknown): number | undefined {
  const parent = chain.at(-1)?.obj as Record<string, unknown> | undefined;
  if (key === 'concentration' && typeof parent?.dominant === 'string') return metricDecimals(parent.dominant);
  if (FIELDS[key] !== undefined) return FIELDS[key];
  const direct = metricDecimals(key);
  if (direct !== undefined) return direct;
  for (let i = chain.length - 1; i >= 0; i--) {
    const o = chain[i]!.obj as Record<string, unknown>;
    if (o && !Array.isArray(o) && typeof o.metric === 'string' && metricDecimals(o.metric) !== undefined)
      return metricDecimals(o.metric);
    const k = metricDecimals(chain[i]!.key);
    if (k !== undefined) return k;
  }
  const meta = (doc as { meta?: { metric?: unknown } }).meta;
  if (typeof meta?.metric === 'string') return metricDecimals(meta.metric);
  return undefined;
}

function tooPrecise(doc: unknown): string[] {
  const bad: string[] = [];
  const walk = (v: unknown, key: string, path: string, chain: Frame[]) => {
    if (typeof v === 'number') {
      const max = allowed(key, chain, doc) ?? 0;
      if (decimalsOf(v) > max) bad.push(`${path} = ${v} (at most ${max} decimals)`);
    } else if (Array.isArray(v)) {
      for (const [i, x] of v.entries()) walk(x, key, `${path}[${i}]`, chain);
    } else if (v && typeof v === 'object') {
      const next = [...chain, { key, obj: v }];
      for (const [k, x] of Object.entries(v)) walk(x, k, `${path}.${k}`, next);
    }
  };
  walk(doc, '', '', []);
  return bad;
}

/**
 * The CSV exports' numbers, placed by their column: `lat`/`lon`, a metric's columns (`pm25_ugm3`,
 * `pm25_corrected_mean_ugm3`, `ph_mean`) at its decimals, `*_complete_pct` a percentage, counts and
 * anything else whole.
 */
function csvTooPrecise(line: Record<string, string>): string[] {
  const metrics = Object.keys(METRICS).sort((a, b) => b.length - a.length);
  const bad: string[] = [];
  for (const [column, text] of Object.entries(line)) {
    const v = Number(text);
    if (text === '' || !Number.isFinite(v)) continue;
    const metric = metrics.find((m) => column === m || column.startsWith(`${m}_`));
    const max =
      column === 'lat' || column === 'lon'
        ? DECIMALS.coordinate
        : column.endsWith('_complete_pct')
          ? DECIMALS.percent
          : /_(count|flagged|expected)$/.test(column) || !metric
            ? 0
            : (metricDecimals(metric) ?? 0);
    if (decimalsOf(v) > max || text !== String(v)) bad.push(`${column} = ${text} (at most ${max} decimals)`);
  }
  return bad;
}

/** Every URL to fetch: each GET path of the document, with each station, district and metric. */
function urls(doc: { paths: Record<string, { get?: unknown }> }, pack: CityPack): string[] {
  const range = 'from=2025-03-08T00:00:00Z&to=2025-03-10T06:00:00Z';
  const out: string[] = [];
  for (const [path, item] of Object.entries(doc.paths)) {
    if (!item.get || SKIP.test(path)) continue;
    const filled = path.includes('{stationId}')
      ? pack.stations.map((s) => ({ url: path.replace('{stationId}', s.id), kind: s.kind }))
      : path.includes('{districtId}')
        ? [...pack.districtById.keys()].map((d) => ({ url: path.replace('{districtId}', d), kind: undefined }))
        : [{ url: path, kind: undefined }];
    for (const { url, kind } of filled) {
      if (url.startsWith('/v1/canal/') && kind !== 'canal') continue;
      if (url.endsWith('/series')) {
        const metrics = [...KIND_METRICS[kind ?? 'air'], ...(kind === 'air' ? ['pm25_corrected'] : [])];
        for (const m of metrics)
          for (const interval of ['5m', '1h', '1d']) out.push(`${url}?metric=${m}&interval=${interval}&${range}`);
      } else if (url.endsWith('/readings') && url.startsWith('/v1/stations/')) out.push(`${url}?${range}`);
      else if (url === '/v1/exports/readings') {
        for (const format of ['csv', 'json', 'ndjson', 'geojson']) out.push(`${url}?format=${format}&${range}`);
      } else if (url === '/v1/exports/rollups') {
        for (const format of ['csv', 'json', 'ndjson'])
          for (const interval of ['1h', '1d']) out.push(`${url}?format=${format}&interval=${interval}&${range}`);
      } else out.push(url);
    }
  }
  return out;
}

async function check(app: FastifyInstance, pack: CityPack): Promise<void> {
  const doc = (await app.inject({ url: '/openapi.json' })).json();
  const list = urls(doc, pack);
  expect(list.length).toBeGreaterThan(100);
  const bad: string[] = [];
  let numbers = 0;
  for (const url of list) {
    const res = await app.inject({ url });
    expect(res.statusCode, `${url}: ${res.body.slice(0, 300)}`).toBe(200);
    if (url.includes('format=csv')) {
      const lines = parse(res.body, { columns: true, record_delimiter: '\r\n' }) as Record<string, string>[];
      for (const [i, line] of lines.entries())
        for (const b of csvTooPrecise(line)) bad.push(`${url} line ${i + 2} ${b}`);
      numbers += res.body.match(/\d\.\d/g)?.length ?? 0;
      continue;
    }
    const bodies = url.includes('format=ndjson')
      ? res.body
          .trimEnd()
          .split('\n')
          .map((l) => JSON.parse(l))
      : [res.json()];
    for (const body of bodies) {
      numbers += JSON.stringify(body).match(/\d\.\d/g)?.length ?? 0;
      for (const b of tooPrecise(body)) bad.push(`${url} ${b}`);
    }
  }
  // The seed does reach the walker: thousands of fractional numbers were checked.
  expect(numbers).toBeGreaterThan(1000);
  expect(bad.slice(0, 40)).toEqual([]);
}

describe.each(['sqlite', 'influxdb'] as const)('published precision (%s)', (backend) => {
  let dir: string;
  let influx: InfluxDBHandle | undefined;
  let store: ReadingStore;
  let app: FastifyInstance;
  let pack: CityPack;

  beforeAll(async () => {
    dir = await makeTempDir('cnx-api-precision-');
    pack = await chiangMai();
    if (backend === 'influxdb') {
      influx = await startInfluxDB();
      store = new InfluxDbReadingStore({ url: influx.url, database: influx.database, createDatabase: true });
    } else store = new SqliteReadingStore({ path: join(dir, 'cnx.sqlite') });
    await store.start();
    await store.write(seedReadings(pack));
    // Hourly and daily rollups of the seed, as the gateway keeps them (series and exports read them).
    await new RollupRunner(store, {
      city: pack.city.id,
      offsetMs: -timeZoneOffsetMs(pack.city.timezone, NOW),
      stations: pack.stations.map((s) => ({
        id: s.id,
        intervalsMs: pack.devices.filter((d) => d.stationId === s.id).map(deviceIntervalMs),
      })),
      rawRetentionMs: 90 * 24 * 3_600_000,
    }).run(NOW);
    const config = testConfig({ API_RATE_LIMIT_MAX: '1000000', API_EXPORT_RATE_LIMIT_MAX: '1000000' });
    app = buildApp({ config, pack, store, logger, live: new ManualLive(), now: () => NOW });
    await app.ready();
  }, 120_000);

  afterAll(async () => {
    await app?.close();
    await store?.stop();
    await influx?.stop();
    await removeDir(dir);
  });

  it('gives each station its first and last stored reading (issue 14)', async () => {
    const s = (await app.inject({ url: '/v1/stations/cm-air-oldcity-01' })).json();
    expect(s.firstReading).toBe(new Date(NOW - 30 * 3_600_000).toISOString());
    expect(s.lastReading).toBe(new Date(NOW - 10 * 60_000).toISOString());
    expect((await app.inject({ url: '/v1/stations/cm-air-cmu-01' })).json().lastReading).toBeNull();
  });

  it('every number of every public JSON route is at its precision', async () => {
    await check(app, pack);
  }, 120_000);
});

describe('the walker', () => {
  it('catches an unrounded number in a CSV column', () => {
    expect(
      csvTooPrecise({ pm25_mean_ugm3: '7.2384515', pm25_count: '12', ph_mean: '7.12', lat: '18.7904123' }),
    ).toEqual(['pm25_mean_ugm3 = 7.2384515 (at most 1 decimals)', 'lat = 18.7904123 (at most 6 decimals)']);
    expect(csvTooPrecise({ pm25_complete_pct: '66.67', seq: '1.5' })).toHaveLength(2);
  });

  it('catches an unrounded metric value, share or unplaced fraction', () => {
    expect(tooPrecise({ values: { pm25: 15.736923076923079, water_level: 1.767 } })).toEqual([
      '.values.pm25 = 15.736923076923079 (at most 1 decimals)',
    ]);
    expect(tooPrecise({ status: { qc: { flaggedShare: 0.013888888888888888 } } })).toHaveLength(1);
    expect(tooPrecise({ meta: { metric: 'pm25_corrected' }, data: [{ mean: 7.2384515 }] })).toHaveLength(1);
    expect(tooPrecise({ somethingNew: 0.5 })).toHaveLength(1);
    expect(tooPrecise({ aqi: { dominant: 'pm10', concentration: 44.55 } })).toHaveLength(1);
  });
});
