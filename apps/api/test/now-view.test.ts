import { join } from 'node:path';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import type { CityPack } from '@cnx/city-pack';
import type { Reading } from '@cnx/domain';
import { InfluxDbReadingStore, type ReadingStore, SqliteReadingStore } from '@cnx/store';
import { type InfluxDBHandle, makeTempDir, removeDir, startInfluxDB } from '@cnx/testkit';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../src/app';
import type { ReadingWindow } from '../src/services/reading-window';
import { chiangMai, logger, ManualLive, MIN, NOW, seedReadings, testConfig } from './helpers';

/** A bus the test drives: readings as BusService hands them to the "now" view, and gaps. */
class FeedLive extends ManualLive {
  readonly readingListeners = new Set<(r: Reading) => void>();
  readonly gapListeners = new Set<(since: number) => void>();
  subscribeReadings(l: (r: Reading) => void): () => void {
    this.readingListeners.add(l);
    return () => this.readingListeners.delete(l);
  }
  subscribeGaps(l: (since: number) => void): () => void {
    this.gapListeners.add(l);
    return () => this.gapListeners.delete(l);
  }
  publish(...readings: Reading[]): void {
    for (const r of readings) for (const l of this.readingListeners) l(structuredClone(r));
  }
  gap(since: number): void {
    for (const l of this.gapListeners) l(since);
  }
}

/** The store with every read counted (what "no store query per request" means). */
function counted(store: ReadingStore): { store: ReadingStore; reads: () => number } {
  let reads = 0;
  const wrapped = new Proxy(store, {
    get(target, prop, receiver) {
      const v = Reflect.get(target, prop, receiver);
      if (typeof v !== 'function') return v;
      return (...args: unknown[]) => {
        if (['latestPerStation', 'countByStation', 'aggregate', 'scan', 'query', 'count'].includes(String(prop)))
          reads++;
        return v.apply(target, args);
      };
    },
  });
  return { store: wrapped, reads: () => reads };
}

const AIR = 'cm-air-oldcity-01';
const CANAL = 'cm-canal-sriphum';
const PATHS = (pack: CityPack) => [
  '/v1/latest',
  '/v1/latest?kind=air',
  `/v1/latest?station=${AIR},${CANAL}`,
  `/v1/stations/${AIR}/latest`,
  '/v1/stations',
  '/v1/districts',
  '/v1/districts?limit=2&page=2',
  `/v1/districts/${pack.stationById.get(AIR)!.district}`,
  '/v1/canal',
  '/v1/canal?limit=2',
  `/v1/canal/${CANAL}`,
];

async function bodies(app: FastifyInstance, paths: string[]): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const url of paths) {
    const res = await app.inject({ url });
    expect(res.statusCode, url).toBe(200);
    out[url] = res.body;
  }
  return out;
}

const reading = (
  pack: CityPack,
  stationId: string,
  ts: number,
  pm25: number,
  extra: Partial<Reading> = {},
): Reading => ({
  city: 'chiang-mai',
  stationId,
  deviceId: pack.devices.find((d) => d.stationId === stationId)!.id,
  ts,
  values: { pm25, pm10: pm25 * 1.5, humidity: 70, pm1: pm25 * 0.6, temperature: 29.5 },
  corrections: [{ metric: 'pm25', value: pm25 * 0.6, method: 'epa-barkjohn-2021-extended@1' }],
  qc: [],
  ...extra,
});

