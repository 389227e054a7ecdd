import type uPlot from 'uplot';

/** Colours of the trend plot (each also differs in dash or marker, not colour alone). */
export const CHART_COLORS = {
  corrected: '#0b57d0',
  raw: '#6b7280',
  flagged: '#b3261e',
  thai: '#c2410c',
  who: '#15803d',
} as const;

export interface ChartLabels {
  corrected: string;
  raw: string;
  flagged: string;
  thai: string;
  who: string;
  unit: string;
}

/**
 * uPlot options of the station trend: corrected and raw PM2.5, QC-flagged buckets as points, the Thai
 * 24-hour standard and the WHO 2021 guideline as dashed lines. Shared with the draw-time benchmark.
 */
export function trendOptions(
  width: number,
  height: number,
  labels: ChartLabels,
  fmtTime: (epochS: number) => string,
): uPlot.Options {
  return {
    width,
    height,
    cursor: { drag: { x: true, y: false } },
    scales: { x: { time: true }, y: { range: (_u, _min, max) => [0, Math.max(50, (max ?? 0) * 1.1)] } },
    legend: { live: true },
    axes: [{}, { label: labels.unit, size: 50 }],
    series: [
      { value: (_u, v) => (v == null ? '–' : fmtTime(v)) },
      { label: labels.corrected, stroke: CHART_COLORS.corrected, width: 2, spanGaps: false },
      { label: labels.raw, stroke: CHART_COLORS.raw, width: 1, dash: [4, 3] },
      {
        label: labels.flagged,
        stroke: CHART_COLORS.flagged,
        width: 0,
        paths: () => null,
        points: { show: true, size: 7, stroke: CHART_COLORS.flagged, fill: '#fff', width: 2 },
      },
      { label: labels.thai, stroke: CHART_COLORS.thai, width: 1.5, dash: [8, 4], points: { show: false } },
      { label: labels.who, stroke: CHART_COLORS.who, width: 1.5, dash: [2, 3], points: { show: false } },
    ],
  };
}

/** uPlot's data array: x, corrected, raw, flagged, then the two constant guideline lines. */
export function trendData(
  cols: { x: number[]; corrected: (number | null)[]; raw: (number | null)[]; flagged: (number | null)[] },
  thai: number,
  who: number,
): uPlot.AlignedData {
  return [
    cols.x,
    cols.corrected,
    cols.raw,
    cols.flagged,
    cols.x.map(() => thai),
    cols.x.map(() => who),
  ] as uPlot.AlignedData;
}
