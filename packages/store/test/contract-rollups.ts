import type { Reading } from '@cnx/domain';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  EMPTY_ROLLUP_STATE,
  type ReadingStore,
  type RollupRow,
  RollupRunner,
  type RollupStep,
  USABLE_QC,
} from '../src/index';
import type { ContractSubject } from './contract';

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
const OFFSET = -7 * HOUR; // Bangkok local days
/** Three days ago at local midnight: every bucket of the data is closed, and writes of it are late. */
const T0 = Math.floor((Date.now() - 3 * DAY - OFFSET) / DAY) * DAY + OFFSET;

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

const row = (over: Partial<RollupRow> = {}): RollupRow => ({
  level: '1h',
  city: 'cnx',
  stationId: 's1',
  metric: 'pm25',
  start: T0,
  mean: 10.25,
  min: 1,
  max: 20,
  count: 3,
  flagged: 1,
  expected: 60,
  ...over,
});

/** Two stations, one reading a minute for `hours` from T0, a flagged sample now and then. */
function data(hours: number, shift = 0): Reading[] {
  const out: Reading[] = [];
  for (const [i, stationId] of ['s1', 's2'].entries()) {
    for (let ts = T0; ts < T0 + hours * HOUR; ts += MIN) {
      const k = (ts - T0) / MIN;
      out.push(
        r({
          stationId,
          deviceId: `d${i + 1}`,
          ts,
          values: { pm25: 10 + ((k * 7 + i + shift) % 23) / 4, humidity: 60 },
          corrections: [{ metric: 'pm25', value: 8 + (k % 5) / 2, method: 'epa-barkjohn-2021-extended@1' }],
          qc: k % 17 === 0 ? ['spike'] : k % 13 === 0 ? ['humidity'] : [],
          ...(k % 17 === 0 ? { qcMetrics: ['pm25' as const] } : {}),
        }),
      );
    }
  }
  return out;
}

const stations = [
  { id: 's1', intervalsMs: [MIN] },
  { id: 's2', intervalsMs: [MIN, 2 * MIN] },
];

const everything = async (store: ReadingStore) => ({
  hour: await store.readRollups({ level: '1h', city: 'cnx', from: 0, to: Date.now() + DAY }),
  day: await store.readRollups({ level: '1d', city: 'cnx', from: 0, to: Date.now() + DAY }),
});

