import { expectedSamples, METRIC_IDS, type MetricId, QC_POLICY } from '@cnx/domain';
import { type StoreLogger, silentLogger } from './logger';
import type { QcFilter, ReadingStore } from './reading-store';
import { type LateHour, ROLLUP_BUCKET_MS, type RollupLevel, type RollupRow, type RollupState } from './rollups';

/**
 * The rollup run (README "Rollups and retention"): hourly and daily aggregates per station and
 * metric from the usable readings of the quality policy (QC_POLICY.series, the API's default
 * `qc=usable`), through the store's own aggregate() (the query the API's series uses), so a bucket
 * served from a rollup is the bucket the API would compute from raw.
 *
 * Each run, in this order, saving the state after each step (a crash between steps and a re-run give
 * the same rows: every step replaces whole buckets, and the state only moves forward after them):
 * 1. late hours: hours that got readings after they had ended (marked by write()) are recomputed,
 *    with the day they fall in, when they were already rolled up and their raw readings are still held;
 * 2. hourly, then daily buckets that have closed (ended `settleMs` ago) since the watermark, in chunks;
 * 3. retention: raw readings before min(now - rawRetentionMs, both watermarks), at a day boundary,
 *    are deleted, a day at a time: never a reading whose buckets are not rolled up.
 */

/** Every series metric: each metric id and the corrected PM2.5 (the API's SERIES_METRICS). */
export const ROLLUP_METRICS: readonly string[] = Object.freeze([...METRIC_IDS, 'pm25_corrected']);

/** The QC filter of the API's `qc=usable` and of rollups: readings with an excluding flag are out. */
export const USABLE_QC: QcFilter = Object.freeze({ mode: 'exclude-flagged', flags: QC_POLICY.series.exclude });

export interface RollupStation {
  id: string;
  /** Reporting interval of each of its devices, ms (domain deviceIntervalMs). */
  intervalsMs: readonly number[];
}

export type RollupStep = 'late' | 'hour' | 'day' | 'retention';

export interface RollupOptions {
  city: string;
  /** Bucket offset, ms: the city's local hours and days (UTC+07:00: -7 h), as the API's series. */
  offsetMs: number;
  stations: readonly RollupStation[];
  /** Raw readings are kept this long (ms). */
  rawRetentionMs: number;
  metrics?: readonly string[];
  /** A bucket is rolled up this long after it ended (readings still on their way). Default 5 min. */
  settleMs?: number;
  /** Late-write marks this recent wait for the next run (writes in flight). Default 60 s. */
  lateSettleMs?: number;
  /**
   * Catch-up chunk (a whole number of days). Default 1 day: SQLite queries run on the caller's event
   * loop (the gateway's), so a first run over months of readings goes a day and a metric at a time,
   * yielding between queries.
   */
  chunkMs?: number;
  logger?: StoreLogger;
  /** Called after each step's rows are stored and before the state is saved (tests inject crashes). */
  afterStep?: (step: RollupStep) => void | Promise<void>;
}

export interface RollupRunResult {
  state: RollupState;
  rows: Record<RollupLevel, number>;
  lateHours: number;
  /** Late hours whose raw readings had already been deleted: left as they were. */
  lateSkipped: number;
  /** Raw readings before this are deleted (or, false below, left to the server's retention). */
  rawFrom: number;
  rawDeleted: boolean;
}

const DAY = ROLLUP_BUCKET_MS['1d'];

/** The start of the `level` bucket holding t. */
export const bucketStart = (t: number, level: RollupLevel, offsetMs: number): number => {
  const b = ROLLUP_BUCKET_MS[level];
  const off = ((offsetMs % b) + b) % b;
  return Math.floor((t - off) / b) * b + off;
};

export class RollupRunner {
  private readonly metrics: readonly string[];
  private readonly settleMs: number;
  private readonly lateSettleMs: number;
  private readonly chunkMs: number;
  private readonly log: StoreLogger;
  private readonly intervals: Map<string, readonly number[]>;

  constructor(
    private readonly store: ReadingStore,
    private readonly o: RollupOptions,
  ) {
    this.metrics = o.metrics ?? ROLLUP_METRICS;
    this.settleMs = o.settleMs ?? 5 * 60_000;
    this.lateSettleMs = o.lateSettleMs ?? 60_000;
    this.chunkMs = o.chunkMs ?? DAY;
    this.log = o.logger ?? silentLogger;
    this.intervals = new Map(o.stations.map((s) => [s.id, s.intervalsMs]));
    if (!(this.chunkMs >= DAY && this.chunkMs % DAY === 0)) throw new Error('rollup chunkMs: a whole number of days');
  }

