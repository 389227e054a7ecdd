/**
 * Signals for alert rules, computed from a station's recent samples. Pure; the caller keeps the
 * samples (apps/alerts keeps 25 h per station and metric, restored from SQLite after a restart).
 */
import { estimateRise, RISE_DEFAULTS } from '../canal-rise';
import { hourlyMeans, rolling24hMean } from '../stats/rolling';
import type { AlertDirection, AlertRule } from './types';

const MIN_MS = 60_000;
/** canal_rise look-back when the rule has no `windowMin`. */
export const DEFAULT_RISE_WINDOW_MIN = 60;

export interface Sample {
  ts: number;
  value: number;
  /**
   * The reading carried a flag the quality policy excludes from alert signals (QC_POLICY.alert:
   * spike, range, stuck, seq_duplicate, future, stale). Only device-health signals (`stuck`) see it:
   * a flagged reading never raises, prolongs or clears an alert on air or water.
   */
  suspect?: boolean;
}

/** The samples an environmental signal may use (QC_POLICY.alert). */
const usable = (series: readonly Sample[]): readonly Sample[] =>
  series.some((s) => s.suspect) ? series.filter((s) => !s.suspect) : series;

/** Keep samples sorted by ts, drop exact-ts duplicates and anything older than `keepMs` before the newest. */
export function addSample(series: Sample[], s: Sample, keepMs: number): boolean {
  if (!Number.isFinite(s.value) || !Number.isFinite(s.ts)) return false;
  let i = series.length;
  while (i > 0 && series[i - 1]!.ts > s.ts) i--;
  if (i > 0 && series[i - 1]!.ts === s.ts) return false;
  series.splice(i, 0, s);
  const cutoff = series[series.length - 1]!.ts - keepMs;
  let drop = 0;
  while (drop < series.length && series[drop]!.ts < cutoff) drop++;
  if (drop > 0) series.splice(0, drop);
  return true;
}

/** Mean of samples in (endTs − windowMs, endTs]; undefined with fewer than `minSamples`. */
export function trailingMean(series: readonly Sample[], endTs: number, windowMs: number, minSamples = 1) {
  let sum = 0;
  let n = 0;
  for (const s of series)
    if (!s.suspect && s.ts > endTs - windowMs && s.ts <= endTs) {
      sum += s.value;
      n++;
    }
  return n >= minSamples && n > 0 ? sum / n : undefined;
}

/** Thai rolling 24-hour mean (hourly means, ≥ 18 of 24 hours) for the hour holding endTs. */
export function rolling24h(series: readonly Sample[], endTs: number): number | undefined {
  return rolling24hMean(hourlyMeans(series.filter((s) => !s.suspect && s.ts <= endTs)), endTs).value;
}

/** Minutes the series has stayed within `epsilon` of its latest value (needs ≥ 3 samples). */
export function stuckMinutes(series: readonly Sample[], epsilon = 0): number | undefined {
  if (series.length < 3) return undefined;
  const last = series[series.length - 1]!;
  let first = last;
  let n = 0;
  for (let i = series.length - 1; i >= 0; i--) {
    const s = series[i]!;
    if (Math.abs(s.value - last.value) > epsilon) break;
    first = s;
    n++;
  }
  return n >= 3 ? (last.ts - first.ts) / MIN_MS : 0;
}

export interface StationSeries {
  /** Samples per metric id (suspect ones marked); PM2.5 is the corrected value when the gateway gave one. */
  metrics: Record<string, Sample[]>;
  lastSeen: number | undefined;
}

/**
 * The rule's signal for one station at time `now` (observation time for data signals, wall clock
 * for `offline`). Undefined when the data does not allow one.
 */
export function stationSignal(rule: AlertRule, st: StationSeries, now: number): number | undefined {
  const m = st.metrics;
  switch (rule.signal) {
    case 'pm25_1h':
      return trailingMean(m.pm25 ?? [], now, 60 * MIN_MS, 1);
    case 'pm25_24h':
      return rolling24h(m.pm25 ?? [], now);
    case 'canal_level':
      return latest(m.water_level, now);
    case 'do_low':
      return latest(m.do, now);
    case 'canal_rise':
      return canalRiseSignal(
        m.water_level ?? [],
        now,
        (rule.windowMin ?? DEFAULT_RISE_WINDOW_MIN) * MIN_MS,
        rule.direction,
      );
    case 'offline':
      return st.lastSeen === undefined ? undefined : Math.max(0, (now - st.lastSeen) / MIN_MS);
    case 'stuck':
      // Device health (QC_POLICY.device): every reading counts, the ones the gateway flagged stuck too.
      return stuckMinutes(
        (m[rule.metric ?? ''] ?? []).filter((s) => s.ts <= now && s.ts > now - (rule.windowMin ?? 1440) * MIN_MS),
        rule.epsilon ?? 0,
      );
  }
}

