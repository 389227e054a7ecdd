import type { Reading } from '@cnx/domain';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  compareKeys,
  keyOf,
  type ReadingStore,
  type ScanQuery,
  STORE_ERROR_CODES,
  type StoredReading,
  StoreError,
} from '../src/index';
import type { ContractSubject } from './contract';

const MIN = 60_000;
const HOUR = 60 * MIN;
const T0 = Date.UTC(2025, 2, 1, 6, 0, 0); // on a whole hour
const ALL = { from: T0 - 24 * HOUR, to: T0 + 24 * HOUR };

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

async function collect(store: ReadingStore, q: ScanQuery, pageSize: number): Promise<StoredReading[][]> {
  const pages: StoredReading[][] = [];
  for await (const page of store.scan(q, pageSize)) pages.push(page);
  return pages;
}

async function rejection(p: Promise<unknown>): Promise<StoreError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e, 'expected the call to reject').toBeInstanceOf(StoreError);
  return e as StoreError;
}

/** 5 devices on 3 stations, all reporting at the same instants: ties at every timestamp. */
function tiedBatch(instants: number): Reading[] {
  const out: Reading[] = [];
  for (let i = 0; i < instants; i++) {
    for (let d = 0; d < 5; d++) {
      out.push(
        r({
          stationId: `s${d % 3}`,
          deviceId: `d${d}`,
          ts: T0 + i * MIN,
          seq: i,
          values: { pm25: i + d / 10, humidity: 50 },
          qc: (i + d) % 4 === 0 ? ['spike'] : (i + d) % 4 === 1 ? ['humidity'] : [],
        }),
      );
    }
  }
  return out;
}

/**
 * The read side of the ReadingStore contract used by the API: keyset scans, time-bucket aggregates
 * and per-station counts, with QC filters. Every implementation runs it (with runReadingStoreContract).
 */