/** Rollups and retention: run on every backend (README "Rollups and retention"). */
export function runRollupContract(name: string, factory: () => Promise<ContractSubject>): void {
  describe(`ReadingStore rollup contract: ${name}`, () => {
    let subject: ContractSubject;
    let store: ReadingStore;
    const runner = (o: { retentionMs?: number; afterStep?: (s: RollupStep) => void } = {}) =>
      new RollupRunner(store, {
        city: 'cnx',
        offsetMs: OFFSET,
        stations,
        rawRetentionMs: o.retentionMs ?? 365 * DAY,
        metrics: ['pm25', 'pm25_corrected', 'water_level'],
        chunkMs: DAY,
        lateSettleMs: 0,
        ...(o.afterStep ? { afterStep: o.afterStep } : {}),
      });
    // Marks are stamped with the wall clock at write; runs here take them at once (lateSettleMs 0).
    const later = () => Date.now();

    beforeEach(async () => {
      subject = await factory();
      store = subject.store;
      await store.start();
    });

    afterEach(async () => {
      await store.stop();
      await subject.teardown?.();
    });

    it('replaceRollups upserts by (level, city, station, metric, start) and removes buckets of the range it no longer has', async () => {
      const range = { level: '1h' as const, city: 'cnx', from: T0, to: T0 + 3 * HOUR };
      const rows = [
        row(),
        row({ start: T0 + HOUR, mean: 0.1 + 0.2 }),
        row({ stationId: 's2' }),
        row({ metric: 'pm25_corrected' }),
      ];
      await store.replaceRollups(range, rows);
      await store.replaceRollups(range, rows); // idempotent
      const all = await store.readRollups({ ...range });
      expect(all).toEqual([rows[0], rows[1], rows[3], rows[2]]); // city, station, metric, start
      expect(await store.readRollups({ ...range, stationIds: ['s2'] })).toEqual([rows[2]]);
      expect(await store.readRollups({ ...range, metrics: ['pm25'], from: T0 + HOUR })).toEqual([rows[1]]);
      expect(await store.readRollups({ ...range, level: '1d' })).toEqual([]);
      // Replacing s1's range leaves s2 alone and drops s1's bucket at T0 + 1 h.
      const again = [row({ mean: 11 })];
      await store.replaceRollups({ ...range, stationIds: ['s1'] }, again);
      expect(await store.readRollups({ ...range })).toEqual([again[0], rows[2]]);
      await expect(store.replaceRollups({ ...range, to: T0 + HOUR }, [row({ start: T0 + HOUR })])).rejects.toThrow(
        /outside the range/,
      );
    });

    it('keeps the rollup state per city; a fresh store has none', async () => {
      expect(await store.rollupState('cnx')).toEqual(EMPTY_ROLLUP_STATE);
      await store.saveRollupState('cnx', { hour: T0, day: T0 - DAY, lateCursor: 5, rawFrom: 1 });
      await store.saveRollupState('lpg', { hour: 1, day: 2, lateCursor: 3, rawFrom: 4 });
      await store.saveRollupState('cnx', { hour: T0 + HOUR, day: T0, lateCursor: 6, rawFrom: 1 });
      expect(await store.rollupState('cnx')).toEqual({ hour: T0 + HOUR, day: T0, lateCursor: 6, rawFrom: 1 });
      expect(await store.rollupState('lpg')).toEqual({ hour: 1, day: 2, lateCursor: 3, rawFrom: 4 });
    });

    it('marks the hours of readings written after their hour ended, with the write time; not the open hour', async () => {
      const before = Date.now() - 1;
      await store.write([r({ ts: T0 + 5 * MIN }), r({ ts: T0 + 50 * MIN }), r({ stationId: 's2', ts: T0 + HOUR })]);
      await store.write([r({ ts: Date.now() })]);
      const after = Date.now();
      expect(await store.lateHours('cnx', before, after)).toEqual([
        { stationId: 's1', start: T0 },
        { stationId: 's2', start: T0 + HOUR },
      ]);
      expect(await store.lateHours('cnx', after, after + DAY)).toEqual([]);
      expect(await store.lateHours('lpg', before, after)).toEqual([]);
    });

    it('rolls up the usable readings exactly as aggregate() computes them, with coverage per device cadence', async () => {
      await store.write(data(30));
      const result = await runner().run(later());
      expect(result.state.hour).toBeGreaterThan(T0 + 30 * HOUR);
      const { hour, day } = await everything(store);
      const raw = await store.aggregate({
        from: T0,
        to: T0 + 30 * HOUR,
        metric: 'pm25',
        bucketMs: HOUR,
        offsetMs: OFFSET,
        qc: USABLE_QC,
      });
      const pm25 = hour.filter((x) => x.metric === 'pm25');
      expect(pm25.map(({ level: _, metric: __, expected: ___, ...b }) => b)).toEqual(raw);
      expect(pm25.length).toBe(60);
      expect(pm25.find((x) => x.stationId === 's2')?.expected).toBe(90); // 60 + 30 a hour
      expect(pm25[0]!.flagged).toBeGreaterThan(0); // spike samples are counted, kept out of the mean
      expect(hour.filter((x) => x.metric === 'pm25_corrected').length).toBe(60);
      expect(hour.filter((x) => x.metric === 'water_level')).toEqual([]);
      expect(day.filter((x) => x.metric === 'pm25').map((x) => [x.stationId, x.start, x.count])).toEqual([
        ['s1', T0, 1440 - 85],
        ['s1', T0 + DAY, 360 - 21],
        ['s2', T0, 1440 - 85],
        ['s2', T0 + DAY, 360 - 21],
      ]);
      // A second run finds nothing new and leaves the same rows.
      await runner().run(later());
      expect(await everything(store)).toEqual({ hour, day });
    });

    it('a crash between any two steps and a re-run give the same rows as one clean run', async () => {
      const readings = data(30);
      await store.write(readings);
      await runner().run(later());
      const clean = await everything(store);
      const retention = Date.now() - (T0 + DAY + HOUR); // keeps raw from T0 + 1 d
      for (const step of ['late', 'hour', 'day', 'retention'] as const) {
        // Start over: no rollups, no state, the raw readings written again (late: they mark their hours).
        await store.saveRollupState('cnx', EMPTY_ROLLUP_STATE);
        for (const level of ['1h', '1d'] as const) {
          await store.replaceRollups({ level, city: 'cnx', from: 0, to: Date.now() + DAY }, []);
        }
        await store.deleteRawBefore(Date.now() + DAY);
        await store.write(readings);
        let crashed = 0;
        const crashing = runner({
          retentionMs: retention,
          afterStep: (s) => {
            if (s === step && crashed++ === 0) throw new Error(`crash after ${s}`);
          },
        });
        await expect(crashing.run(later()), step).rejects.toThrow(`crash after ${step}`);
        const result = await runner({ retentionMs: retention }).run(later());
        expect(await everything(store), step).toEqual(clean);
        expect(result.rawFrom, step).toBe(T0 + DAY);
        expect(await store.count({ from: 0, to: Date.now() + DAY }), step).toBe(2 * 360);
      }
    });

    it('late readings (history) re-open their hour and day; a re-run recomputes them', async () => {
      await store.write(data(30));
      await runner().run(later());
      const before = await everything(store);
      // History upload into a rolled-up hour: a new usable sample and a flagged one at new times.
      await store.write([
        r({ ts: T0 + 2 * HOUR + 30_000, values: { pm25: 500 } }),
        r({ ts: T0 + 2 * HOUR + 40_000, values: { pm25: 900 }, qc: ['range'], qcMetrics: ['pm25'] }),
      ]);
      const result = await runner().run(later());
      expect(result.lateHours).toBe(1);
      const after = await everything(store);
      const at = (rows: RollupRow[], start: number) =>
        rows.find((x) => x.stationId === 's1' && x.metric === 'pm25' && x.start === start)!;
      expect(at(after.hour, T0 + 2 * HOUR).count).toBe(at(before.hour, T0 + 2 * HOUR).count + 1);
      expect(at(after.hour, T0 + 2 * HOUR).flagged).toBe(at(before.hour, T0 + 2 * HOUR).flagged + 1);
      expect(at(after.hour, T0 + 2 * HOUR).max).toBe(500);
      expect(at(after.day, T0).count).toBe(at(before.day, T0).count + 1);
      // Every other bucket is unchanged.
      const others = (rows: RollupRow[]) =>
        rows.filter(
          (x) =>
            !(
              x.stationId === 's1' &&
              x.metric === 'pm25' &&
              (x.start === T0 + 2 * HOUR || (x.level === '1d' && x.start === T0))
            ),
        );
      expect(others(after.hour)).toEqual(others(before.hour));
      expect(others(after.day)).toEqual(others(before.day));
    });

    it('retention deletes raw readings only below the rolled-up buckets; late readings for deleted days are left alone', async () => {
      await store.write(data(30));
      const count = () => store.count({ from: 0, to: Date.now() + DAY });
      const total = await count();
      // Raw kept from T0 + 1 d + 1 h: the day boundary below it, T0 + 1 d, is where deletion stops.
      const retentionMs = Date.now() - (T0 + DAY + HOUR);
      const result = await runner({ retentionMs }).run(later());
      expect(result.rawDeleted).toBe(true);
      expect(result.rawFrom).toBe(T0 + DAY);
      expect(await count()).toBe(total - 2 * 1440);
      // Marks of deleted hours go with them.
      expect((await store.lateHours('cnx', 0, Date.now())).every((h) => h.start >= T0 + DAY)).toBe(true);
      const rolled = await everything(store);
      expect(rolled.hour.filter((x) => x.metric === 'pm25').length).toBe(60);
      // A late reading into the deleted day must not replace its buckets with a bucket of one sample.
      await store.write([r({ ts: T0 + 2 * HOUR + 30_000, values: { pm25: 500 } })]);
      const again = await runner({ retentionMs }).run(later());
      expect(again.lateSkipped).toBe(1);
      expect(await everything(store)).toEqual(rolled);
    });
  });
}
