import {
  type AggregateBucket,
  type AggregateQuery,
  bucketStart,
  type ReadingStore,
  type RollupLevel,
  type RollupRow,
  USABLE_QC,
} from '@cnx/store';

/** A series bucket; `expected` when it comes from a rollup (the expected count stored with it). */
export type Bucket = AggregateBucket & { expected?: number };

/**
 * Hourly and daily series of usable readings from the rollups (packages/store README, "Rollups and
 * retention"): whole buckets below the level's watermark are rollup rows; the rest of the range (a
 * partial first bucket, the buckets not rolled up yet) is aggregated from raw readings, a few
 * buckets of one station at most. A partial first bucket whose raw readings are gone (retention) is
 * served whole from its rollup. The rows are the ones the raw aggregate gave when they were rolled up
 * (the same store query and QC filter), so the answer does not depend on where it comes from.
 */
export class RollupReader {
  constructor(
    private readonly city: string,
    private readonly store: ReadingStore,
  ) {}

  async series(level: RollupLevel, metric: string, q: Omit<AggregateQuery, 'qc'>): Promise<Bucket[]> {
    const state = await this.store.rollupState(this.city);
    const watermark = level === '1h' ? state.hour : state.day;
    const off = q.offsetMs ?? 0;
    const first = bucketStart(q.from, level, off);
    const fromUp = first === q.from ? q.from : first + q.bucketMs;
    const headEnd = Math.min(fromUp, q.to);
    const midEnd = Math.max(fromUp, Math.min(bucketStart(q.to, level, off), watermark));
    const rollups = (from: number, to: number) =>
      this.store.readRollups({ level, city: this.city, from, to, stationIds: q.stationIds, metrics: [metric] });
    const raw = (from: number, to: number) => this.store.aggregate({ ...q, from, to, qc: USABLE_QC });
    const parts: Array<Promise<Bucket[]>> = [];
    if (q.from < headEnd) {
      const held = q.from >= state.rawFrom || first >= watermark;
      parts.push(held ? raw(q.from, headEnd) : rollups(first, first + 1).then((rows) => rows.map(bucketOf)));
    }
    if (fromUp < midEnd) parts.push(rollups(fromUp, midEnd).then((rows) => rows.map(bucketOf)));
    const tailFrom = Math.max(headEnd, midEnd);
    if (tailFrom < q.to) parts.push(raw(tailFrom, q.to));
    return (await Promise.all(parts)).flat();
  }
}

const bucketOf = (r: RollupRow): Bucket => ({
  city: r.city,
  stationId: r.stationId,
  start: r.start,
  mean: r.mean,
  min: r.min,
  max: r.max,
  count: r.count,
  flagged: r.flagged,
  expected: r.expected,
});
