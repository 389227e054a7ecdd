import type uPlot from 'uplot';
import { formatDateTime } from './format';
import type { Lang } from './i18n';
import { fillGaps, type TrendColumns, type TrendSpan } from './series';
import { cityDate, TIME_INCRS, timeLabels, timeSplits, X_TICK_SPACE } from './timeaxis';

/** Colours of the trend plot (each also differs in dash or marker, not colour alone). */
export const CHART_COLORS = {
  corrected: '#0b57d0',
  raw: '#6b7280',
  flagged: '#b3261e',
  thai: '#c2410c',
  who: '#15803d',
} as const;

export interface ChartLabels {
  /** The legend's name of the time column (uPlot's series[0].label; its default is "Time"). */
  time: string;
  corrected: string;
  raw: string;
  flagged: string;
  thai: string;
  who: string;
  unit: string;
}

export interface TrendOptionsInput {
  width: number;
  height: number;
  labels: ChartLabels;
  lang: Lang;
  /** Called with the x-axis labels each time uPlot computes them (the chart exposes them for tests). */
  onXTicks?: (labels: string[], incr: number) => void;
}

/**
 * Indices of values with no neighbour (null on both sides): a line needs two points, so uPlot would
 * draw nothing for a lone bucket between gaps; these are drawn as points.
 */
export function isolatedIndices(values: readonly (number | null | undefined)[]): number[] {
  const out: number[] = [];
  for (let i = 0; i < values.length; i++)
    if (values[i] != null && values[i - 1] == null && values[i + 1] == null) out.push(i);
  return out;
}

/** uPlot `points.filter`: all points where uPlot shows them anyway (sparse), else the lone ones. */
const lonePoints: uPlot.Series.Points.Filter = (u, seriesIdx, show) => {
  if (show) return null;
  const idx = isolatedIndices(u.data[seriesIdx] as (number | null)[]);
  return idx.length ? idx : null;
};

/**
 * uPlot options of the station trend: corrected and raw PM2.5, QC-flagged buckets as points, the Thai
 * 24-hour standard and the WHO 2021 guideline as dashed lines. The time axis is uPlot's own, given the
 * city's time zone (tzDate), the steps it may choose (incrs, space) and our splits and labels
 * (timeaxis.ts). Lines break at missing buckets (spanGaps false; trendData puts the nulls in). Shared
 * with the draw-time benchmark.
 */
export function trendOptions({ width, height, labels, lang, onXTicks }: TrendOptionsInput): uPlot.Options {
  const line = (extra: Partial<uPlot.Series>): uPlot.Series => ({
    spanGaps: false,
    points: { filter: lonePoints },
    ...extra,
  });
  return {
    width,
    height,
    tzDate: cityDate,
    cursor: { drag: { x: true, y: false } },
    scales: {
      x: {
        time: true,
        // trendData gives x every bucket of the span asked for, so the range is that span; a lone x value
        // (never from trendData) gets its hour, not uPlot's default of 1000 days.
        range: (_u, min, max) => (min == null || max - min >= 60 ? [min, max] : [min - 1800, max + 1800]),
      },
      y: { range: (_u, _min, max) => [0, Math.max(50, (max ?? 0) * 1.1)] },
    },
    legend: { live: true },
    axes: [
      {
        space: X_TICK_SPACE,
        incrs: [...TIME_INCRS],
        splits: (_u, _axis, min, max, incr) => timeSplits(min, max, incr),
        values: (_u, splits, _axis, _space, incr) => {
          const out = timeLabels(splits, incr, lang);
          onXTicks?.(out, incr);
          return out;
        },
      },
      { label: labels.unit, size: 50 },
    ],
    series: [
      { label: labels.time, value: (_u, v) => (v == null ? '–' : formatDateTime(v * 1000, lang)) },
      line({ label: labels.corrected, stroke: CHART_COLORS.corrected, width: 2 }),
      line({ label: labels.raw, stroke: CHART_COLORS.raw, width: 1, dash: [4, 3] }),
      {
        label: labels.flagged,
        stroke: CHART_COLORS.flagged,
        width: 0,
        spanGaps: false,
        paths: () => null,
        points: { show: true, size: 7, stroke: CHART_COLORS.flagged, fill: '#fff', width: 2 },
      },
      {
        label: labels.thai,
        stroke: CHART_COLORS.thai,
        width: 1.5,
        dash: [8, 4],
        spanGaps: false,
        points: { show: false },
      },
      {
        label: labels.who,
        stroke: CHART_COLORS.who,
        width: 1.5,
        dash: [2, 3],
        spanGaps: false,
        points: { show: false },
      },
    ],
  };
}

/**
 * uPlot's data array: x on every bucket of `span` (nulls where the API returned no bucket), corrected,
 * raw, flagged, then the two guideline lines, a value at every x: drawn across the whole range asked
 * for, with one bucket of data or none.
 */
export function trendData(
  cols: Pick<TrendColumns, 'x' | 'corrected' | 'raw' | 'flagged'>,
  span: TrendSpan,
  thai: number,
  who: number,
): uPlot.AlignedData {
  const full = fillGaps(cols, span);
  return [
    full.x,
    full.corrected,
    full.raw,
    full.flagged,
    full.x.map(() => thai),
    full.x.map(() => who),
  ] as uPlot.AlignedData;
}
