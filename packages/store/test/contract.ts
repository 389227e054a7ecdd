import type { QcFlag, Reading } from '@cnx/domain';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type ReadingStore, STORE_ERROR_CODES, type StoredReading, StoreError } from '../src/index';

/** A fresh, empty, not yet started store, and how to dispose of its backing data afterwards. */
export interface ContractSubject {
  store: ReadingStore;
  teardown?: () => Promise<void>;
  /**
   * Stores readings (without qcMetrics) as the store did before `qc_metrics` existed, after
   * start(): InfluxDB points without the field, SQLite rows with NULL in the column.
   */
  legacy: (readings: readonly Reading[]) => Promise<void>;
}

const MIN = 60_000;
const T0 = Date.UTC(2025, 2, 1, 6, 0, 0); // 2025-03-01 13:00 Asia/Bangkok, haze season
const DAY = 24 * 60 * MIN;
const ALL = { from: T0 - DAY, to: T0 + DAY, limit: 100_000 };

const r = (over: Partial<Reading> = {}): Reading => ({
  city: 'cnx',
  stationId: 's1',
  deviceId: 'd1',
  ts: T0,
  values: { pm25: 12.5 },
  corrections: [],
  qc: [],
  ...over,
});

const byTs = (a: StoredReading, b: StoredReading) =>
  a.ts - b.ts ||
  a.city.localeCompare(b.city) ||
  a.stationId.localeCompare(b.stationId) ||
  a.deviceId.localeCompare(b.deviceId);

async function rejection(p: Promise<unknown>): Promise<StoreError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e, 'expected the call to reject').toBeInstanceOf(StoreError);
  return e as StoreError;
}

/**
 * The ReadingStore contract: every implementation runs this same suite (docs/architecture.md, Storage schema).
 * `factory` returns a fresh store over empty storage for each test.
 */
