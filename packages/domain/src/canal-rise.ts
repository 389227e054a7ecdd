/**
 * A robust rate of rise for a canal level, for people to read ("is the water rising fast?").
 *
 * `rateOfRise` (water.ts) is the bare least-squares slope over whatever samples it is given: two polls
 * a minute apart with a centimetre of sensor noise give ±1 m/h, enough to call a flat canal "rising
 * fast". `estimateRise` instead
 *
 * 1. takes a fixed window ending at `now` (default 30 minutes), so stale data does not count;
 * 2. answers `unknown` unless the window holds at least `minSamples` samples spanning at least
 *    `minSpanMs` (default 10 samples over 15 minutes);
 * 3. fits a least-squares line and its standard error (residual scatter / √Σ(t − t̄)²), and takes the
 *    two-sided 95 % interval slope ± t·SE (Student's t with n − 2 degrees of freedom);
 * 4. calls it `rising_fast` only when the whole interval is above the threshold (slope − t·SE >
 *    threshold), `rising` / `falling` only when the interval is clear of a ±`steadyMPerHour` dead
 *    band, and `steady` otherwise.
 *
 * Used wherever a canal's rise is shown or acted on: the dashboard's canal page, the alerts'
 * `canal_rise` signal (alerts/signals.ts canalRiseSignal: the lower end of the interval, compared
 * with the rule's threshold) and the open-data API's canal `rise`.
 *
 * The standard error assumes independent noise between samples; slow sloshing or a drifting probe
 * makes it optimistic, which the minimum span (a quarter of an hour, not a few polls) keeps small.
 */

export interface RiseSample {
  /** Epoch milliseconds. */
  ts: number;
  /** Water level, m. */
  value: number;
}

export interface RiseOptions {
  /** The rate called "rising fast", m/h (the city pack's `riseRateWarningMPerHour`). */
  thresholdMPerHour: number;
  /** End of the window, epoch ms (default: the newest sample). */
  now?: number;
  /** Window length (default 30 minutes). */
  windowMs?: number;
  /** Fewest samples in the window for an answer (default 10; at least 3). */
  minSamples?: number;
  /** Shortest time between the first and last sample in the window (default 15 minutes). */
  minSpanMs?: number;
  /** Rates within ± this are "steady" even when significant, m/h (default 0.02 = 2 cm/h). */
  steadyMPerHour?: number;
}

export type RiseTrend = 'unknown' | 'falling' | 'steady' | 'rising' | 'rising_fast';

export interface RiseEstimate {
  trend: RiseTrend;
  /** Why there is no answer (only when `trend` is `unknown`). */
  reason: 'too_few_samples' | 'too_short_span' | null;
  /** Least-squares slope, m/h (null when unknown). */
  mPerHour: number | null;
  /** Half-width of the 95 % interval of the slope (t·SE), m/h (null when unknown). */
  uncertaintyMPerHour: number | null;
  /** Samples used (finite, inside the window). */
  samples: number;
  /** Minutes from the first to the last sample used. */
  spanMinutes: number;
  windowMinutes: number;
  thresholdMPerHour: number;
}

export const RISE_DEFAULTS = {
  windowMs: 30 * 60_000,
  minSamples: 10,
  minSpanMs: 15 * 60_000,
  steadyMPerHour: 0.02,
} as const;

const MS_PER_HOUR = 3_600_000;

/** Two-sided 95 % quantiles of Student's t, 1..30 degrees of freedom. */
const T975 = [
  12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.16, 2.145, 2.131, 2.12, 2.11,
  2.101, 2.093, 2.086, 2.08, 2.074, 2.069, 2.064, 2.06, 2.056, 2.052, 2.048, 2.045, 2.042,
];

/** Student's t (two-sided 95 %) for `df` degrees of freedom; 1.96 in the limit. */
export function t975(df: number): number {
  if (!(df >= 1)) return Number.POSITIVE_INFINITY;
  if (df <= T975.length) return T975[Math.floor(df) - 1]!;
  if (df <= 60) return 2.042 - ((df - 30) / 30) * (2.042 - 2.0);
  if (df <= 120) return 2.0 - ((df - 60) / 60) * (2.0 - 1.98);
  return 1.96;
}

export function estimateRise(samples: readonly RiseSample[], options: RiseOptions): RiseEstimate {
  const windowMs = options.windowMs ?? RISE_DEFAULTS.windowMs;
  const minSamples = Math.max(3, options.minSamples ?? RISE_DEFAULTS.minSamples);
  const minSpanMs = options.minSpanMs ?? RISE_DEFAULTS.minSpanMs;
  const steady = options.steadyMPerHour ?? RISE_DEFAULTS.steadyMPerHour;
  const threshold = options.thresholdMPerHour;

  const finite = samples.filter((s) => Number.isFinite(s.ts) && Number.isFinite(s.value));
  let end = options.now ?? Number.NEGATIVE_INFINITY;
  if (options.now === undefined) for (const s of finite) if (s.ts > end) end = s.ts;
  const from = end - windowMs;
  const used = finite.filter((s) => s.ts >= from && s.ts <= end);

  let first = Number.POSITIVE_INFINITY;
  let last = Number.NEGATIVE_INFINITY;
  for (const s of used) {
    if (s.ts < first) first = s.ts;
    if (s.ts > last) last = s.ts;
  }
  const spanMs = used.length > 0 ? last - first : 0;
  const base = {
    samples: used.length,
    spanMinutes: spanMs / 60_000,
    windowMinutes: windowMs / 60_000,
    thresholdMPerHour: threshold,
  };
  const unknown = (reason: 'too_few_samples' | 'too_short_span'): RiseEstimate => ({
    trend: 'unknown',
    reason,
    mPerHour: null,
    uncertaintyMPerHour: null,
    ...base,
  });
  if (used.length < minSamples) return unknown('too_few_samples');
  if (spanMs < minSpanMs || spanMs <= 0) return unknown('too_short_span');

  // Times in hours relative to the last sample: no precision lost to epoch-ms squares.
  const n = used.length;
  let st = 0;
  let sv = 0;
  for (const s of used) {
    st += (s.ts - last) / MS_PER_HOUR;
    sv += s.value;
  }
  const mt = st / n;
  const mv = sv / n;
  let sxx = 0;
  let sxy = 0;
  for (const s of used) {
    const dt = (s.ts - last) / MS_PER_HOUR - mt;
    sxx += dt * dt;
    sxy += dt * (s.value - mv);
  }
  const slope = sxy / sxx;
  const intercept = mv - slope * mt;
  let ssr = 0;
  for (const s of used) {
    const r = s.value - (intercept + slope * ((s.ts - last) / MS_PER_HOUR));
    ssr += r * r;
  }
  const se = Math.sqrt(ssr / (n - 2) / sxx);
  const half = t975(n - 2) * se;
  const lower = slope - half;
  const upper = slope + half;
  const trend: RiseTrend =
    lower > threshold ? 'rising_fast' : lower > steady ? 'rising' : upper < -steady ? 'falling' : 'steady';
  return { trend, reason: null, mPerHour: slope, uncertaintyMPerHour: half, ...base };
}
