import { describe, expect, it } from 'vitest';
import { HOUR_MS, hourlyMeans, hourStart, ROLLING_24H_MIN_HOURS, rolling24hMean, rolling24hSeries } from './rolling';

const T0 = Date.UTC(2025, 2, 1, 0, 0, 0); // 07:00 in Chiang Mai
const hours = (values: (number | undefined)[], start = T0) =>
  values.flatMap((mean, i) => (mean === undefined ? [] : [{ hourStart: start + i * HOUR_MS, mean }]));

describe('hourStart', () => {
  it('aligns to UTC hour boundaries (= Thai hours, UTC+7, no DST)', () => {
    expect(hourStart(T0)).toBe(T0);
    expect(hourStart(T0 + HOUR_MS - 1)).toBe(T0);
    expect(hourStart(T0 + HOUR_MS)).toBe(T0 + HOUR_MS);
    // 14:30 Bangkok = 07:30 UTC, its hour starts 14:00 Bangkok = 07:00 UTC
    expect(new Date(hourStart(Date.parse('2025-03-01T14:30:00+07:00'))).toISOString()).toBe('2025-03-01T07:00:00.000Z');
  });
});

describe('hourlyMeans', () => {
  it('averages samples per hour, sorted, whatever the input order', () => {
    const r = hourlyMeans([
      { ts: T0 + HOUR_MS + 10, value: 30 },
      { ts: T0 + 5, value: 10 },
      { ts: T0 + HOUR_MS - 1, value: 20 },
      { ts: T0 + HOUR_MS, value: 50 },
    ]);
    expect(r).toEqual([
      { hourStart: T0, mean: 15, count: 2 },
      { hourStart: T0 + HOUR_MS, mean: 40, count: 2 },
    ]);
  });

  it('skips non-finite values and applies minSamples', () => {
    const r = hourlyMeans(
      [
        { ts: T0, value: Number.NaN },
        { ts: T0 + 1, value: 4 },
        { ts: T0 + HOUR_MS, value: 1 },
        { ts: T0 + HOUR_MS + 1, value: 3 },
      ],
      { minSamples: 2 },
    );
    expect(r).toEqual([{ hourStart: T0 + HOUR_MS, mean: 2, count: 2 }]);
    expect(hourlyMeans([])).toEqual([]);
  });
});

describe('rolling24hMean', () => {
  const end = T0 + 23 * HOUR_MS;

  it('averages the 24 hours ending with the hour of endTs', () => {
    const r = rolling24hMean(hours(Array.from({ length: 24 }, (_, i) => i)), end + 1234);
    expect(r).toMatchObject({
      valid: true,
      hoursObserved: 24,
      coverage: 1,
      value: 11.5,
      hourStart: end,
      windowStart: T0,
    });
  });

  it('ignores hours outside the window', () => {
    const h = [...hours([1000], T0 - HOUR_MS), ...hours(Array(24).fill(10)), ...hours([1000], end + HOUR_MS)];
    expect(rolling24hMean(h, end).value).toBe(10);
  });

  it('is valid with 18 of 24 hours (75 %) and not with 17', () => {
    expect(ROLLING_24H_MIN_HOURS).toBe(18);
    const eighteen = hours([...Array(18).fill(20), ...Array(6).fill(undefined)]);
    const r18 = rolling24hMean(eighteen, end);
    expect(r18).toMatchObject({ valid: true, hoursObserved: 18, coverage: 0.75, value: 20 });
    const r17 = rolling24hMean(eighteen.slice(1), end);
    expect(r17).toMatchObject({ valid: false, hoursObserved: 17, value: undefined, mean: 20 });
    expect(r17.coverage).toBeCloseTo(17 / 24, 12);
  });

  it('reports an empty window', () => {
    expect(rolling24hMean([], end)).toMatchObject({
      valid: false,
      hoursObserved: 0,
      coverage: 0,
      value: undefined,
      mean: undefined,
    });
  });

  it('accepts a custom minimum and lets later duplicates win', () => {
    const h = [...hours([5]), { hourStart: T0, mean: 7 }];
    expect(rolling24hMean(h, end, 1).value).toBe(7);
  });
});

describe('rolling24hSeries', () => {
  it('matches rolling24hMean for every hour', () => {
    const data = hours(Array.from({ length: 60 }, (_, i) => (i % 7 === 0 ? undefined : (i * 1.37) % 50)));
    const series = rolling24hSeries(data, T0, T0 + 59 * HOUR_MS);
    expect(series).toHaveLength(60);
    for (const r of series) expect(r).toEqual(rolling24hMean(data, r.hourStart));
    expect(series[0]!.valid).toBe(false);
    expect(series[59]!.valid).toBe(true);
  });

  it('is empty when the range is reversed', () => {
    expect(rolling24hSeries([], T0 + HOUR_MS, T0)).toEqual([]);
  });
});