export function runReadingStoreReadContract(name: string, factory: () => Promise<ContractSubject>): void {
  describe(`ReadingStore read contract: ${name}`, () => {
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

    it('scan returns every reading once, in key order, in full pages but the last', async () => {
      const batch = tiedBatch(23); // 115 readings, 5 per timestamp
      await store.write([...batch].reverse());
      const sorted = [...batch].sort(compareKeys);
      for (const size of [1, 3, 5, 7, 115, 116, 1000]) {
        const pages = await collect(store, ALL, size);
        expect(pages.flat(), `pageSize ${size}`).toEqual(sorted);
        expect(pages.slice(0, -1).every((p) => p.length === size)).toBe(true);
        expect(pages.at(-1)!.length).toBeGreaterThan(0);
        expect(pages.at(-1)!.length).toBeLessThanOrEqual(size);
      }
      expect(await collect(store, { from: T0 + DAY_AFTER, to: T0 + 2 * DAY_AFTER }, 10)).toEqual([]);
    });

    it('scan continues strictly after a cursor, including inside a group of tied timestamps', async () => {
      const batch = tiedBatch(6);
      await store.write(batch);
      const sorted = [...batch].sort(compareKeys);
      for (const k of [0, 2, 4, 5, 13, 29]) {
        const after = keyOf(sorted[k]!);
        expect((await collect(store, { ...ALL, after }, 4)).flat(), `after #${k}`).toEqual(sorted.slice(k + 1));
      }
      // A cursor between stored keys, before the range, or at/after its end.
      const between = { ...keyOf(sorted[7]!), deviceId: `${sorted[7]!.deviceId}~` };
      expect((await collect(store, { ...ALL, after: between }, 50)).flat()).toEqual(sorted.slice(8));
      const before = { ...keyOf(sorted[0]!), ts: ALL.from - 1 };
      expect((await collect(store, { ...ALL, after: before }, 50)).flat()).toEqual(sorted);
      expect(await collect(store, { ...ALL, after: { ...before, ts: ALL.to } }, 50)).toEqual([]);
      // Bounds still apply with a cursor.
      const narrow = { from: T0, to: T0 + 2 * MIN, after: keyOf(sorted[2]!) };
      expect((await collect(store, narrow, 50)).flat()).toEqual(sorted.slice(3, 10));
    });

    it('scan filters by station, device, metrics and QC flags', async () => {
      const batch = tiedBatch(8);
      await store.write(batch);
      const sorted = [...batch].sort(compareKeys);
      const scan = async (q: Partial<ScanQuery>) => (await collect(store, { ...ALL, ...q }, 3)).flat();
      expect(await scan({ stationIds: ['s1'] })).toEqual(sorted.filter((x) => x.stationId === 's1'));
      expect(await scan({ stationIds: ['s0', 's2'] })).toEqual(sorted.filter((x) => x.stationId !== 's1'));
      expect(await scan({ deviceIds: ['d4'] })).toEqual(sorted.filter((x) => x.deviceId === 'd4'));
      expect(await scan({ stationIds: [] })).toEqual([]);
      const projected = await scan({ metrics: ['humidity'] });
      expect(projected.map((x) => x.values)).toEqual(sorted.map(() => ({ humidity: 50 })));
      expect(await scan({ qc: { mode: 'include' } })).toEqual(sorted);
      expect(await scan({ qc: { mode: 'exclude-flagged' } })).toEqual(sorted.filter((x) => x.qc.length === 0));
      expect(await scan({ qc: { mode: 'only-flagged' } })).toEqual(sorted.filter((x) => x.qc.length > 0));
      // Only some flags count: humidity-flagged readings pass "exclude spike/range".
      const bad = ['spike', 'range'] as const;
      const isBad = (x: StoredReading) => x.qc.some((f) => (bad as readonly string[]).includes(f));
      expect(await scan({ qc: { mode: 'exclude-flagged', flags: [...bad] } })).toEqual(sorted.filter((x) => !isBad(x)));
      expect(await scan({ qc: { mode: 'only-flagged', flags: ['humidity'] } })).toEqual(
        sorted.filter((x) => x.qc.includes('humidity')),
      );
    });

    it('scan handles hostile ids in filters and cursors, and can be stopped early', async () => {
      const ids = [`x' OR 1=1 --`, `"; DROP DATABASE x`, 'a,b=c d', 'สถานี', '/.*/'];
      const batch = ids.flatMap((id, i) => [r({ stationId: id, deviceId: id, ts: T0 + i }), r({ ts: T0 + i })]);
      await store.write(batch);
      const sorted = [...batch].sort(compareKeys);
      for (const id of ids) {
        expect((await collect(store, { ...ALL, stationIds: [id] }, 2)).flat()).toEqual(
          sorted.filter((x) => x.stationId === id),
        );
        const k = sorted.findIndex((x) => x.deviceId === id);
        expect((await collect(store, { ...ALL, after: keyOf(sorted[k]!) }, 3)).flat()).toEqual(sorted.slice(k + 1));
      }
      let pages = 0;
      for await (const _ of store.scan(ALL, 2)) if (++pages === 1) break;
      expect(pages).toBe(1);
      expect(await store.count(ALL)).toBe(batch.length);
    });

    it('scan pages a large range in bounded pages (12 000 readings)', async () => {
      const batch = Array.from({ length: 12_000 }, (_, i) =>
        r({
          stationId: `st${i % 40}`,
          deviceId: `dev${i % 80}`,
          ts: T0 + Math.floor(i / 4) * 1000,
          values: { pm25: i },
        }),
      );
      await store.write(batch);
      const sizes: number[] = [];
      let previous: StoredReading | undefined;
      for await (const page of store.scan(ALL, 5000)) {
        sizes.push(page.length);
        for (const x of page) {
          if (previous) expect(compareKeys(previous, x)).toBeLessThan(0);
          previous = x;
        }
      }
      expect(sizes).toEqual([5000, 5000, 2000]);
    });

    it('aggregate gives mean/min/max/count per station and bucket, raw or corrected', async () => {
      const batch: Reading[] = [];
      for (let m = 0; m < 150; m += 10) {
        batch.push(
          r({
            ts: T0 + m * MIN,
            values: { pm25: m, pm10: 1 },
            corrections: m < 60 ? [{ metric: 'pm25', value: m / 2, method: 'x@1' }] : [],
          }),
        );
        batch.push(r({ stationId: 's2', ts: T0 + m * MIN + 1, values: { pm25: 2 * m } }));
      }
      batch.push(r({ stationId: 's2', ts: T0 + 5 * MIN, values: { humidity: 40 } })); // no pm25: not a sample
      await store.write(batch);
      const hourly = await store.aggregate({ ...ALL, metric: 'pm25', bucketMs: HOUR });
      expect(hourly).toEqual([
        { city: 'cnx', stationId: 's1', start: T0, mean: 25, min: 0, max: 50, count: 6, flagged: 0 },
        { city: 'cnx', stationId: 's1', start: T0 + HOUR, mean: 85, min: 60, max: 110, count: 6, flagged: 0 },
        { city: 'cnx', stationId: 's1', start: T0 + 2 * HOUR, mean: 130, min: 120, max: 140, count: 3, flagged: 0 },
        { city: 'cnx', stationId: 's2', start: T0, mean: 50, min: 0, max: 100, count: 6, flagged: 0 },
        { city: 'cnx', stationId: 's2', start: T0 + HOUR, mean: 170, min: 120, max: 220, count: 6, flagged: 0 },
        { city: 'cnx', stationId: 's2', start: T0 + 2 * HOUR, mean: 260, min: 240, max: 280, count: 3, flagged: 0 },
      ]);
      const corrected = await store.aggregate({ ...ALL, metric: 'pm25', corrected: true, bucketMs: HOUR });
      expect(corrected).toEqual([
        { city: 'cnx', stationId: 's1', start: T0, mean: 12.5, min: 0, max: 25, count: 6, flagged: 0 },
      ]);
      const s2 = await store.aggregate({ ...ALL, stationIds: ['s2'], metric: 'pm25', bucketMs: 3 * HOUR });
      expect(s2).toEqual([
        { city: 'cnx', stationId: 's2', start: T0 - 0, mean: 140, min: 0, max: 280, count: 15, flagged: 0 },
      ]);
      expect(await store.aggregate({ ...ALL, stationIds: [], metric: 'pm25', bucketMs: HOUR })).toEqual([]);
      expect(await store.aggregate({ ...ALL, metric: 'water_level', bucketMs: HOUR })).toEqual([]);
    });

    it('aggregate aligns buckets to offset + k × bucket and counts only samples inside from..to', async () => {
      // Daily buckets of Asia/Bangkok (UTC+7): local midnight is 17:00 UTC.
      const midnight = Date.UTC(2025, 2, 1, 17, 0, 0);
      await store.write([
        r({ ts: midnight - 1, values: { pm25: 10 } }),
        r({ ts: midnight, values: { pm25: 20 } }),
        r({ ts: midnight + 23 * HOUR, values: { pm25: 40 } }),
      ]);
      const day = 24 * HOUR;
      const q = { from: midnight - day, to: midnight + day, metric: 'pm25' as const, bucketMs: day };
      expect(await store.aggregate({ ...q, offsetMs: -7 * HOUR })).toEqual([
        { city: 'cnx', stationId: 's1', start: midnight - day, mean: 10, min: 10, max: 10, count: 1, flagged: 0 },
        { city: 'cnx', stationId: 's1', start: midnight, mean: 30, min: 20, max: 40, count: 2, flagged: 0 },
      ]);
      expect(await store.aggregate({ ...q, offsetMs: 17 * HOUR })).toEqual(
        await store.aggregate({ ...q, offsetMs: -7 * HOUR }),
      );
      // A range starting mid-bucket: the bucket keeps its aligned start, the sample before `from` is out.
      const mid = await store.aggregate({ ...q, from: midnight + HOUR, offsetMs: -7 * HOUR });
      expect(mid).toEqual([
        { city: 'cnx', stationId: 's1', start: midnight, mean: 40, min: 40, max: 40, count: 1, flagged: 0 },
      ]);
    });

    it('aggregate applies QC filters and always reports flagged samples', async () => {
      const batch = [
        r({ ts: T0, values: { pm25: 10 } }),
        r({ ts: T0 + MIN, values: { pm25: 20 }, qc: ['humidity'] }),
        r({ ts: T0 + 2 * MIN, values: { pm25: 900 }, qc: ['range', 'spike'] }),
        r({ ts: T0 + 3 * MIN, values: { pm25: 30 }, qc: ['stale'] }),
      ];
      await store.write(batch);
      const agg = (qc?: Parameters<ReadingStore['aggregate']>[0]['qc']) =>
        store.aggregate({ ...ALL, metric: 'pm25', bucketMs: HOUR, ...(qc ? { qc } : {}) });
      const b = { city: 'cnx', stationId: 's1', start: T0 };
      expect(await agg()).toEqual([{ ...b, mean: 240, min: 10, max: 900, count: 4, flagged: 3 }]);
      expect(await agg({ mode: 'include' })).toEqual(await agg());
      expect(await agg({ mode: 'exclude-flagged' })).toEqual([
        { ...b, mean: 10, min: 10, max: 10, count: 1, flagged: 3 },
      ]);
      expect(await agg({ mode: 'only-flagged' })).toEqual([
        { ...b, mean: 950 / 3, min: 20, max: 900, count: 3, flagged: 3 },
      ]);
      const bad = ['range', 'spike', 'stuck', 'future'] as const;
      expect(await agg({ mode: 'exclude-flagged', flags: [...bad] })).toEqual([
        { ...b, mean: 20, min: 10, max: 30, count: 3, flagged: 1 },
      ]);
      expect(await agg({ mode: 'only-flagged', flags: ['humidity'] })).toEqual([
        { ...b, mean: 20, min: 20, max: 20, count: 1, flagged: 1 },
      ]);
      // A bucket whose every sample is filtered out is left out.
      await store.write([r({ ts: T0 + 2 * HOUR, values: { pm25: 5 }, qc: ['spike'] })]);
      expect((await agg({ mode: 'exclude-flagged' })).map((x) => x.start)).toEqual([T0]);
    });

    it('countByStation counts readings per station, with QC filters and hostile ids', async () => {
      const hostile = `x' OR 1=1 --`;
      await store.write([
        r({ ts: T0 }),
        r({ ts: T0 + 1, qc: ['spike'] }),
        r({ ts: T0 + 2, qc: ['humidity'] }),
        r({ stationId: 's2', ts: T0, values: {} }),
        r({ stationId: hostile, ts: T0 }),
        r({ city: 'lpn', ts: T0 }),
      ]);
      expect(await store.countByStation(ALL)).toEqual([
        { city: 'cnx', stationId: 's1', count: 3 },
        { city: 'cnx', stationId: 's2', count: 1 },
        { city: 'cnx', stationId: hostile, count: 1 },
        { city: 'lpn', stationId: 's1', count: 1 },
      ]);
      expect(await store.countByStation({ ...ALL, stationIds: ['s1'], qc: { mode: 'only-flagged' } })).toEqual([
        { city: 'cnx', stationId: 's1', count: 2 },
      ]);
      expect(await store.countByStation({ ...ALL, qc: { mode: 'exclude-flagged' } })).toEqual([
        { city: 'cnx', stationId: 's1', count: 1 },
        { city: 'cnx', stationId: 's2', count: 1 },
        { city: 'cnx', stationId: hostile, count: 1 },
        { city: 'lpn', stationId: 's1', count: 1 },
      ]);
      expect(
        await store.countByStation({ ...ALL, stationIds: ['s1'], qc: { mode: 'only-flagged', flags: ['spike'] } }),
      ).toEqual([{ city: 'cnx', stationId: 's1', count: 1 }]);
      expect(await store.countByStation({ ...ALL, stationIds: [hostile] })).toEqual([
        { city: 'cnx', stationId: hostile, count: 1 },
      ]);
      expect(await store.countByStation({ ...ALL, stationIds: [] })).toEqual([]);
      expect(await store.countByStation({ from: T0 + 5, to: T0 + 6 })).toEqual([]);
    });

    it('validates scan, aggregate and count arguments', async () => {
      const bad: Promise<unknown>[] = [
        collect(store, ALL, 0),
        collect(store, ALL, 1.5),
        collect(store, ALL, 1_000_000),
        collect(store, { ...ALL, to: Number.NaN }, 10),
        collect(store, { ...ALL, after: { ts: T0, city: 'c', stationId: 'a\nb', deviceId: 'd' } }, 10),
        collect(store, { ...ALL, after: { ts: 1.5, city: 'c', stationId: 's', deviceId: 'd' } }, 10),
        collect(store, { ...ALL, qc: { mode: 'nope' as never } }, 10),
        collect(store, { ...ALL, qc: { mode: 'exclude-flagged', flags: ["x'; DROP" as never] } }, 10),
        collect(store, { ...ALL, qc: { mode: 'exclude-flagged', flags: [] } }, 10),
        collect(store, { ...ALL, metrics: ['pm2.5' as never] }, 10),
        store.aggregate({ ...ALL, metric: 'pm2.5' as never, bucketMs: HOUR }),
        store.aggregate({ ...ALL, metric: 'pm25', bucketMs: 500 }),
        store.aggregate({ ...ALL, metric: 'pm25', bucketMs: 1500 }),
        store.aggregate({ ...ALL, metric: 'pm25', bucketMs: 400 * 24 * HOUR }),
        store.aggregate({ ...ALL, metric: 'pm25', bucketMs: HOUR, offsetMs: 0.5 }),
        store.aggregate({
          ...ALL,
          metric: 'pm25',
          bucketMs: HOUR,
          qc: { mode: 'only-flagged', flags: ['a|b' as never] },
        }),
        store.countByStation({ ...ALL, stationIds: ['a\\b'] }),
        store.countByStation({ ...ALL, qc: { mode: 'x' as never } }),
      ];
      for (const p of bad) expect((await rejection(p)).code).toBe(STORE_ERROR_CODES.invalidQuery);
    });
  });
}

const DAY_AFTER = 48 * HOUR;