  async run(now: number): Promise<RollupRunResult> {
    const { city } = this.o;
    const state = await this.store.rollupState(city);
    const rows = { '1h': 0, '1d': 0 };
    // 1. Late hours.
    const upTo = now - this.lateSettleMs;
    let lateHours = 0;
    let lateSkipped = 0;
    if (upTo > state.lateCursor) {
      const late = await this.store.lateHours(city, state.lateCursor, upTo);
      const held = late.filter((h) => h.start >= state.rawFrom && this.intervals.has(h.stationId));
      lateSkipped = late.filter((h) => h.start < state.rawFrom).length;
      lateHours = held.length;
      for (const level of ['1h', '1d'] as const) {
        const until = level === '1h' ? state.hour : state.day;
        for (const [stationId, ranges] of this.lateRanges(held, level, until)) {
          for (const [from, to] of ranges) rows[level] += await this.rollUp(level, from, to, [stationId]);
        }
      }
      await this.o.afterStep?.('late');
      state.lateCursor = upTo;
      await this.store.saveRollupState(city, state);
    }
    // 2. Closed buckets since the watermarks.
    const first = await this.firstReading(now);
    for (const level of ['1h', '1d'] as const) {
      const closed = bucketStart(now - this.settleMs, level, this.o.offsetMs);
      const key = level === '1h' ? 'hour' : 'day';
      if (state[key] === 0 && first === undefined) continue;
      let from = state[key] > 0 ? state[key] : bucketStart(first!, level, this.o.offsetMs);
      while (from < closed) {
        const to = Math.min(from + this.chunkMs, closed);
        rows[level] += await this.rollUp(level, from, to);
        await this.o.afterStep?.(level === '1h' ? 'hour' : 'day');
        state[key] = to;
        await this.store.saveRollupState(city, state);
        from = to;
      }
    }
    // 3. Retention: only below both watermarks, at a day boundary.
    let rawDeleted = true;
    const keepFrom = Math.min(now - this.o.rawRetentionMs, state.hour, state.day);
    const cutoff = bucketStart(keepFrom, '1d', this.o.offsetMs);
    if (cutoff > state.rawFrom && state.hour > 0 && state.day > 0) {
      let at =
        state.rawFrom > 0 ? state.rawFrom : first !== undefined ? bucketStart(first, '1d', this.o.offsetMs) : cutoff;
      while (at < cutoff) {
        at = Math.min(at + DAY, cutoff);
        rawDeleted = await this.store.deleteRawBefore(at);
        if (!rawDeleted) at = cutoff; // the server's retention deletes raw readings (InfluxDB 2.x, 3)
        await this.o.afterStep?.('retention');
        state.rawFrom = at;
        await this.store.saveRollupState(city, state);
      }
      if (state.rawFrom < cutoff) {
        // Nothing left to delete below the cutoff (a re-run after a crash that had deleted it).
        state.rawFrom = cutoff;
        await this.store.saveRollupState(city, state);
      }
    }
    this.log.debug({ city, state, rows, lateHours, lateSkipped }, 'rollup run');
    return { state, rows, lateHours, lateSkipped, rawFrom: state.rawFrom, rawDeleted };
  }

  /** Per station, the merged ranges of `level` buckets the late hours touch, only below `until`. */
  private lateRanges(
    late: readonly LateHour[],
    level: RollupLevel,
    until: number,
  ): Map<string, Array<[number, number]>> {
    const b = ROLLUP_BUCKET_MS[level];
    const out = new Map<string, Array<[number, number]>>();
    for (const h of late) {
      // A UTC hour may straddle two buckets when the offset is not a whole hour.
      const from = bucketStart(h.start, level, this.o.offsetMs);
      const to = Math.min(bucketStart(h.start + 3_600_000 - 1, level, this.o.offsetMs) + b, until);
      if (from >= to) continue;
      const ranges = out.get(h.stationId) ?? [];
      const last = ranges[ranges.length - 1];
      if (last && from <= last[1]) last[1] = Math.max(last[1], to);
      else ranges.push([from, to]);
      out.set(h.stationId, ranges);
    }
    return out;
  }

  private async firstReading(now: number): Promise<number | undefined> {
    const [r] = await this.store.query({ from: 0, to: now, limit: 1, order: 'asc', metrics: [] });
    return r?.ts;
  }

  /** Recomputes the `level` buckets in [from, to) (aligned) of the given stations (default all) and replaces them. */
  private async rollUp(level: RollupLevel, from: number, to: number, stationIds?: string[]): Promise<number> {
    const { city, offsetMs } = this.o;
    const stations = stationIds ?? [...this.intervals.keys()];
    if (stations.length === 0) return 0;
    const bucketMs = ROLLUP_BUCKET_MS[level];
    const out: RollupRow[] = [];
    for (const metric of this.metrics) {
      await new Promise((resolve) => setImmediate(resolve)); // let the gateway's intake run between queries
      const corrected = metric.endsWith('_corrected');
      const id = (corrected ? metric.slice(0, -'_corrected'.length) : metric) as MetricId;
      const buckets = await this.store.aggregate({
        from,
        to,
        stationIds: stations,
        metric: id,
        corrected,
        bucketMs,
        offsetMs,
        qc: USABLE_QC,
      });
      for (const b of buckets) {
        const intervals = this.intervals.get(b.stationId);
        if (b.city !== city || !intervals) continue;
        out.push({
          level,
          city,
          stationId: b.stationId,
          metric,
          start: b.start,
          mean: b.mean,
          min: b.min,
          max: b.max,
          count: b.count,
          flagged: b.flagged,
          expected: expectedSamples(bucketMs, intervals),
        });
      }
    }
    await this.store.replaceRollups({ level, city, from, to, stationIds: stations }, out);
    return out.length;
  }
}
