import { QC_POLICY, type QcFlag, type Reading } from '@cnx/domain';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  type AggregateQuery,
  type QcFilter,
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
/** The flags the quality policy keeps out of "now" views, series and alerts. */
const EXCLUDE = QC_POLICY.now.exclude as QcFlag[];

const r = (over: Partial<Reading> = {}): Reading => ({
  city: 'cnx',
  stationId: 'canal1',
  deviceId: 'c1',
  ts: T0,
  values: { water_level: 1.25, do: 6 },
  corrections: [],
  qc: [],
  ...over,
});

async function rejection(p: Promise<unknown>): Promise<StoreError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e, 'expected the call to reject').toBeInstanceOf(StoreError);
  return e as StoreError;
}

/**
 * Per-metric QC (`qcMetrics`, stored as `qc_metrics`, and `QcFilter.metric`): every implementation
 * runs it. `subject.legacy` stores readings the way the store did before `qc_metrics`
 * existed (InfluxDB: points without the field; SQLite: NULL in the column).
 */
export function runReadingStoreQcMetricsContract(name: string, factory: () => Promise<ContractSubject>): void {
  describe(`ReadingStore per-metric QC contract: ${name}`, () => {
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

    const scan = async (q: Partial<ScanQuery> = {}): Promise<StoredReading[]> => {
      const out: StoredReading[] = [];
      for await (const page of store.scan({ ...ALL, ...q }, 2)) out.push(...page);
      return out;
    };
    const agg = (q: Partial<AggregateQuery> & Pick<AggregateQuery, 'metric'>) =>
      store.aggregate({ ...ALL, bucketMs: HOUR, ...q });
    const counts = async (qc: QcFilter) => (await store.countByStation({ ...ALL, qc })).map((c) => c.count);
    const usable = (metric?: AggregateQuery['metric']): QcFilter => ({
      mode: 'exclude-flagged',
      flags: EXCLUDE,
      ...(metric ? { metric } : {}),
    });

    it('round-trips qcMetrics in registry order; absent when none, empty or unknown', async () => {
      const written: Reading[] = [
        r({ ts: T0, qc: ['stuck'], qcMetrics: ['do'] }),
        r({ ts: T0 + 1, qc: ['range', 'humidity', 'spike'], qcMetrics: ['battery', 'pm25', 'temperature'] }),
        r({ ts: T0 + 2 }),
        r({ ts: T0 + 3, qc: ['stale'] }),
        r({ ts: T0 + 4, qc: ['stale'], qcMetrics: [] }),
        r({ ts: T0 + 5, qc: ['spike'] }), // a producer that did not name the metric
      ];
      await store.write(written);
      const back = await store.query({ ...ALL, limit: 100 });
      expect(back.map((x) => x.qcMetrics)).toEqual([
        ['do'],
        ['pm25', 'temperature', 'battery'],
        undefined,
        undefined,
        undefined,
        undefined,
      ]);
      expect(back.map((x) => 'qcMetrics' in x)).toEqual([true, true, false, false, false, false]);
      expect(back[0]).toEqual(written[0]);
      expect(back[1]).toEqual({ ...written[1], qcMetrics: ['pm25', 'temperature', 'battery'] });
      expect(back.slice(2)).toEqual([written[2], written[3], r({ ts: T0 + 4, qc: ['stale'] }), written[5]]);
      // Projection, scan and latestPerStation return it too.
      expect((await store.query({ ...ALL, limit: 1, metrics: ['water_level'] }))[0]?.qcMetrics).toEqual(['do']);
      expect((await scan()).map((x) => x.qcMetrics)).toEqual(back.map((x) => x.qcMetrics));
    });

    it('a replay overwrites qc_metrics, also to none', async () => {
      await store.write([r({ qc: ['stuck'], qcMetrics: ['do'] })]);
      await store.write([r({ qc: ['stuck', 'range'], qcMetrics: ['water_level', 'do'] })]);
      expect((await store.query({ ...ALL, limit: 10 }))[0]?.qcMetrics).toEqual(['water_level', 'do']);
      await store.write([r({ qc: ['stale'] })]);
      expect(await store.query({ ...ALL, limit: 10 })).toEqual([r({ qc: ['stale'] })]);
      expect(await store.count(ALL)).toBe(1);
    });

    it('canal: a reading stuck on DO counts for water level and is left out for DO', async () => {
      const clean = r({ ts: T0, values: { water_level: 1.0, do: 6 } });
      const frozen = r({ ts: T0 + MIN, values: { water_level: 1.5, do: 6 }, qc: ['stuck'], qcMetrics: ['do'] });
      await store.write([clean, frozen]);
      // scan
      expect(await scan({ qc: usable('water_level') })).toEqual([clean, frozen]);
      expect(await scan({ qc: usable('do') })).toEqual([clean]);
      expect(await scan({ qc: usable() })).toEqual([clean]);
      expect(await scan({ qc: { mode: 'only-flagged', flags: EXCLUDE, metric: 'do' } })).toEqual([frozen]);
      expect(await scan({ qc: { mode: 'only-flagged', flags: EXCLUDE, metric: 'water_level' } })).toEqual([]);
      expect(await scan({ qc: { mode: 'exclude-flagged', metric: 'water_level' } })).toEqual([clean, frozen]);
      // aggregate: its own metric unless qc.metric names one; flagged counts follow.
      const b = { city: 'cnx', stationId: 'canal1', start: T0 };
      expect(await agg({ metric: 'water_level', qc: usable() })).toEqual([
        { ...b, mean: 1.25, min: 1.0, max: 1.5, count: 2, flagged: 0 },
      ]);
      expect(await agg({ metric: 'do', qc: usable() })).toEqual([
        { ...b, mean: 6, min: 6, max: 6, count: 1, flagged: 1 },
      ]);
      expect(await agg({ metric: 'water_level', qc: usable('do') })).toEqual([
        { ...b, mean: 1.0, min: 1.0, max: 1.0, count: 1, flagged: 1 },
      ]);
      expect(await agg({ metric: 'water_level' })).toEqual([
        { ...b, mean: 1.25, min: 1.0, max: 1.5, count: 2, flagged: 0 },
      ]);
      expect(await agg({ metric: 'do' })).toEqual([{ ...b, mean: 6, min: 6, max: 6, count: 2, flagged: 1 }]);
      expect(await agg({ metric: 'do', qc: { mode: 'only-flagged' } })).toEqual([
        { ...b, mean: 6, min: 6, max: 6, count: 1, flagged: 1 },
      ]);
      // countByStation
      expect(await counts(usable('water_level'))).toEqual([2]);
      expect(await counts(usable('do'))).toEqual([1]);
      expect(await counts(usable())).toEqual([1]);
      expect(await counts({ mode: 'only-flagged', metric: 'do' })).toEqual([1]);
    });

    it('canal, latestPerStation: the newest reading usable for the asked metric', async () => {
      const now = Date.now();
      const clean = r({ ts: now - 2 * MIN, values: { water_level: 1.0, do: 6 } });
      const frozen = r({ ts: now - MIN, values: { water_level: 1.2, do: 6 }, qc: ['stuck'], qcMetrics: ['do'] });
      await store.write([clean, frozen]);
      const since = now - HOUR;
      expect(await store.latestPerStation(since, undefined, usable('water_level'))).toEqual([frozen]);
      expect(await store.latestPerStation(since, ['canal1'], usable('do'))).toEqual([clean]);
      expect(await store.latestPerStation(since, undefined, usable())).toEqual([clean]);
    });

    it('whole-reading flags exclude for every metric, and are flagged for every metric', async () => {
      const ok = r({ ts: T0, values: { water_level: 1, do: 6, pm25: 10 } });
      const stale = r({ ts: T0 + MIN, values: { water_level: 2, do: 7, pm25: 20 }, qc: ['stale'] });
      const both = r({
        ts: T0 + 2 * MIN,
        values: { water_level: 3, do: 8, pm25: 30 },
        qc: ['stuck', 'seq_duplicate'],
        qcMetrics: ['do'],
      });
      await store.write([ok, stale, both]);
      for (const metric of ['water_level', 'do', 'pm25'] as const) {
        expect(await scan({ qc: usable(metric) }), metric).toEqual([ok]);
        expect(await counts(usable(metric)), metric).toEqual([1]);
        expect(await agg({ metric, qc: usable() }), metric).toEqual([
          expect.objectContaining({ count: 1, flagged: 2, mean: ok.values[metric] }),
        ]);
        // No flag list: any whole-reading code counts, metric flags only about the metric.
        expect(await scan({ qc: { mode: 'only-flagged', metric } }), metric).toEqual([stale, both]);
      }
      // humidity only annotates: it is not in the policy's list, so it never excludes.
      await store.write([r({ ts: T0 + 3 * MIN, qc: ['humidity', 'spike'], qcMetrics: ['pm25'] })]);
      expect((await scan({ qc: usable('water_level') })).map((x) => x.ts)).toEqual([T0, T0 + 3 * MIN]);
      expect((await scan({ qc: { mode: 'exclude-flagged', metric: 'water_level' } })).map((x) => x.ts)).toEqual([T0]);
    });

    it('a spike on temperature does not exclude PM2.5 from aggregates; flagged counts follow', async () => {
      const air = (m: number, over: Partial<Reading> = {}) =>
        r({ stationId: 'air1', ts: T0 + m * MIN, values: { pm25: 10 + m, temperature: 30 }, ...over });
      await store.write([
        air(0),
        air(1, { values: { pm25: 11, temperature: 55 }, qc: ['spike'], qcMetrics: ['temperature'] }),
        air(2, { values: { pm25: 900, temperature: 30 }, qc: ['range', 'spike'], qcMetrics: ['pm25'] }),
        air(3, { values: { pm25: 15, temperature: 30 }, qc: ['humidity'] }),
      ]);
      const b = { city: 'cnx', stationId: 'air1', start: T0 };
      expect(await agg({ metric: 'pm25', qc: usable() })).toEqual([
        { ...b, mean: 12, min: 10, max: 15, count: 3, flagged: 1 },
      ]);
      expect(await agg({ metric: 'temperature', qc: usable() })).toEqual([
        { ...b, mean: 30, min: 30, max: 30, count: 3, flagged: 1 },
      ]);
      // Only the flagged samples of PM2.5: the temperature spike is not one.
      expect(await agg({ metric: 'pm25', qc: { mode: 'only-flagged', flags: EXCLUDE } })).toEqual([
        { ...b, mean: 900, min: 900, max: 900, count: 1, flagged: 1 },
      ]);
      // Without a flag list, humidity is a flag about the whole reading.
      expect(await agg({ metric: 'pm25', qc: { mode: 'exclude-flagged' } })).toEqual([
        { ...b, mean: 10.5, min: 10, max: 11, count: 2, flagged: 2 },
      ]);
      // The same question about the whole reading: both spikes count.
      expect(await scan({ stationIds: ['air1'], qc: usable() })).toHaveLength(2);
      expect(await scan({ stationIds: ['air1'], qc: usable('pm25') })).toHaveLength(3);
    });

    it('a metric flag without qcMetrics counts for every metric, to be safe', async () => {
      const unnamed = r({ ts: T0 + MIN, qc: ['spike'] });
      await store.write([r(), unnamed]);
      for (const metric of ['water_level', 'do'] as const) {
        expect(await scan({ qc: usable(metric) })).toEqual([r()]);
        expect(await scan({ qc: { mode: 'only-flagged', flags: EXCLUDE, metric } })).toEqual([unnamed]);
        expect(await agg({ metric, qc: usable() })).toEqual([expect.objectContaining({ count: 1, flagged: 1 })]);
      }
    });

    it('readings stored before qc_metrics existed: metric flags count for every metric', async () => {
      const clean = r({ ts: T0 });
      const stuck = r({ ts: T0 + MIN, values: { water_level: 2, do: 6 }, qc: ['stuck'] });
      const humid = r({ ts: T0 + 2 * MIN, qc: ['humidity'] });
      const stale = r({ ts: T0 + 3 * MIN, qc: ['stale'] });
      const frozen = r({ ts: T0 + 4 * MIN, values: { water_level: 2, do: 6 }, qc: ['stuck'], qcMetrics: ['do'] });
      await subject.legacy([clean, stuck, humid, stale]);
      const back = await store.query({ ...ALL, limit: 10 });
      expect(back).toEqual([clean, stuck, humid, stale]);
      expect(back.every((x) => !('qcMetrics' in x))).toBe(true);
      // Twice: with old readings only (InfluxDB: the field is unknown to the shard), and beside a new
      // one (the field exists, the old points lack it).
      for (const withNew of [false, true]) {
        if (withNew) await store.write([frozen]);
        for (const metric of ['water_level', 'do'] as const) {
          const at = `${metric}${withNew ? ' beside a new reading' : ''}`;
          const newUsable = withNew && metric === 'water_level';
          const newFlagged = withNew && metric === 'do';
          const usableOnes = newUsable ? [clean, humid, frozen] : [clean, humid];
          const flaggedOnes = newFlagged ? [stuck, stale, frozen] : [stuck, stale];
          expect(await scan({ qc: usable(metric) }), at).toEqual(usableOnes);
          expect(await scan({ qc: { mode: 'only-flagged', flags: EXCLUDE, metric } }), at).toEqual(flaggedOnes);
          expect(await scan({ qc: { mode: 'only-flagged', metric } }), at).toEqual(
            newFlagged ? [stuck, humid, stale, frozen] : [stuck, humid, stale],
          );
          expect(await counts(usable(metric)), at).toEqual([usableOnes.length]);
          expect(await counts({ mode: 'only-flagged', flags: EXCLUDE, metric }), at).toEqual([flaggedOnes.length]);
          expect(await agg({ metric, qc: usable() }), at).toEqual([
            expect.objectContaining({ count: usableOnes.length, flagged: flaggedOnes.length }),
          ]);
          expect(await agg({ metric }), at).toEqual([
            expect.objectContaining({ count: withNew ? 5 : 4, flagged: newFlagged ? 4 : 3 }),
          ]);
          expect(await store.latestPerStation(T0 - HOUR, undefined, usable(metric)), at).toEqual([usableOnes.at(-1)]);
        }
      }
    });

    it('rejects bad qcMetrics, naming the bad value, writing nothing of the batch', async () => {
      const cases: Array<[Partial<Reading>, string]> = [
        [{ qc: ['stuck'], qcMetrics: ['pm2.5' as never] }, '"pm2.5"'],
        [{ qc: ['stuck'], qcMetrics: [7 as never] }, '7'],
        [{ qc: ['stuck'], qcMetrics: ['do', 'do'] }, '["do","do"]'],
        [{ qc: ['stuck'], qcMetrics: 'do' as never }, '"do"'],
        [{ qc: ['stuck'], qcMetrics: null as never }, 'null'],
        [{ qc: ['stale'], qcMetrics: ['do'] }, '["do"]'],
        [{ qc: [], qcMetrics: ['water_level'] }, '["water_level"]'],
      ];
      for (const [patch, shown] of cases) {
        const e = await rejection(store.write([r(), r({ ts: T0 + 1, ...patch })]));
        expect(e.code, JSON.stringify(patch)).toBe(STORE_ERROR_CODES.invalidReading);
        expect(e.retryable).toBe(false);
        expect(e.message).toContain(shown);
      }
      expect(await store.count(ALL)).toBe(0);
      const bad: Promise<unknown>[] = [
        scan({ qc: { mode: 'exclude-flagged', metric: 'pm2.5' as never } }),
        store.countByStation({ ...ALL, qc: { mode: 'only-flagged', metric: "do' OR 1=1" as never } }),
        store.latestPerStation(T0, undefined, { mode: 'exclude-flagged', metric: 'constructor' as never }),
        agg({ metric: 'pm25', qc: { mode: 'include', metric: 'x/' as never } }),
      ];
      for (const p of bad) expect((await rejection(p)).code).toBe(STORE_ERROR_CODES.invalidQuery);
    });
  });
}
