/**
 * Seed data for the API bench (api.bench.ts): deterministic readings for every station of a city
 * pack, `seedDays` (the last days of them in a SQLite store), and `seedYear`, a store as the real system holds a year: raw readings for the retention
 * (90 days), written through the store's write() as the gateway does and rolled up by the store's
 * RollupRunner, and hourly and daily rollups for the nine months before, aggregated here from the same
 * generated readings (whose raw readings retention would have deleted).
 */
import { statSync } from 'node:fs';
import type { CityPack } from '@cnx/city-pack';
import { deviceIntervalMs, expectedSamples, type Reading } from '@cnx/domain';
import {
  bucketStart,
  ROLLUP_BUCKET_MS,
  type RollupLevel,
  type RollupRow,
  RollupRunner,
  SqliteReadingStore,
} from '@cnx/store';

export const CITY = 'chiang-mai';
const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
/** Asia/Bangkok: local hours and days, as the API's series and the gateway's rollups. */
export const OFFSET_MS = -7 * HOUR;

/** Deterministic PM2.5-like values: a daily cycle (smoky mornings), a per-station level and noise. */
export function* airReadings(pack: CityPack, from: number, to: number, stepMs: number): Generator<Reading> {
  const stations = pack.stations.filter((s) => s.kind === 'air');
  let seed = 12345;
  const rnd = () => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed / 2 ** 31;
  };
  for (const [i, st] of stations.entries()) {
    const device = pack.devices.find((d) => d.stationId === st.id);
    if (!device) continue;
    let seq = 0;
    for (let ts = from; ts < to; ts += stepMs) {
      const hourOfDay = ((ts / HOUR + 7) % 24) / 24;
      const pm25 = Math.round((25 + 3 * i + 20 * Math.cos(2 * Math.PI * (hourOfDay - 0.3)) + 6 * rnd()) * 10) / 10;
      yield {
        city: CITY,
        stationId: st.id,
        deviceId: device.id,
        ts,
        seq: seq++,
        values: {
          pm1: Math.round(pm25 * 7) / 10,
          pm25,
          pm10: Math.round(pm25 * 14) / 10,
          temperature: 28 + Math.round(rnd() * 40) / 10,
          humidity: 55 + Math.round(rnd() * 200) / 10,
        },
        corrections: [{ metric: 'pm25', value: Math.round(pm25 * 6) / 10, method: 'epa-barkjohn-2021-extended@1' }],
        qc: [],
      };
    }
  }
}

export function* canalReadings(pack: CityPack, from: number, to: number, stepMs: number): Generator<Reading> {
  for (const st of pack.stations.filter((s) => s.kind === 'canal')) {
    const device = pack.devices.find((d) => d.stationId === st.id);
    if (!device) continue;
    for (let ts = from; ts < to; ts += stepMs) {
      const level = Math.round((1 + 0.3 * Math.sin((2 * Math.PI * ts) / DAY)) * 1000) / 1000;
      yield {
        city: CITY,
        stationId: st.id,
        deviceId: device.id,
        ts,
        values: { water_level: level, do: 4.2, ph: 7.1 },
        corrections: [],
        qc: [],
      };
    }
  }
}

/** Writes the generated readings in batches of 20,000, calling `progress` every `every` readings. */
async function writeReadings(
  store: SqliteReadingStore,
  gens: Iterable<Reading>[],
  every: number,
  progress: (written: number) => void,
): Promise<number> {
  let readings = 0;
  let batch: Reading[] = [];
  for (const gen of gens) {
    for (const r of gen) {
      batch.push(r);
      if (batch.length === 20_000) {
        await store.write(batch);
        readings += batch.length;
        batch = [];
        if (readings % every === 0) progress(readings);
      }
    }
  }
  await store.write(batch);
  return readings + batch.length;
}

/** What `seedDays` wrote. */
export interface SeedSummary {
  airStations: number;
  canalStations: number;
  readings: number;
  airStepMin: number;
  canalStepMin: number;
  days: number;
  from: string;
  to: string;
  seconds: number;
  fileMb: number;
}

/** `opts.days` ending now for every station: air every `opts.stepMin` minutes, canal every 5 minutes. */
export async function seedDays(
  path: string,
  pack: CityPack,
  opts: { days: number; stepMin: number },
  now: number,
  log: (msg: string) => void,
): Promise<SeedSummary> {
  const started = Date.now();
  const to = Math.floor(now / MIN) * MIN;
  const from = to - opts.days * DAY;
  const store = new SqliteReadingStore({ path });
  await store.start();
  let readings = 0;
  try {
    readings = await writeReadings(
      store,
      [airReadings(pack, from, to, opts.stepMin * MIN), canalReadings(pack, from, to, 5 * MIN)],
      200_000,
      (n) => log(`  seeded ${n} readings`),
    );
  } finally {
    await store.stop();
  }
  return {
    airStations: pack.stations.filter((s) => s.kind === 'air').length,
    canalStations: pack.stations.filter((s) => s.kind === 'canal').length,
    readings,
    airStepMin: opts.stepMin,
    canalStepMin: 5,
    days: opts.days,
    from: new Date(from).toISOString(),
    to: new Date(to).toISOString(),
    seconds: Math.round((Date.now() - started) / 100) / 10,
    fileMb: Math.round(statSync(path).size / 2 ** 20),
  };
}

