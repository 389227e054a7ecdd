import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { deviceIntervalMs } from '@cnx/domain';
import { type AggregateQuery, ROLLUP_METRICS, RollupRunner } from '@cnx/store';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SERIES_METRICS } from '../src/schemas';
import { CITY, HOUR, NOW, type TestApp, testApp } from './helpers';

let t: TestApp;
/** Every raw aggregate the API asks the store for. */
const rawQueries: AggregateQuery[] = [];

beforeAll(async () => {
  t = await testApp();
  const aggregate = t.store.aggregate.bind(t.store);
  t.store.aggregate = (q) => {
    rawQueries.push(q);
    return aggregate(q);
  };
});
afterAll(async () => {
  await t?.close();
});

const body = async (url: string) => {
  const res = await t.app.inject({ url });
  expect(res.statusCode, url).toBe(200);
  return res.json();
};

const rollUp = () =>
  new RollupRunner(t.store, {
    city: CITY,
    offsetMs: -7 * HOUR,
    stations: t.pack.stations.map((s) => ({
      id: s.id,
      intervalsMs: t.pack.devices.filter((d) => d.stationId === s.id).map(deviceIntervalMs),
    })),
    rawRetentionMs: 90 * 24 * HOUR,
  }).run(NOW);

describe('series from rollups (interval=1h and 1d, qc=usable)', () => {
  const air = '/v1/stations/cm-air-oldcity-01/series';
  // Whole buckets up to the rollups' watermarks at NOW (05:30Z: hours to 05:00Z, local days to 17:00Z).
  const urls = [
    `${air}?from=2025-03-09T00:00:00Z&to=2025-03-10T05:00:00Z&interval=1h`,
    `${air}?from=2025-03-09T00:00:00Z&to=2025-03-10T05:00:00Z&interval=1h&metric=pm25_corrected`,
    `${air}?from=2025-03-09T00:00:00Z&to=2025-03-10T05:00:00Z&interval=1h&metric=humidity`,
    `${air}?from=2025-03-07T17:00:00Z&to=2025-03-09T17:00:00Z&interval=1d`,
    '/v1/stations/cm-canal-sriphum/series?from=2025-03-10T03:00:00Z&to=2025-03-10T05:00:00Z&interval=1h',
  ];

  it('roll up every series metric', () => {
    expect([...ROLLUP_METRICS]).toEqual([...SERIES_METRICS]);
  });

  it('give the same series as raw readings, read no raw reading, and survive the raw readings being deleted', async () => {
    const fromRaw = [];
    for (const u of urls) fromRaw.push(await body(u));
    expect(fromRaw[0].data).toHaveLength(29);
    expect(fromRaw[3].data).toHaveLength(1); // the seed covers 30 h: one whole local day
    await rollUp();
    rawQueries.length = 0;
    for (const [i, u] of urls.entries()) expect(await body(u), u).toEqual(fromRaw[i]);
    expect(rawQueries).toEqual([]);
    // Raw readings gone (as retention would do): the same answers.
    expect(await t.store.deleteRawBefore(NOW + HOUR)).toBe(true);
    for (const [i, u] of urls.entries()) expect(await body(u), u).toEqual(fromRaw[i]);
    expect(rawQueries).toEqual([]);
  });

  it('a year of hours reads raw readings only after the hourly watermark (the hour in progress); other qc modes read raw', async () => {
    await rollUp();
    rawQueries.length = 0;
    const year = await body(`${air}?from=2024-03-10T05:30:00Z&to=2025-03-10T05:30:00Z&interval=1h`);
    expect(year.meta.interval).toBe('1h');
    // Its first, partial hour is past the raw retention (90 days): served whole from its rollup.
    expect(rawQueries.map((q) => [q.from, q.to])).toEqual([[Date.UTC(2025, 2, 10, 5), NOW]]);
    // A partial first hour within the retention comes from raw readings.
    rawQueries.length = 0;
    await body(`${air}?from=2025-03-09T00:30:00Z&to=2025-03-10T05:00:00Z&interval=1h`);
    expect(rawQueries.map((q) => [q.from, q.to])).toEqual([[Date.UTC(2025, 2, 9, 0, 30), Date.UTC(2025, 2, 9, 1)]]);
    rawQueries.length = 0;
    await body(`${air}?from=2025-03-09T00:00:00Z&to=2025-03-10T05:00:00Z&interval=1h&qc=include`);
    expect(rawQueries).toHaveLength(1);
  });
});

describe('series answers with from and to are cached serialised (API_CACHE_TTL_S)', () => {
  it('serves the same bytes and ETag without asking the store again, and 304 on If-None-Match', async () => {
    const cached = await testApp({ API_CACHE_TTL_S: '15' });
    try {
      const url = '/v1/stations/cm-air-oldcity-01/series?from=2025-03-09T00:00:00Z&to=2025-03-10T05:00:00Z&interval=1h';
      let reads = 0;
      const aggregate = cached.store.aggregate.bind(cached.store);
      cached.store.aggregate = (q) => {
        reads++;
        return aggregate(q);
      };
      const first = await cached.app.inject({ url });
      const second = await cached.app.inject({ url });
      expect(first.statusCode).toBe(200);
      expect(second.body).toBe(first.body);
      expect(second.headers.etag).toBe(first.headers.etag);
      expect(second.headers['content-type']).toBe('application/json; charset=utf-8');
      expect(reads).toBe(1);
      expect(JSON.parse(second.body)).toEqual(await body(url)); // the uncached app (TTL 0) answers the same
      const again = await cached.app.inject({ url, headers: { 'if-none-match': String(first.headers.etag) } });
      expect(again.statusCode).toBe(304);
      // A browser's request: the same bytes brotli-encoded (made once, not per request), same ETag.
      const br = await cached.app.inject({ url, headers: { 'accept-encoding': 'gzip, deflate, br, zstd' } });
      expect(br.headers['content-encoding']).toBe('br');
      expect(brotliDecompressSync(br.rawPayload).toString()).toBe(first.body);
      expect(br.headers.etag).toBe(first.headers.etag);
      const gz = await cached.app.inject({ url, headers: { 'accept-encoding': 'gzip' } });
      expect(gunzipSync(gz.rawPayload).toString()).toBe(first.body);
      expect(reads).toBe(1);
    } finally {
      await cached.close();
    }
  });
});
