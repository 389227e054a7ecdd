/**
 * Hourly means and the rolling ("continuous") 24-hour mean that the Thai AQI is computed from.
 *
 * Hours are aligned to UTC hour boundaries (epoch ms divisible by 3 600 000). For a city whose zone is
 * a whole number of hours from UTC without daylight saving (every Thai city pack), these are also whole
 * local hours: no time-zone library is needed.
 *
 * An hour is labelled by its start: the hour `h` holds samples with h ≤ ts < h + 1 h. The rolling
 * 24-hour mean "at hour h" covers the 24 hours ending with hour h inclusive, [h − 23 h, h + 1 h),
 * which is what Air4Thai publishes each hour for the hour just completed.
 *
 * Validity (project rule, stated here once): a 24-hour mean is valid when at least 18 of the 24
 * hourly means exist (75 % completeness). This is the completeness rule agencies commonly use for
 * daily PM averages (e.g. US 40 CFR Part 50 App. N: a day is complete with ≥ 75 % of its hours) and
 * the project adopts it for the Thai rolling mean too, since PCD publishes no rule for it.
 */

export const HOUR_MS = 3_600_000;
export const ROLLING_WINDOW_HOURS = 24;
/** Minimum hourly means in a 24-hour window for a valid mean (75 %, see header). */
export const ROLLING_24H_MIN_HOURS = 18;

export interface TimedValue {
  /** Epoch milliseconds. */
  ts: number;
  value: number;
}

export interface HourlyMean {
  /** Start of the hour, epoch ms, a multiple of HOUR_MS. */
  hourStart: number;
  mean: number;
  /** Samples averaged. */
  count: number;
}

/** Start of the UTC (= Thai) hour holding `ts`. */
export const hourStart = (ts: number): number => Math.floor(ts / HOUR_MS) * HOUR_MS;

export interface HourlyMeanOptions {
  /**
   * Fewest samples an hour needs to produce a mean (default 1). Set it from the device's reporting
   * interval, e.g. 45 for one-minute data to require 75 % of the hour.
   */
  minSamples?: number;
}

/**
 * Arithmetic means of raw samples per UTC hour, sorted by hour. Samples may arrive in any order;
 * non-finite values are skipped. Hours with fewer than `minSamples` samples are left out.
 */
export function hourlyMeans(samples: readonly TimedValue[], options: HourlyMeanOptions = {}): HourlyMean[] {
  const minSamples = options.minSamples ?? 1;
  const acc = new Map<number, { sum: number; count: number }>();
  for (const s of samples) {
    if (!Number.isFinite(s.value) || !Number.isFinite(s.ts)) continue;
    const h = hourStart(s.ts);
    const a = acc.get(h);
    if (a) {
      a.sum += s.value;
      a.count++;
    } else acc.set(h, { sum: s.value, count: 1 });
  }
  const out: HourlyMean[] = [];
  for (const [h, a] of acc)
    if (a.count >= minSamples) out.push({ hourStart: h, mean: a.sum / a.count, count: a.count });
  return out.sort((x, y) => x.hourStart - y.hourStart);
}

export interface RollingMean {
  /** Start of the last hour of the window. */
  hourStart: number;
  /** Start of the first hour of the window (hourStart − 23 h). */
  windowStart: number;
  /** The 24-hour mean when valid, else undefined. */
  value: number | undefined;
  /** Mean of the hours observed, valid or not; undefined with no hours. For diagnostics. */
  mean: number | undefined;
  hoursObserved: number;
  /** hoursObserved / 24. */
  coverage: number;
  valid: boolean;
}

function toHourMap(hourly: readonly Pick<HourlyMean, 'hourStart' | 'mean'>[]): Map<number, number> {
  // Later entries for the same hour win; hour starts are re-aligned defensively.
  const m = new Map<number, number>();
  for (const h of hourly) if (Number.isFinite(h.mean)) m.set(hourStart(h.hourStart), h.mean);
  return m;
}

/** Sum over the 24 hours ending with `end`, in hour order (so every caller gets identical sums). */
function windowAt(byHour: ReadonlyMap<number, number>, end: number, minHours: number): RollingMean {
  const start = end - (ROLLING_WINDOW_HOURS - 1) * HOUR_MS;
  let sum = 0;
  let n = 0;
  for (let h = start; h <= end; h += HOUR_MS) {
    const v = byHour.get(h);
    if (v === undefined) continue;
    sum += v;
    n++;
  }
  const valid = n >= minHours;
  const mean = n > 0 ? sum / n : undefined;
  return {
    hourStart: end,
    windowStart: start,
    value: valid ? mean : undefined,
    mean,
    hoursObserved: n,
    coverage: n / ROLLING_WINDOW_HOURS,
    valid,
  };
}

/**
 * Rolling 24-hour mean of hourly means for the window ending with the hour that holds `endTs`.
 * `minHours` defaults to ROLLING_24H_MIN_HOURS (18).
 */
export function rolling24hMean(
  hourly: readonly Pick<HourlyMean, 'hourStart' | 'mean'>[],
  endTs: number,
  minHours: number = ROLLING_24H_MIN_HOURS,
): RollingMean {
  return windowAt(toHourMap(hourly), hourStart(endTs), minHours);
}

/**
 * Rolling 24-hour means for every hour from the hour of `fromTs` to the hour of `toTs` inclusive
 * (for trend charts). Each window is summed afresh (24 look-ups an hour) so that every value equals
 * what rolling24hMean returns for that hour, bit for bit.
 */
export function rolling24hSeries(
  hourly: readonly Pick<HourlyMean, 'hourStart' | 'mean'>[],
  fromTs: number,
  toTs: number,
  minHours: number = ROLLING_24H_MIN_HOURS,
): RollingMean[] {
  const byHour = toHourMap(hourly);
  const out: RollingMean[] = [];
  for (let h = hourStart(fromTs); h <= hourStart(toTs); h += HOUR_MS) out.push(windowAt(byHour, h, minHours));
  return out;
}