/**
 * The canal_rise signal, m/h: the rate of rise that is *established* over [now − windowMs, now],
 * i.e. the bound of the 95 % interval of the least-squares slope on the rule's side — slope − t·SE
 * for 'above' rules ("the water is rising at least this fast"), slope + t·SE for 'below' rules
 * ("falling at least this fast"). The statistics are the dashboard's (`estimateRise`,
 * canal-rise.ts): undefined (the engine's "no data": it never raises on it) unless the window
 * holds ≥ RISE_DEFAULTS.minSamples readings spanning ≥ RISE_DEFAULTS.minSpanMs.
 *
 * Comparing this bound with the rule's threshold is exactly the dashboard's "rising fast"
 * (slope − uncertainty > threshold), so a few noisy polls, or noise on a flat canal, cannot raise
 * the alert; the rule's duration and hysteresis then apply to the bound as to any other signal.
 * `series` must be sorted by ts (addSample keeps it so).
 */
export function canalRiseSignal(
  series: readonly Sample[],
  now: number,
  windowMs: number,
  direction: AlertDirection,
): number | undefined {
  // The series holds 25 h: hand estimateRise only the window (it filters again, inclusively).
  let hi = series.length;
  while (hi > 0 && series[hi - 1]!.ts > now) hi--;
  let lo = hi;
  while (lo > 0 && series[lo - 1]!.ts >= now - windowMs) lo--;
  const e = estimateRise(usable(series.slice(lo, hi)), {
    // Only the trend label depends on it; the signal is compared with the rule's own levels.
    thresholdMPerHour: 0,
    now,
    windowMs,
    minSamples: RISE_DEFAULTS.minSamples,
    minSpanMs: RISE_DEFAULTS.minSpanMs,
  });
  if (e.mPerHour === null || e.uncertaintyMPerHour === null) return undefined;
  return direction === 'above' ? e.mPerHour - e.uncertaintyMPerHour : e.mPerHour + e.uncertaintyMPerHour;
}

function latest(series: readonly Sample[] | undefined, now: number): number | undefined {
  if (!series) return undefined;
  for (let i = series.length - 1; i >= 0; i--) {
    const s = series[i]!;
    if (s.ts <= now && !s.suspect) return s.value;
  }
  return undefined;
}

/** Whether the rule watches the device itself (every reading counts) rather than the air or water. */
export const isDeviceSignal = (signal: AlertRule['signal']): boolean => signal === 'offline' || signal === 'stuck';

/**
 * What a signal's value is computed from, for the log line of every alert state change and for
 * staff: the data, the QC policy applied and the look-back window.
 */
export function signalBasis(rule: AlertRule): { basis: string; windowMin: number } {
  switch (rule.signal) {
    case 'pm25_1h':
      return { basis: 'mean PM2.5 (EPA-corrected where corrected), QC-usable readings', windowMin: 60 };
    case 'pm25_24h':
      return {
        basis: 'rolling 24-hour mean of hourly PM2.5 means (18 of 24 hours), QC-usable readings',
        windowMin: 1440,
      };
    case 'canal_level':
      return { basis: 'latest QC-usable water level', windowMin: 0 };
    case 'do_low':
      return { basis: 'latest QC-usable dissolved oxygen', windowMin: 0 };
    case 'canal_rise':
      return {
        basis: 'lower bound of the 95 % interval of the water-level slope, QC-usable readings',
        windowMin: rule.windowMin ?? DEFAULT_RISE_WINDOW_MIN,
      };
    case 'offline':
      return { basis: 'minutes since the station last sent a reading', windowMin: 0 };
    case 'stuck':
      return {
        basis: `minutes ${rule.metric ?? ''} stayed unchanged, every reading`,
        windowMin: rule.windowMin ?? 1440,
      };
  }
}

/** The metric a rule's signal is computed from (PM2.5: the corrected value when there is one). */
export const signalMetric = (rule: AlertRule): string | undefined => SIGNAL_METRIC[rule.signal] ?? rule.metric;

/** Samples of the rule's metric the signal used in its window ending at `now` (for the log line). */
export function signalSamples(rule: AlertRule, st: StationSeries, now: number): number {
  const metric = signalMetric(rule);
  const series = metric ? st.metrics[metric] : undefined;
  if (!series) return 0;
  const { windowMin } = signalBasis(rule);
  const from = windowMin > 0 ? now - windowMin * MIN_MS : Number.NEGATIVE_INFINITY;
  let n = 0;
  for (const s of series) if (s.ts > from && s.ts <= now && (isDeviceSignal(rule.signal) || !s.suspect)) n++;
  return windowMin > 0 ? n : Math.min(n, 1);
}

const SIGNAL_METRIC: Partial<Record<AlertRule['signal'], string>> = {
  pm25_1h: 'pm25',
  pm25_24h: 'pm25',
  canal_level: 'water_level',
  canal_rise: 'water_level',
  do_low: 'do',
};

/** District / city subjects: the worst station signal (max for 'above', min for 'below'). */
export function aggregateSignal(values: readonly (number | undefined)[], direction: AlertDirection) {
  let out: number | undefined;
  for (const v of values) {
    if (v === undefined || !Number.isFinite(v)) continue;
    if (out === undefined || (direction === 'above' ? v > out : v < out)) out = v;
  }
  return out;
}
