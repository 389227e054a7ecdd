import type { Series } from '@cnx/api-client';

/** Ranges of the station trend and the bucket each one asks the API for (hourly up to a year). */
export const RANGES = {
  '24h': { hours: 24, interval: '5m' },
  '7d': { hours: 7 * 24, interval: '1h' },
  '30d': { hours: 30 * 24, interval: '1h' },
  '1y': { hours: 365 * 24, interval: '1h' },
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
