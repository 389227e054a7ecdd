import type uPlot from 'uplot';
import { describe, expect, it } from 'vitest';
import { CHART_COLORS, isolatedIndices, trendData, trendOptions } from './chart';
import { spanOf } from './series';
import { TIME_INCRS } from './timeaxis';

const labels = {
  time: 'เวลา (เชียงใหม่)',
  corrected: 'corrected',
  raw: 'raw',
  flagged: 'flagged',
  thai: 'TH',
  who: 'WHO',
  unit: 'µg/m³',
};
const TO = new Date('2026-03-05T06:05:00Z');
const none = { x: [], corrected: [], raw: [], flagged: [] };
/** Column `i` of uPlot's data (its type is a union of typed arrays and arrays). */
const col = (d: uPlot.AlignedData, i: number) => d[i] as (number | null)[];
/** uPlot's call of a scale's range function (self is not used by ours). */
const rangeOf = (o: uPlot.Options, key: string, min: number, max: number) =>
  (o.scales![key]!.range as uPlot.Range.Function)({} as uPlot, min, max, key);

describe('trend data', () => {
  it('one bucket: x spans the whole day asked for, the reference lines have a value at every x', () => {
    const span = spanOf('24h', TO);
    const t = span.to - 600;
    const data = trendData({ x: [t], corrected: [20], raw: [25], flagged: [null] }, span, 37.5, 15);
    expect(col(data, 0)).toHaveLength(288);
    expect(col(data, 0)[0]).toBe(span.from);
    expect(col(data, 0).at(-1)).toBe(span.to - 300);
    expect(col(data, 1).filter((v) => v != null)).toEqual([20]);
    expect(col(data, 4).every((v) => v === 37.5)).toBe(true);
    expect(col(data, 5).every((v) => v === 15)).toBe(true);
    expect(col(data, 4)).toHaveLength(288);
  });

  it('no bucket at all: still the whole range, and the reference lines', () => {
    const span = spanOf('1y', TO);
    const data = trendData(none, span, 37.5, 15);
    expect(col(data, 0)).toHaveLength(8761);
    expect(col(data, 1).every((v) => v === null)).toBe(true);
    expect(col(data, 4).every((v) => v === 37.5)).toBe(true);
  });

  it('finds the lone values a line cannot draw', () => {
    expect(isolatedIndices([null, 1, null, 2, 3, null, 4])).toEqual([1, 6]);
    expect(isolatedIndices([5])).toEqual([0]);
    expect(isolatedIndices([])).toEqual([]);
  });
});

describe('trend options', () => {
  const o = trendOptions({ width: 1000, height: 280, labels, lang: 'th' });

  it('breaks every line at a gap and names the time column in the reader language', () => {
    expect(o.series[0]!.label).toBe('เวลา (เชียงใหม่)');
    for (const s of o.series.slice(1)) expect(s.spanGaps, String(s.label)).toBe(false);
    expect(o.series.map((s) => s.stroke)).toEqual([
      undefined,
      CHART_COLORS.corrected,
      CHART_COLORS.raw,
      CHART_COLORS.flagged,
      CHART_COLORS.thai,
      CHART_COLORS.who,
    ]);
  });

  it("uses uPlot's time axis with the city's clock and our steps, splits and Thai labels", () => {
    const x = o.axes![0]!;
    expect(x.incrs).toEqual(TIME_INCRS);
    expect(typeof o.tzDate).toBe('function');
    const from = TO.getTime() / 1000 - 86_400;
    const splits = (x.splits as (...a: unknown[]) => number[])({}, 0, from, TO.getTime() / 1000, 7200, 80);
    expect(splits).toHaveLength(12);
    const seen: string[][] = [];
    const withHook = trendOptions({ width: 1000, height: 280, labels, lang: 'th', onXTicks: (l) => seen.push(l) });
    const values = (withHook.axes![0]!.values as (...a: unknown[]) => string[])({}, splits, 0, 80, 7200);
    expect(values[0]).toBe('14:00\n4 มี.ค. 2569');
    expect(seen).toEqual([values]);
    expect((o.series[0]!.value as (u: unknown, v: number) => string)({}, TO.getTime() / 1000)).toBe(
      '5 มี.ค. 2569 13:05',
    );
  });

  it('x scale: the data range (the span), an hour around a lone x; y from 0 to at least 50', () => {
    expect(rangeOf(o, 'x', 1000, 90_000)).toEqual([1000, 90_000]);
    expect(rangeOf(o, 'x', 5000, 5000)).toEqual([3200, 6800]);
    expect(rangeOf(o, 'y', 15, 37.5)).toEqual([0, 50]);
    expect(rangeOf(o, 'y', 0, 200)[1]).toBeCloseTo(220);
  });
});
