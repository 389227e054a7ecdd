import type { Series } from '@cnx/api-client';
import { describe, expect, it } from 'vitest';
import { rangeFrom, summarize, toColumns } from './series';

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
});
