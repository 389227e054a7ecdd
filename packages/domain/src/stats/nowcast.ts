/**
 * EPA NowCast for particulate matter (PM2.5 and PM10).
 *
 * Sources: EPA "PM NowCast" fact sheet and "Computing the NowCast" slides (AirNow); AirNow-Tech
 * forum "The NowCast for PM2.5 and PM10" (completeness and truncation rules); USEPA/sensortoolkit
 * `_nowcast_pm25`.
 *
 *   c1..c12: hourly means, c1 the most recent hour; missing hours keep their index.
 *   w* = 1 − (cmax − cmin) / cmax over the hours present;  w = max(w*, 0.5)
 *   NowCast = Σ w^(i−1)·ci / Σ w^(i−1) over the hours present
 *
 * - Valid only if at least 2 of the 3 most recent hours (c1, c2, c3) are present: the AirNow rule
 *   ("2 of the past 3 hourly data points must be valid"). Some code (e.g. MazamaScience) also
 *   requires c1; we follow AirNow.
 * - The hourly means are used as they are (not truncated); the NowCast is then truncated to 0.1 µg/m³
 *   for PM2.5 and 1 µg/m³ for PM10, as AirNow does before the AQI lookup.
 * - cmax = 0 (every hour present is 0): w* is 0/0; the air has not changed, so w = 1 and the NowCast
 *   is 0. Negative hourly means (possible from reference monitors near zero) are counted as 0, so
 *   that cmin/cmax stays in [0, 1].
 */
import { truncTo } from '../util/round';
import { HOUR_MS, type HourlyMean, hourStart } from './rolling';

export const NOWCAST_HOURS = 12;
/** Lower limit of the weight factor; it makes the NowCast approximate a 3-hour mean when air changes fast. */
export const NOWCAST_MIN_WEIGHT = 0.5;
/** Valid hours needed among the 3 most recent. */
export const NOWCAST_MIN_RECENT = 2;

export type NowcastPollutant = 'pm25' | 'pm10';

/** Decimals the NowCast is truncated to (AirNow: 0.1 µg/m³ for PM2.5, 1 µg/m³ for PM10). */
export const NOWCAST_DECIMALS: Readonly<Record<NowcastPollutant, number>> = { pm25: 1, pm10: 0 };

export interface NowcastResult {
  /** Truncated NowCast concentration (µg/m³), ready for the AQI lookup. */
  value: number;
  /** Before truncation. */
  raw: number;
  /** Weight factor w used. */
  weight: number;
  /** Hours present among the 12. */
  hoursUsed: number;
}

const usable = (c: number | null | undefined): c is number => typeof c === 'number' && Number.isFinite(c);

/**
 * NowCast from hourly means, most recent first (`hourly[0]` = c1). Entries past the 12th are ignored;
 * `null`, `undefined` or non-finite entries are missing hours. Undefined when fewer than 2 of the 3
 * most recent hours are present.
 */
export function nowcast(
  hourly: readonly (number | null | undefined)[],
  pollutant: NowcastPollutant = 'pm25',
): NowcastResult | undefined {
  const n = Math.min(hourly.length, NOWCAST_HOURS);
  let recent = 0;
  for (let i = 0; i < Math.min(n, 3); i++) if (usable(hourly[i])) recent++;
  if (recent < NOWCAST_MIN_RECENT) return undefined;

  let cmin = Number.POSITIVE_INFINITY;
  let cmax = Number.NEGATIVE_INFINITY;
  let hoursUsed = 0;
  for (let i = 0; i < n; i++) {
    const c = hourly[i];
    if (!usable(c)) continue;
    const v = Math.max(c, 0);
    if (v < cmin) cmin = v;
    if (v > cmax) cmax = v;
    hoursUsed++;
  }
  const weight = cmax === 0 ? 1 : Math.max(1 - (cmax - cmin) / cmax, NOWCAST_MIN_WEIGHT);

  let num = 0;
  let den = 0;
  let wi = 1; // w^(i−1), advanced for every index, present or not
  for (let i = 0; i < n; i++, wi *= weight) {
    const c = hourly[i];
    if (!usable(c)) continue;
    num += wi * Math.max(c, 0);
    den += wi;
  }
  const raw = num / den;
  return { value: truncTo(raw, NOWCAST_DECIMALS[pollutant]), raw, weight, hoursUsed };
}

/**
 * Builds c1..c12 from hourly means for the hour holding `currentTs` (c1 = that hour) and computes
 * the NowCast. Hours absent from `hourly` are missing.
 */
export function nowcastAt(
  hourly: readonly Pick<HourlyMean, 'hourStart' | 'mean'>[],
  currentTs: number,
  pollutant: NowcastPollutant = 'pm25',
): NowcastResult | undefined {
  const current = hourStart(currentTs);
  const c: (number | undefined)[] = new Array(NOWCAST_HOURS).fill(undefined);
  for (const h of hourly) {
    const i = Math.round((current - hourStart(h.hourStart)) / HOUR_MS);
    if (i >= 0 && i < NOWCAST_HOURS) c[i] = h.mean;
  }
  return nowcast(c, pollutant);
}