export interface YearSeed {
  readings: number;
  rollupRows: number;
  rawFrom: string;
  yearFrom: string;
  to: string;
  seconds: { raw: number; rollupRunner: number; olderRollups: number };
}

const stationIntervals = (pack: CityPack, stationId: string) =>
  pack.devices.filter((d) => d.stationId === stationId).map(deviceIntervalMs);

/** A year for every station: raw readings for `rawDays`, rollups for the whole year. */
export async function seedYear(
  path: string,
  pack: CityPack,
  now: number,
  stepMin: number,
  rawDays: number,
  log: (msg: string) => void,
): Promise<YearSeed> {
  const to = Math.floor(now / MIN) * MIN;
  const rawFrom = bucketStart(to - rawDays * DAY, '1d', OFFSET_MS);
  const yearFrom = bucketStart(to - 365 * DAY, '1d', OFFSET_MS);
  const store = new SqliteReadingStore({ path });
  await store.start();
  const t0 = Date.now();
  let readings = 0;
  let rollupRows = 0;
  try {
    readings = await writeReadings(
      store,
      [airReadings(pack, rawFrom, to, stepMin * MIN), canalReadings(pack, rawFrom, to, 5 * MIN)],
      500_000,
      (n) => log(`  seeded ${n} raw readings`),
    );
    const t1 = Date.now();
    log(`  ${readings} raw readings in ${((t1 - t0) / 1000).toFixed(1)} s; rolling them up (RollupRunner)`);
    const run = await new RollupRunner(store, {
      city: CITY,
      offsetMs: OFFSET_MS,
      stations: pack.stations.map((s) => ({ id: s.id, intervalsMs: stationIntervals(pack, s.id) })),
      rawRetentionMs: rawDays * DAY,
    }).run(now);
    rollupRows += run.rows['1h'] + run.rows['1d'];
    const t2 = Date.now();
    log(`  ${rollupRows} rollup rows in ${((t2 - t1) / 1000).toFixed(1)} s; the nine months before`);
    rollupRows += await olderRollups(store, pack, yearFrom, rawFrom, stepMin);
    const t3 = Date.now();
    return {
      readings,
      rollupRows,
      rawFrom: new Date(rawFrom).toISOString(),
      yearFrom: new Date(yearFrom).toISOString(),
      to: new Date(to).toISOString(),
      seconds: { raw: (t1 - t0) / 1000, rollupRunner: (t2 - t1) / 1000, olderRollups: (t3 - t2) / 1000 },
    };
  } finally {
    await store.stop();
  }
}

/** Hourly and daily rows of the generated readings in [from, to), per station and metric. */
async function olderRollups(
  store: SqliteReadingStore,
  pack: CityPack,
  from: number,
  to: number,
  stepMin: number,
): Promise<number> {
  interface Acc {
    sum: number;
    min: number;
    max: number;
    n: number;
  }
  const rows: Record<RollupLevel, RollupRow[]> = { '1h': [], '1d': [] };
  const open = new Map<string, { level: RollupLevel; stationId: string; metric: string; start: number; acc: Acc }>();
  const flush = (key: string) => {
    const o = open.get(key)!;
    open.delete(key);
    const expected = expectedSamples(ROLLUP_BUCKET_MS[o.level], stationIntervals(pack, o.stationId));
    const { sum, min, max, n } = o.acc;
    rows[o.level].push({
      level: o.level,
      city: CITY,
      stationId: o.stationId,
      metric: o.metric,
      start: o.start,
      mean: sum / n,
      min,
      max,
      count: n,
      flagged: 0,
      expected,
    });
  };
  const add = (level: RollupLevel, stationId: string, metric: string, ts: number, v: number) => {
    const start = bucketStart(ts, level, OFFSET_MS);
    const key = `${level}\u0000${stationId}\u0000${metric}`;
    const o = open.get(key);
    if (o && o.start !== start) flush(key);
    const cur = open.get(key);
    if (cur) {
      cur.acc.sum += v;
      cur.acc.n++;
      if (v < cur.acc.min) cur.acc.min = v;
      if (v > cur.acc.max) cur.acc.max = v;
    } else open.set(key, { level, stationId, metric, start, acc: { sum: v, min: v, max: v, n: 1 } });
  };
  for (const gen of [airReadings(pack, from, to, stepMin * MIN), canalReadings(pack, from, to, 5 * MIN)]) {
    for (const r of gen) {
      for (const [m, v] of Object.entries(r.values)) {
        add('1h', r.stationId, m, r.ts, v);
        add('1d', r.stationId, m, r.ts, v);
      }
      for (const c of r.corrections) {
        add('1h', r.stationId, `${c.metric}_corrected`, r.ts, c.value);
        add('1d', r.stationId, `${c.metric}_corrected`, r.ts, c.value);
      }
    }
  }
  for (const key of [...open.keys()]) flush(key);
  let n = 0;
  for (const level of ['1h', '1d'] as const) {
    await store.replaceRollups({ level, city: CITY, from, to }, rows[level]);
    n += rows[level].length;
  }
  return n;
}
