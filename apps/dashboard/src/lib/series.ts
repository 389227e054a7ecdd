import type { Series } from '@cnx/api-client';
import { alignDown } from './timeaxis';

/**
 * Ranges of the station trend and the bucket each one asks the API for (hourly up to a year);
 * `stepS` is the bucket's length in seconds.
 */
export const RANGES = {
  '24h': { hours: 24, interval: '5m', stepS: 300 },
  '7d': { hours: 7 * 24, interval: '1h', stepS: 3600 },
  '30d': { hours: 30 * 24, interval: '1h', stepS: 3600 },
  '1y': { hours: 365 * 24, interval: '1h', stepS: 3600 },
} as const;
export type RangeId = keyof typeof RANGES;
export const RANGE_IDS = Object.keys(RANGES) as RangeId[];
export const rangeFrom = (value: string | null): RangeId => (value && value in RANGES ? (value as RangeId) : '24h');

/**
 * The plot's data in columns (uPlot's shape, and a fraction of the JSON of the bucket objects):
 * x in epoch seconds; `corrected` the QC-filtered corrected PM2.5, `raw` the raw sensor PM2.5 (all
 * readings), `flagged` the raw mean where a bucket holds QC-flagged readings (null elsewhere).
 */
export interface TrendColumns {
  x: number[];
  corrected: (number | null)[];
  raw: (number | null)[];
  flagged: (number | null)[];
  flaggedBuckets: number;
}

const round1 = (v: number) => Math.round(v * 10) / 10;

export function toColumns(corrected: Series | null, raw: Series | null): TrendColumns {
  const byStart = new Map<number, { c?: number; r?: number; f?: number }>();
  for (const b of corrected?.data ?? []) byStart.set(Date.parse(b.start), { c: b.mean });
  for (const b of raw?.data ?? []) {
    const t = Date.parse(b.start);
    const e = byStart.get(t) ?? {};
    e.r = b.mean;
    if (b.flagged > 0) e.f = b.mean;
    byStart.set(t, e);
  }
  const x = [...byStart.keys()].sort((a, b) => a - b);
  const cols: TrendColumns = { x: [], corrected: [], raw: [], flagged: [], flaggedBuckets: 0 };
  for (const t of x) {
    const e = byStart.get(t)!;
    cols.x.push(t / 1000);
    cols.corrected.push(e.c === undefined ? null : round1(e.c));
    cols.raw.push(e.r === undefined ? null : round1(e.r));
    cols.flagged.push(e.f === undefined ? null : round1(e.f));
    if (e.f !== undefined) cols.flaggedBuckets++;
  }
  return cols;
}

/** Mean and max of a column, ignoring gaps. */
export function summarize(values: readonly (number | null)[]): { mean: number | null; max: number | null; n: number } {
  let sum = 0;
  let n = 0;
  let max = Number.NEGATIVE_INFINITY;
  for (const v of values) {
    if (v == null) continue;
    sum += v;
    n++;
    if (v > max) max = v;
  }
  return n ? { mean: sum / n, max, n } : { mean: null, max: null, n: 0 };
}

/** The time range a trend asked the API for: [from, to) in epoch seconds, and its bucket length. */
export interface TrendSpan {
  from: number;
  to: number;
  step: number;
}

/** The span of a range ending at `to` (a Date or epoch ms). */
export function spanOf(range: RangeId, to: number | Date): TrendSpan {
  const toS = Math.floor(+to / 1000);
  const { hours, stepS } = RANGES[range];
  return { from: toS - hours * 3600, to: toS, step: stepS };
}

/**
 * The start of every bucket of `span`, on the city's clock as the API cuts them (the API leaves out
 * buckets without samples, so the chart must know the ones it did not get).
 */
export function bucketStarts(span: TrendSpan): number[] {
  const out: number[] = [];
  if (!(span.step > 0) || !(span.to > span.from)) return out;
  for (let t = alignDown(span.from, span.step); t < span.to; t += span.step) out.push(t);
  return out;
}

/**
 * The columns on every bucket of the span, null where the API returned none, so that uPlot breaks
 * its lines at a gap (spanGaps false) instead of joining the buckets on either side. A bucket the API
 * returned off the grid (never expected) is kept, in time order.
 */
export function fillGaps(
  cols: Pick<TrendColumns, 'x' | 'corrected' | 'raw' | 'flagged'>,
  span: TrendSpan,
): Pick<TrendColumns, 'x' | 'corrected' | 'raw' | 'flagged'> {
  const grid = bucketStarts(span);
  const out: Pick<TrendColumns, 'x' | 'corrected' | 'raw' | 'flagged'> = { x: [], corrected: [], raw: [], flagged: [] };
  let i = 0;
  let j = 0;
  while (i < grid.length || j < cols.x.length) {
    const g = i < grid.length ? grid[i]! : Number.POSITIVE_INFINITY;
    const c = j < cols.x.length ? cols.x[j]! : Number.POSITIVE_INFINITY;
    if (c <= g) {
      out.x.push(c);
      out.corrected.push(cols.corrected[j] ?? null);
      out.raw.push(cols.raw[j] ?? null);
      out.flagged.push(cols.flagged[j] ?? null);
      j++;
      if (c === g) i++;
    } else {
      out.x.push(g);
      out.corrected.push(null);
      out.raw.push(null);
      out.flagged.push(null);
      i++;
    }
  }
  return out;
}
