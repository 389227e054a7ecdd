import type { Series } from '@cnx/api-client';
import { describe, expect, it } from 'vitest';
import { bucketStarts, fillGaps, RANGES, rangeFrom, spanOf, summarize, toColumns } from './series';

const bucket = (start: string, mean: number, flagged = 0) => ({ start, mean, flagged });
const series = (data: ReturnType<typeof bucket>[]) => ({ data }) as unknown as Series;

describe('series columns', () => {
  it('aligns corrected and raw buckets by time, marks flagged buckets, keeps gaps as null', () => {
    const cols = toColumns(
      series([bucket('2025-03-01T00:00:00Z', 10.04), bucket('2025-03-01T02:00:00Z', 30)]),
      series([bucket('2025-03-01T00:00:00Z', 20), bucket('2025-03-01T01:00:00Z', 99, 2)]),
    );
    expect(cols.x).toEqual([1740787200, 1740790800, 1740794400]);
    expect(cols.corrected).toEqual([10, null, 30]);
    expect(cols.raw).toEqual([20, 99, null]);
    expect(cols.flagged).toEqual([null, 99, null]);
    expect(cols.flaggedBuckets).toBe(1);
  });

  it('summarizes ignoring gaps', () => {
    expect(summarize([1, null, 3])).toEqual({ mean: 2, max: 3, n: 2 });
    expect(summarize([null])).toEqual({ mean: null, max: null, n: 0 });
  });

  it('accepts only known ranges', () => {
    expect(rangeFrom('1y')).toBe('1y');
    expect(rangeFrom('5y')).toBe('24h');
    expect(rangeFrom(null)).toBe('24h');
  });

  it('spans the range asked for, on the buckets the API cuts (city clock)', () => {
    const to = new Date('2026-03-05T06:05:00Z');
    const day = spanOf('24h', to);
    expect(day).toEqual({ from: to.getTime() / 1000 - 86_400, to: to.getTime() / 1000, step: 300 });
    const starts = bucketStarts(day);
    expect(starts).toHaveLength(288);
    expect(starts[0]).toBe(day.from);
    expect(starts.at(-1)).toBe(day.to - 300);
    // Hourly buckets start on the hour; the first one holds `from`, the last one `to`.
    const year = spanOf('1y', to);
    const hours = bucketStarts(year);
    expect(hours).toHaveLength(8761);
    expect(hours[0]).toBe(Date.parse('2025-03-05T06:00:00Z') / 1000);
    expect(hours.at(-1)).toBe(Date.parse('2026-03-05T06:00:00Z') / 1000);
    for (const r of ['7d', '30d'] as const) expect(bucketStarts(spanOf(r, to))).toHaveLength(RANGES[r].hours + 1);
    expect(bucketStarts({ from: 10, to: 10, step: 300 })).toEqual([]);
  });

  it('puts a null on every bucket the API left out, so a line breaks at a gap', () => {
    const span = { from: 0, to: 6 * 3600, step: 3600 };
    const cols = { x: [3600, 4 * 3600, 5 * 3600], corrected: [1, 4, 5], raw: [2, 40, 50], flagged: [null, 40, null] };
    expect(fillGaps(cols, span)).toEqual({
      x: [0, 3600, 7200, 10_800, 14_400, 18_000],
      corrected: [null, 1, null, null, 4, 5],
      raw: [null, 2, null, null, 40, 50],
      flagged: [null, null, null, null, 40, null],
    });
  });

  it('a year with a 9-month hole: nulls all through it', () => {
    const span = spanOf('1y', new Date('2026-03-05T06:05:00Z'));
    const old = span.from + 30 * 86_400 - (span.from % 3600);
    const x = [old, old + 3600, span.to - 3600 - (span.to % 3600)];
    const full = fillGaps({ x, corrected: [1, 2, 3], raw: [1, 2, 3], flagged: [null, null, null] }, span);
    expect(full.x).toHaveLength(8761);
    const i = full.x.indexOf(old);
    const j = full.x.indexOf(x[2]!);
    expect(j - i).toBeGreaterThan(7000);
    expect(full.raw.slice(i + 2, j).every((v) => v === null)).toBe(true);
    expect(full.raw.filter((v) => v !== null)).toEqual([1, 2, 3]);
  });

  it('keeps a bucket off the grid (never expected from the API) in time order', () => {
    const full = fillGaps({ x: [1800], corrected: [7], raw: [8], flagged: [null] }, { from: 0, to: 7200, step: 3600 });
    expect(full.x).toEqual([0, 1800, 3600]);
    expect(full.corrected).toEqual([null, 7, null]);
  });
});
