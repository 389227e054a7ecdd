import { isMetricId } from '@cnx/domain';
import { invalidQuery, show } from './errors';
import { idProblem } from './validate';

/**
 * Rollups: hourly and daily aggregates per (city, station, metric), built from the quality policy's
 * usable readings (rollup.ts), kept for good while raw readings are kept a configurable time.
 * README "Rollups and retention".
 */
export const ROLLUP_LEVELS = ['1h', '1d'] as const;
export type RollupLevel = (typeof ROLLUP_LEVELS)[number];
export const ROLLUP_BUCKET_MS: Readonly<Record<RollupLevel, number>> = Object.freeze({
  '1h': 3_600_000,
  '1d': 86_400_000,
});

/** Late-write marks are per UTC hour (README "Late readings"). */
export const LATE_HOUR_MS = 3_600_000;

/** One bucket of one station and metric (a metric id or `<id>_corrected`); its identity is (level, city, stationId, metric, start). */
export interface RollupRow {
  level: RollupLevel;
  city: string;
  stationId: string;
  metric: string;
  /** Bucket start, epoch ms. */
  start: number;
  mean: number;
  min: number;
  max: number;
  /** Usable samples (QC_POLICY.series), at least 1: buckets without any have no row. */
  count: number;
  /** Samples carrying an excluding flag (kept out of mean/min/max/count). */
  flagged: number;
  /** Samples the station's devices should give in the bucket at their cadence (domain expectedSamples). */
  expected: number;
}

/** Rows with `from <= start < to`; sorted by city, station, metric, start. */
export interface RollupQuery {
  level: RollupLevel;
  city: string;
  from: number;
  to: number;
  stationIds?: string[];
  metrics?: string[];
}

/** The buckets `replaceRollups` owns: `from <= start < to` of one level and city, of these stations (default all). */
export type RollupRange = Omit<RollupQuery, 'metrics'>;

/** How far the rollup of one city has got; epoch ms, 0 when nothing was done yet. */
export interface RollupState {
  /** Every hourly bucket starting before this is rolled up. */
  hour: number;
  /** Every daily bucket starting before this is rolled up. */
  day: number;
  /** Late-write marks up to this write time are handled. */
  lateCursor: number;
  /** Raw readings before this were deleted (retention). */
  rawFrom: number;
}

export const EMPTY_ROLLUP_STATE: RollupState = Object.freeze({ hour: 0, day: 0, lateCursor: 0, rawFrom: 0 });

/** An hour (UTC-aligned start) of a station that got a reading written after the hour had ended. */
export interface LateHour {
  stationId: string;
  start: number;
}

/**
 * What rollups add to the ReadingStore contract (test/contract-rollups.ts runs on both backends).
 * Every write also marks, per (city, station, UTC hour), hours that had ended before the write
 * (late readings: history uploads, replays), with the write's wall-clock time, so a rollup run can
 * recompute exactly the buckets they touched.
 */
export interface RollupStore {
  /**
   * Makes the rows of `range` exactly `rows` (an upsert keyed by level, city, station, metric, start;
   * buckets of the range without a row in `rows` are removed). Idempotent: the same call twice
   * leaves the same rows. Every row must fall in the range.
   */
  replaceRollups(range: RollupRange, rows: readonly RollupRow[]): Promise<void>;
  readRollups(q: RollupQuery): Promise<RollupRow[]>;
  rollupState(city: string): Promise<RollupState>;
  saveRollupState(city: string, state: RollupState): Promise<void>;
  /** Late hours of a city whose mark was written in (after, upTo], sorted by station, start. */
  lateHours(city: string, after: number, upTo: number): Promise<LateHour[]>;
  /**
   * Deletes raw readings with ts < before (rollups stay). False when the backend leaves raw retention
   * to the server (InfluxDB 2.x bucket retention, InfluxDB 3 database retention: set by the operator).
   */
  deleteRawBefore(before: number): Promise<boolean>;
}

export function validateRollupQuery(q: RollupQuery | RollupRange): boolean {
  if (!(ROLLUP_LEVELS as readonly string[]).includes(q.level)) throw invalidQuery(`rollup level ${show(q.level)}`);
  const city = idProblem(q.city);
  if (city) throw invalidQuery(`rollup city ${show(q.city)} ${city}`);
  if (!Number.isSafeInteger(q.from) || !Number.isSafeInteger(q.to)) {
    throw invalidQuery(`rollup range ${show(q.from)}..${show(q.to)} must be integers (epoch ms)`);
  }
  for (const id of q.stationIds ?? []) {
    const p = idProblem(id);
    if (p) throw invalidQuery(`rollup stationIds: ${show(id)} ${p}`);
  }
  const metrics = 'metrics' in q ? q.metrics : undefined;
  for (const m of metrics ?? []) validateRollupMetric(m);
  return q.from < q.to && q.stationIds?.length !== 0 && metrics?.length !== 0;
}

export function validateRollupMetric(m: string): void {
  const base = m.endsWith('_corrected') ? m.slice(0, -'_corrected'.length) : m;
  if (!isMetricId(base)) throw invalidQuery(`rollup metric ${show(m)} is not a metric id (or <id>_corrected)`);
}

export function validateRollupRows(range: RollupRange, rows: readonly RollupRow[]): void {
  for (const r of rows) {
    const inside =
      r.level === range.level &&
      r.city === range.city &&
      r.start >= range.from &&
      r.start < range.to &&
      (!range.stationIds || range.stationIds.includes(r.stationId));
    if (!inside) throw invalidQuery(`rollup row ${show(r)} is outside the range being replaced`);
    const p = idProblem(r.stationId);
    if (p) throw invalidQuery(`rollup stationId ${show(r.stationId)} ${p}`);
    validateRollupMetric(r.metric);
    const nums = [r.start, r.count, r.flagged, r.expected];
    if (!nums.every(Number.isSafeInteger) || r.count < 1) throw invalidQuery(`rollup row ${show(r)}: bad integers`);
    if (![r.mean, r.min, r.max].every(Number.isFinite)) throw invalidQuery(`rollup row ${show(r)}: bad numbers`);
  }
}

/** Distinct (station, UTC hour start) of readings whose hour had ended by `now`. */
export function lateHoursOf(readings: readonly { city: string; stationId: string; ts: number }[], now: number) {
  const open = Math.floor(now / LATE_HOUR_MS) * LATE_HOUR_MS;
  const out = new Map<string, { city: string; stationId: string; start: number }>();
  for (const r of readings) {
    // Not yet validated here: anything that is no reading is left to the write's validation.
    if (r === null || typeof r !== 'object' || !Number.isSafeInteger(r.ts) || r.ts >= open) continue;
    const start = Math.floor(r.ts / LATE_HOUR_MS) * LATE_HOUR_MS;
    out.set(`${r.city}\u0000${r.stationId}\u0000${start}`, { city: r.city, stationId: r.stationId, start });
  }
  return [...out.values()];
}

export const byRollupKey = (a: RollupRow, b: RollupRow): number =>
  (a.city < b.city ? -1 : a.city > b.city ? 1 : 0) ||
  (a.stationId < b.stationId ? -1 : a.stationId > b.stationId ? 1 : 0) ||
  (a.metric < b.metric ? -1 : a.metric > b.metric ? 1 : 0) ||
  a.start - b.start;