export function runReadingStoreContract(name: string, factory: () => Promise<ContractSubject>): void {
  describe(`ReadingStore contract: ${name}`, () => {
    let subject: ContractSubject;
    let store: ReadingStore;

    beforeEach(async () => {
      subject = await factory();
      store = subject.store;
      await store.start();
    });

    afterEach(async () => {
      await store.stop();
      await subject.teardown?.();
    });

    it('round-trips readings exactly: values, seq, qc flags and corrections', async () => {
      const written: Reading[] = [
        r({
          ts: T0,
          seq: 0,
          values: { pm1: 8.1, pm25: 0.1 + 0.2, pm10: 0, temperature: -12.25, humidity: 100 },
          corrections: [
            { metric: 'pm25', value: 10 / 3, method: 'epa-barkjohn-2021-extended@1' },
            { metric: 'humidity', value: 99.5, method: 'rh-cap@2' },
          ],
          qc: ['range', 'spike', 'humidity'],
        }),
        r({ ts: T0 + 1, seq: 2 ** 53 - 1, values: { water_level: 1e-7, conductivity: 99_999, do: 7.25 } }),
        r({ ts: T0 + 2, values: { battery: 100, ph: 7 }, qc: ['stale'] }),
        r({ ts: T0 + 3, values: {} }),
      ];
      await store.write(written);
      expect(await store.query(ALL)).toEqual(written);
      expect(await store.count(ALL)).toBe(4);
    });

    it('an empty batch is a no-op', async () => {
      await store.write([]);
      expect(await store.count(ALL)).toBe(0);
      expect(await store.query(ALL)).toEqual([]);
    });

    it('is idempotent: the same batch written twice is stored once', async () => {
      const batch = [0, 1, 2].map((i) => r({ ts: T0 + i * MIN, seq: i, values: { pm25: 10 + i }, qc: ['stale'] }));
      await store.write(batch);
      await store.write(batch);
      expect(await store.count(ALL)).toBe(3);
      expect(await store.query(ALL)).toEqual(batch);
    });

    it('a rewrite of the same identity updates values, seq, qc and corrections', async () => {
      await store.write([
        r({ seq: 1, values: { pm25: 50 }, qc: ['spike'], corrections: [{ metric: 'pm25', value: 40, method: 'a@1' }] }),
      ]);
      const replay = r({
        seq: 7,
        values: { pm25: 51 },
        qc: [],
        corrections: [{ metric: 'pm25', value: 41, method: 'b@2' }],
      });
      await store.write([replay]);
      expect(await store.count(ALL)).toBe(1);
      expect(await store.query(ALL)).toEqual([replay]);
    });

    it('a rewrite merges like InfluxDB: metrics and corrections it lacks keep their stored values', async () => {
      await store.write([
        r({
          seq: 3,
          values: { pm25: 50, pm10: 70 },
          qc: ['humidity'],
          corrections: [{ metric: 'pm25', value: 40, method: 'a@1' }],
        }),
      ]);
      await store.write([r({ values: { pm25: 55 }, qc: [] })]);
      expect(await store.query(ALL)).toEqual([
        r({
          seq: 3,
          values: { pm25: 55, pm10: 70 },
          qc: [],
          corrections: [{ metric: 'pm25', value: 40, method: 'a@1' }],
        }),
      ]);
    });

    it('identity is (city, station, device, ts): any difference is another reading', async () => {
      const batch = [r(), r({ deviceId: 'd2' }), r({ stationId: 's2' }), r({ city: 'lpn' }), r({ ts: T0 + 1 })];
      await store.write(batch);
      expect(await store.count(ALL)).toBe(5);
      expect((await store.query(ALL)).sort(byTs)).toEqual([...batch].sort(byTs));
    });

    it('metric projection returns only the asked metrics (and their corrections), keeping every row', async () => {
      await store.write([
        r({
          values: { pm25: 30, pm10: 45, humidity: 70 },
          corrections: [
            { metric: 'pm25', value: 25, method: 'm@1' },
            { metric: 'humidity', value: 69, method: 'h@1' },
          ],
          qc: ['humidity'],
          seq: 9,
        }),
        r({ ts: T0 + 1, values: { temperature: 31 } }),
      ]);
      const rows = await store.query({ ...ALL, metrics: ['pm25', 'pm10'] });
      expect(rows).toEqual([
        r({
          values: { pm25: 30, pm10: 45 },
          corrections: [{ metric: 'pm25', value: 25, method: 'm@1' }],
          qc: ['humidity'],
          seq: 9,
        }),
        r({ ts: T0 + 1, values: {} }),
      ]);
    });

    it('filters by station and device; an empty id list matches nothing', async () => {
      const batch = [
        r({ stationId: 's1', deviceId: 'a' }),
        r({ stationId: 's1', deviceId: 'b', ts: T0 + 1 }),
        r({ stationId: 's2', deviceId: 'c', ts: T0 + 2 }),
        r({ stationId: 's3', deviceId: 'd', ts: T0 + 3 }),
      ];
      await store.write(batch);
      expect(await store.query({ ...ALL, stationIds: ['s1', 's3'] })).toEqual([batch[0], batch[1], batch[3]]);
      expect(await store.query({ ...ALL, deviceIds: ['b', 'c'] })).toEqual([batch[1], batch[2]]);
      expect(await store.query({ ...ALL, stationIds: ['s1'], deviceIds: ['b', 'c'] })).toEqual([batch[1]]);
      expect(await store.query({ ...ALL, stationIds: ['nope'] })).toEqual([]);
      expect(await store.count({ ...ALL, stationIds: ['s1', 's3'] })).toBe(3);
      expect(await store.count({ ...ALL, stationIds: ['s1'], deviceIds: ['a'] })).toBe(1);
      expect(await store.query({ ...ALL, stationIds: [] })).toEqual([]);
      expect(await store.query({ ...ALL, deviceIds: [] })).toEqual([]);
      expect(await store.count({ ...ALL, stationIds: [] })).toBe(0);
    });

    it('orders by time (ascending by default) and applies the limit in the backend', async () => {
      const batch = Array.from({ length: 10 }, (_, i) =>
        r({ stationId: `s${i % 3}`, ts: T0 + i * MIN, values: { pm25: i } }),
      );
      await store.write([...batch].reverse());
      expect(await store.query({ ...ALL, limit: 3 })).toEqual(batch.slice(0, 3));
      expect(await store.query({ ...ALL, limit: 3, order: 'asc' })).toEqual(batch.slice(0, 3));
      expect(await store.query({ ...ALL, limit: 3, order: 'desc' })).toEqual(batch.slice(-3).reverse());
      expect(await store.query({ ...ALL, limit: 100, order: 'desc' })).toEqual([...batch].reverse());
      expect(await store.query({ ...ALL, limit: 0 })).toEqual([]);
    });

    it('time bounds: from is inclusive, to is exclusive', async () => {
      const batch = [0, 1, 2, 3].map((i) => r({ ts: T0 + i }));
      await store.write(batch);
      expect(await store.query({ from: T0 + 1, to: T0 + 3, limit: 100 })).toEqual([batch[1], batch[2]]);
      expect(await store.count({ from: T0 + 1, to: T0 + 3 })).toBe(2);
      expect(await store.query({ from: T0 + 1, to: T0 + 1, limit: 100 })).toEqual([]);
      expect(await store.query({ from: T0 + 3, to: T0 + 1, limit: 100 })).toEqual([]);
      expect(await store.count({ from: T0 + 3, to: T0 + 1 })).toBe(0);
      expect(await store.query({ from: T0 + 4, to: T0 + DAY, limit: 100 })).toEqual([]);
    });

    it('latestPerStation returns each station’s newest whole reading within since..now', async () => {
      const now = Date.now();
      const old = r({ stationId: 'A', deviceId: 'd1', ts: now - 2 * MIN, values: { pm25: 10, pm10: 20 }, seq: 1 });
      const newest = r({ stationId: 'A', deviceId: 'd2', ts: now - MIN, values: { pm25: 11 }, qc: ['spike'] });
      const b = r({ stationId: 'B', ts: now - 10 * MIN, values: { water_level: 1.25 } });
      const tooOld = r({ stationId: 'C', ts: now - 120 * MIN });
      const dPast = r({ stationId: 'D', ts: now - 5 * MIN, values: { pm25: 5 } });
      const dFuture = r({ stationId: 'D', ts: now + 60 * MIN, values: { pm25: 999 }, qc: ['future'] });
      const otherCity = r({ city: 'lpn', stationId: 'A', ts: now - 3 * MIN });
      await store.write([old, newest, b, tooOld, dPast, dFuture, otherCity]);
      const since = now - 60 * MIN;
      const latest = await store.latestPerStation(since);
      // Whole rows: A's newest point has no pm10 and it is not borrowed from the older one.
      expect(latest).toEqual([newest, b, dPast, otherCity]);
      expect(await store.latestPerStation(since, ['B', 'D'])).toEqual([b, dPast]);
      expect(await store.latestPerStation(since, [])).toEqual([]);
      expect(await store.latestPerStation(now + DAY)).toEqual([]);
    });

    it('latestPerStation with a QC filter returns each station’s newest reading the filter keeps', async () => {
      const now = Date.now();
      const clean = r({ stationId: 'A', ts: now - 3 * MIN, values: { pm25: 17 } });
      const humid = r({ stationId: 'A', ts: now - 2 * MIN, values: { pm25: 18, humidity: 90 }, qc: ['humidity'] });
      const spike = r({ stationId: 'A', ts: now - MIN, values: { pm25: 1300 }, qc: ['range', 'spike'] });
      const onlyBad = r({ stationId: 'B', ts: now - MIN, values: { pm25: 900 }, qc: ['stale'] });
      await store.write([clean, humid, spike, onlyBad]);
      const since = now - 60 * MIN;
      const usable = { mode: 'exclude-flagged' as const, flags: ['range', 'spike', 'stuck', 'stale'] as QcFlag[] };
      // humidity only annotates: the humid reading is the newest usable one; B has none.
      expect(await store.latestPerStation(since, undefined, usable)).toEqual([humid]);
      expect(await store.latestPerStation(since, ['A'], { mode: 'exclude-flagged' })).toEqual([clean]);
      expect(await store.latestPerStation(since, undefined, { mode: 'include' })).toEqual([spike, onlyBad]);
      const bad = await rejection(store.latestPerStation(since, undefined, { mode: 'nope' as never }));
      expect(bad.code).toBe(STORE_ERROR_CODES.invalidQuery);
    });

    it('ids with quotes, commas, spaces, equals signs, SQL/InfluxQL and Thai round-trip and filter exactly', async () => {
      const hostile = [
        `x' OR 1=1 --`,
        `"; DROP DATABASE x`,
        `'; DROP MEASUREMENT reading; SELECT '`,
        'a,b=c d',
        ' leading and trailing ',
        'it\'s "quoted"',
        '/.*/',
        'สถานี ช้างเผือก',
        '*',
      ];
      const normal = r({ stationId: 's-normal', values: { pm25: 1 } });
      const batch = [
        normal,
        ...hostile.map((id, i) =>
          r({ city: 'เชียงใหม่', stationId: id, deviceId: `${id}#dev`, ts: T0 + i + 1, values: { pm25: i } }),
        ),
      ];
      await store.write(batch);
      expect(await store.query(ALL)).toEqual(batch);
      for (const [i, id] of hostile.entries()) {
        expect(await store.query({ ...ALL, stationIds: [id] })).toEqual([batch[i + 1]]);
        expect(await store.query({ ...ALL, deviceIds: [`${id}#dev`] })).toEqual([batch[i + 1]]);
        expect(await store.count({ ...ALL, stationIds: [id] })).toBe(1);
      }
      expect(await store.latestPerStation(0, [hostile[0]!])).toEqual([batch[1]]);
      expect(await store.count(ALL)).toBe(batch.length);
      expect((await store.health()).ok).toBe(true);
    });

    it('rejects ids it cannot store, with a clear error, writing nothing of the batch', async () => {
      const bad = ['a\\b', 'trailing\\', 'line\nbreak', 'cr\rx', 'tab\tx', 'nul\u0000', '', 'x'.repeat(300)];
      for (const id of bad) {
        for (const field of ['city', 'stationId', 'deviceId'] as const) {
          const e = await rejection(store.write([r(), r({ [field]: id, ts: T0 + 1 })]));
          expect(e.code).toBe(STORE_ERROR_CODES.invalidReading);
          expect(e.retryable).toBe(false);
          expect(e.message).toContain(JSON.stringify(id).slice(0, 40));
        }
        const q = await rejection(store.query({ ...ALL, stationIds: [id] }));
        expect(q.code).toBe(STORE_ERROR_CODES.invalidQuery);
      }
      expect(await store.count(ALL)).toBe(0);
    });

    it('rejects non-finite values, unknown metrics, fractional seq or ts, bad qc codes and duplicate corrections', async () => {
      const cases: Partial<Reading>[] = [
        { values: { pm25: Number.NaN } },
        { values: { pm25: Number.POSITIVE_INFINITY } },
        { values: { pm25: Number.NEGATIVE_INFINITY } },
        { values: { pm25: null as unknown as number } },
        { values: { 'pm2.5': 1 } as Reading['values'] },
        { seq: 1.5 },
        { ts: T0 + 0.5 },
        { qc: ['range,spike' as never] },
        { qc: ['' as never] },
        { corrections: [{ metric: 'nope' as never, value: 1, method: 'm' }] },
        { corrections: [{ metric: 'pm25', value: Number.NaN, method: 'm' }] },
        { corrections: [{ metric: 'pm25', value: 1, method: '' }] },
        {
          corrections: [
            { metric: 'pm25', value: 1, method: 'm' },
            { metric: 'pm25', value: 2, method: 'n' },
          ],
        },
      ];
      for (const patch of cases) {
        const e = await rejection(store.write([r(), r({ ts: T0 + 1, ...patch })]));
        expect(e.code, JSON.stringify(patch)).toBe(STORE_ERROR_CODES.invalidReading);
        expect(e.retryable).toBe(false);
      }
      expect(await store.count(ALL)).toBe(0);
    });

    it('stores correction methods with quotes, commas, equals signs, backslashes and Thai', async () => {
      const method = 'epa "barkjohn", v=2 \\ สูตรเชียงใหม่ @1\\';
      const reading = r({ corrections: [{ metric: 'pm25', value: 9.75, method }] });
      await store.write([reading]);
      expect(await store.query(ALL)).toEqual([reading]);
    });

    it('validates query arguments: bounded integer time range, limit, metrics, order', async () => {
      const invalid = [
        store.query({ ...ALL, from: Number.NaN }),
        store.query({ ...ALL, to: Number.POSITIVE_INFINITY }),
        store.query({ ...ALL, from: 1.5 }),
        store.query({ ...ALL, limit: -1 }),
        store.query({ ...ALL, limit: 2.5 }),
        store.query({ ...ALL, metrics: ['pm2.5' as never] }),
        store.query({ ...ALL, order: 'sideways' as never }),
        store.query({ ...ALL, stationIds: 's1' as never }),
        store.count({ from: 0, to: undefined as never }),
        store.latestPerStation(Number.NaN),
      ];
      for (const p of invalid) expect((await rejection(p)).code).toBe(STORE_ERROR_CODES.invalidQuery);
    });

    it('writes a large batch completely (12 000 readings across 40 stations)', async () => {
      const batch = Array.from({ length: 12_000 }, (_, i) =>
        r({ stationId: `st${i % 40}`, deviceId: `dev${i % 80}`, ts: T0 + i, seq: i, values: { pm25: i / 10 } }),
      );
      await store.write(batch);
      expect(await store.count(ALL)).toBe(12_000);
      expect(await store.count({ ...ALL, stationIds: ['st7'] })).toBe(300);
      expect(await store.query({ ...ALL, limit: 2, order: 'desc' })).toEqual([batch[11_999], batch[11_998]]);
    });

    it('keeps data across stop() and start(); refuses work when stopped', async () => {
      const reading = r({ values: { pm25: 42 } });
      await store.write([reading]);
      expect(await store.health()).toMatchObject({ ok: true, backend: store.backend });
      await store.stop();
      expect((await store.health()).ok).toBe(false);
      const e = await rejection(store.write([reading]));
      expect(e.code).toBe(STORE_ERROR_CODES.notStarted);
      expect((await rejection(store.query(ALL))).code).toBe(STORE_ERROR_CODES.notStarted);
      await store.start();
      expect(await store.query(ALL)).toEqual([reading]);
    });
  });
}