describe.each(['sqlite', 'influxdb'] as const)('the in-memory "now" view (%s)', (backend) => {
  let dir: string;
  let influx: InfluxDBHandle | undefined;
  let raw: ReadingStore;
  let pack: CityPack;
  /** The store-based path (no bus): what the memory view must equal. */
  let fromStore: FastifyInstance;
  let feed: FeedLive;
  let memory: FastifyInstance;
  let reads: () => number;

  const memoryApp = async () => {
    feed = new FeedLive();
    const c = counted(raw);
    reads = c.reads;
    const app = buildApp({ config: testConfig(), pack, store: c.store, logger, live: feed, now: () => NOW });
    await app.ready(); // the view is built from the store in onReady
    expect(app.cnx.now.stamp()).toBeDefined();
    return app;
  };

  beforeAll(async () => {
    dir = await makeTempDir('cnx-now-view-');
    pack = await chiangMai();
    if (backend === 'influxdb') {
      influx = await startInfluxDB({ database: 'now_view' });
      raw = new InfluxDbReadingStore({
        url: influx.url,
        database: 'now_view',
        createDatabase: true,
        timeoutMs: 15_000,
      });
    } else raw = new SqliteReadingStore({ path: join(dir, 'cnx.sqlite') });
    await raw.start();
    await raw.write(seedReadings(pack));
    fromStore = buildApp({ config: testConfig(), pack, store: raw, logger, live: new ManualLive(), now: () => NOW });
    await fromStore.ready();
    memory = await memoryApp();
  }, 120_000);

  afterAll(async () => {
    await memory?.close();
    await fromStore?.close();
    await raw?.stop();
    await influx?.stop();
    await removeDir(dir);
  });

  it('answers exactly what the store-based path answers over the same data', async () => {
    const paths = PATHS(pack);
    const mine = await bodies(memory, paths);
    expect(mine).toEqual(await bodies(fromStore, paths));
    // Not vacuous: the seed gives AQIs, QC counts and a canal level.
    const latest = JSON.parse(mine['/v1/latest']!);
    const air = latest.data.find((s: { station: { id: string } }) => s.station.id === AIR);
    expect(air.air.aqi.th).not.toBeNull();
    expect(air.status.qc.flagged).toBeGreaterThan(0);
  });

  it('updates from a bus reading without reading the store, and still equals the store path once stored', async () => {
    const before = reads();
    const clean = reading(pack, AIR, NOW - MIN, 88.8);
    // A spike on PM2.5 only: not the latest, counted as flagged and excluded, left out of the means.
    const spike = reading(pack, 'cm-air-oldcity-02', NOW - 2 * MIN, 480, { qc: ['spike'], qcMetrics: ['pm25'] });
    // A history reading an hour old: counts in the hourly means, never "latest".
    const history = reading(pack, 'cm-air-nimman-01', NOW - 61 * MIN, 150);
    const level = {
      ...reading(pack, CANAL, NOW - MIN, 0),
      values: { water_level: 2.9, do: 1.5, ph: 7 },
      corrections: [],
    };
    feed.publish(clean, spike, history, level);
    const res = await memory.inject({ url: `/v1/stations/${AIR}/latest` });
    expect(res.json().latest.values.pm25).toBe(88.8);
    const paths = PATHS(pack);
    const mine = await bodies(memory, paths);
    expect(reads()).toBe(before);
    await raw.write([clean, spike, history, level]);
    expect(mine).toEqual(await bodies(fromStore, paths));
    // A replay with new flags rewrites the reading, as in the store.
    const reflagged = { ...clean, qc: ['range' as const], qcMetrics: ['pm25' as const] };
    feed.publish(reflagged);
    await raw.write([reflagged]);
    expect(await bodies(memory, paths)).toEqual(await bodies(fromStore, paths));
    expect(reads()).toBe(before);
  });

  it('serves one cached body per variant with an ETag, 304 on If-None-Match, a new ETag after a reading', async () => {
    const first = await memory.inject({ url: '/v1/latest?kind=air' });
    const tag = first.headers.etag as string;
    expect(tag).toMatch(/^W\/"/);
    const again = await memory.inject({ url: '/v1/latest?kind=air', headers: { 'if-none-match': tag } });
    expect(again.statusCode).toBe(304);
    expect(again.body).toBe('');
    const other = await memory.inject({ url: '/v1/latest?kind=canal' });
    expect(other.headers.etag).not.toBe(tag);
    feed.publish(reading(pack, AIR, NOW - 30_000, 12.3));
    const changed = await memory.inject({ url: '/v1/latest?kind=air', headers: { 'if-none-match': tag } });
    expect(changed.statusCode).toBe(200);
    expect(changed.headers.etag).not.toBe(tag);
    expect(changed.headers['content-type']).toBe('application/json; charset=utf-8');
  });

  it('sends the cached body brotli- or gzip-encoded to a client that accepts it, made once, the same JSON and ETag', async () => {
    const url = '/v1/latest?kind=air';
    const plain = await memory.inject({ url });
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(plain.headers.vary).toMatch(/Accept-Encoding/i);
    const br = await memory.inject({ url, headers: { 'accept-encoding': 'gzip, deflate, br' } });
    expect(br.headers['content-encoding']).toBe('br');
    expect(brotliDecompressSync(br.rawPayload).equals(plain.rawPayload)).toBe(true);
    expect(br.rawPayload.length).toBeLessThan(plain.rawPayload.length / 5);
    expect(br.headers.etag).toBe(plain.headers.etag);
    const gz = await memory.inject({ url, headers: { 'accept-encoding': 'br;q=0, gzip' } });
    expect(gz.headers['content-encoding']).toBe('gzip');
    expect(gunzipSync(gz.rawPayload).equals(plain.rawPayload)).toBe(true);
    const none = await memory.inject({ url, headers: { 'accept-encoding': 'identity' } });
    expect(none.headers['content-encoding']).toBeUndefined();
    expect(none.rawPayload.equals(plain.rawPayload)).toBe(true);
    const notModified = await memory.inject({
      url,
      headers: { 'accept-encoding': 'br', 'if-none-match': String(plain.headers.etag) },
    });
    expect(notModified.statusCode).toBe(304);
  });

  it('computes the air view once per reading or clock hour, not at every tick, and answers as the store path does later in the hour', async () => {
    let t = NOW; // 05:30:00: the hour ends in 30 minutes
    const clock = () => t;
    const live = new FeedLive();
    // A cache TTL longer than the test's hour (the default 15 s would recompute every 15 s as well).
    const config = testConfig({ API_CACHE_TTL_S: '3600' });
    const app = buildApp({ config, pack, store: raw, logger, live, now: clock });
    const store = buildApp({ config, pack, store: raw, logger, live: new ManualLive(), now: clock });
    await Promise.all([app.ready(), store.ready()]);
    try {
      const window = app.cnx.now.source as ReadingWindow;
      const aggregate = window.aggregate.bind(window);
      let aggregates = 0;
      window.aggregate = (q) => {
        aggregates++;
        return aggregate(q);
      };
      // Per station, inside the window: only stations whose readings changed are aggregated again.
      const perStation = window as unknown as { aggregateStation: (...a: unknown[]) => unknown };
      const aggregateStation = perStation.aggregateStation.bind(window);
      const stationsDone: string[] = [];
      perStation.aggregateStation = (id, ...rest) => {
        stationsDone.push(id as string);
        return aggregateStation(id, ...rest);
      };
      const latest = async () => (await app.inject({ url: '/v1/latest' })).body;
      await latest();
      const perView = aggregates;
      expect(perView).toBeGreaterThan(0);
      t = NOW + 1000;
      await latest();
      t = NOW + 29 * MIN;
      const late = await latest();
      expect(aggregates).toBe(perView); // same hour, no new reading: no recomputation
      expect(late).toBe((await store.inject({ url: '/v1/latest' })).body);
      t = NOW + 30 * MIN; // 06:00: a new hour
      await latest();
      expect(aggregates).toBe(2 * perView);
      // A reading recomputes the view, aggregating its own station again and no other.
      stationsDone.length = 0;
      live.publish(reading(pack, AIR, t - 1000, 40.1));
      await latest();
      expect(aggregates).toBe(3 * perView);
      expect(new Set(stationsDone)).toEqual(new Set([AIR]));
      // A reading 5 s ahead of the clock: the view follows the second until the clock reaches it.
      live.publish(reading(pack, AIR, t + 5000, 41.2));
      await latest();
      t += 1000;
      await latest();
      expect(aggregates).toBe(5 * perView);
      t += 5000;
      await latest();
      t += 1000;
      await latest();
      expect(aggregates).toBe(6 * perView);
    } finally {
      await app.close();
      await store.close();
    }
  });

  it('reads a bus gap from the store, and is rebuilt from the store after a restart', async () => {
    const missed = reading(pack, 'cm-air-nimman-01', NOW - 20_000, 55.5);
    await raw.write([missed, reading(pack, AIR, NOW - 30_000, 12.3)]);
    const latestOf = async (id: string) => (await memory.inject({ url: `/v1/stations/${id}/latest` })).json();
    expect((await latestOf('cm-air-nimman-01')).latest.ts).not.toBe(new Date(missed.ts).toISOString());
    feed.gap(NOW - MIN);
    for (;;) {
      if ((await latestOf('cm-air-nimman-01')).latest.ts === new Date(missed.ts).toISOString()) break;
      await new Promise((r) => setImmediate(r));
    }
    const paths = PATHS(pack);
    expect(await bodies(memory, paths)).toEqual(await bodies(fromStore, paths));
    await memory.close();
    memory = await memoryApp();
    expect(await bodies(memory, paths)).toEqual(await bodies(fromStore, paths));
  });
});
