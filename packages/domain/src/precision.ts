/**
 * Precision of every number the system publishes (issue 14: no `15.736923076923079` anywhere).
 * A metric's values, means, minima, maxima, corrections and rates keep its registry `decimals`
 * (metrics.ts, the one definition); the few numbers that are not a metric's value have theirs here.
 */
import { isMetricId, METRICS, type MetricId } from './metrics';
import { roundTo } from './util/round';

/** Decimals of published numbers that are not a metric's value. */
export const DECIMALS = {
  /** WGS 84 degrees: 6 places is ~0.1 m, finer than any station location is known. */
  coordinate: 6,
  /** A share 0..1 (flagged / readings, hours observed / 24). */
  share: 4,
  /** A percentage 0..100. */
  percent: 1,
  /** A NowCast weight factor 0..1 (EPA gives it to 2 places; one more keeps the mean reproducible). */
  weight: 3,
  /** A span in minutes. */
  minutes: 1,
  /** A distance in metres. */
  metres: 0,
} as const;

/** Decimals of a metric id, or of `<metric>_corrected` (a corrected value is in the metric's unit). */
export function metricDecimals(metric: string): number | undefined {
  const base = metric.endsWith('_corrected') ? metric.slice(0, -'_corrected'.length) : metric;
  return isMetricId(base) ? METRICS[base].decimals : undefined;
}

/** A value of `metric` (or a mean, extreme, difference or rate per hour of it) at its precision. */
export function roundMetric(metric: MetricId, x: number): number {
  return roundTo(x, METRICS[metric].decimals);
}

/** Like roundMetric, keeping null (a mean without samples). */
export function roundMetricOrNull(metric: MetricId, x: number | null): number | null {
  return x === null ? null : roundTo(x, METRICS[metric].decimals);
}

/** A reading's metric values, each at its metric's precision (unknown keys pass unchanged). */
export function roundValues<T extends Partial<Record<string, number>>>(values: T): T {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(values)) {
    if (v === undefined) continue;
    out[k] = isMetricId(k) ? roundTo(v, METRICS[k].decimals) : v;
  }
  return out as T;
}

/** Corrections ({metric, value, …}) with each value at its metric's precision. */
export function roundCorrections<T extends { metric: MetricId; value: number }>(list: readonly T[]): T[] {
  return list.map((c) => ({ ...c, value: roundTo(c.value, METRICS[c.metric].decimals) }));
}
