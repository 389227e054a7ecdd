/**
 * Low-cost sensor corrections for Plantower PM2.5 (PMS5003/PMS7003, as in PurpleAir), as named,
 * versioned steps. Raw value, corrected value and the method id are all kept (see Reading).
 * A method id never changes meaning: a new formula or a fix gets a new id or a new @version.
 *
 * Input x is the sensor's CF=1 PM2.5 (µg/m³), RH the relative humidity (%) measured by the same
 * device, as in Barkjohn et al. 2021. (Some transcriptions of the extended version label x as
 * "cf_atm"; Barkjohn et al. fit on cf_1, and so do we.)
 *
 * 'epa-barkjohn-2021@1': Barkjohn, Gantt & Clements, "Development and application of a United
 *   States-wide correction for PM2.5 data collected with the PurpleAir sensor", AMT 14, 4617–4637
 *   (2021): PM2.5 = 0.524·x − 0.0862·RH + 5.75.
 *
 * 'epa-barkjohn-2021-extended@1': EPA's extension for smoke used on the AirNow Fire and Smoke Map,
 *   "PurpleAir Sensor Data Cleaning and Correction: Application on the AirNow Fire and Smoke Map"
 *   (EPA ORD, 2021, cfpub.epa.gov si_public_record_report dirEntryId=353088, slide 26):
 *     x < 30:        0.524·x − 0.0862·RH + 5.75
 *     30 ≤ x < 50:   [0.786·w + 0.524·(1 − w)]·x − 0.0862·RH + 5.75,            w = x/20 − 3/2
 *     50 ≤ x < 210:  0.786·x − 0.0862·RH + 5.75
 *     210 ≤ x < 260: [0.69·w + 0.786·(1 − w)]·x − 0.0862·RH·(1 − w) + 2.966·w
 *                    + 5.75·(1 − w) + 8.84e-4·x²·w,                             w = x/50 − 21/5
 *     x ≥ 260:       2.966 + 0.69·x + 8.84e-4·x²
 *   The blend weights were checked against public transcriptions of that slide (a PurpleAir driver
 *   for Hubitat and two Python/Ruby implementations citing dirEntryId=353088 found with the code
 *   search): all give w = x/20 − 3/2 and w = x/50 − 21/5, which run 0 → 1 across each blend and make
 *   the curve continuous at 30, 50, 210 and 260 (tested). A different, earlier variant (May 2021
 *   webinar: 0.52/0.086 below 343 µg/m³, quadratic above) exists; it is not implemented here.
 *
 * Results are clamped below at 0 and not rounded (storage rounds to the metric's decimals).
 */
import { METRICS } from './metrics';
import type { Correction, MetricValues } from './types';

export const PM25_CORRECTION_METHODS = ['epa-barkjohn-2021@1', 'epa-barkjohn-2021-extended@1'] as const;
export type Pm25CorrectionMethod = (typeof PM25_CORRECTION_METHODS)[number];

/** Default: the extended version, because the smoke season of the northern Thai cities reaches the high range. */
export const DEFAULT_PM25_CORRECTION: Pm25CorrectionMethod = 'epa-barkjohn-2021-extended@1';

/** Coefficients of the formulas above, in one place (sources in the file header). */
export const BARKJOHN_2021 = {
  /** US-wide fit, also the extended version's low range (x < 30). */
  low: { slope: 0.524, rh: -0.0862, intercept: 5.75 },
  /** Extended version, 50 ≤ x < 210. */
  mid: { slope: 0.786, rh: -0.0862, intercept: 5.75 },
  /** Extended version, x ≥ 260 (no RH term). */
  high: { intercept: 2.966, slope: 0.69, quadratic: 8.84e-4 },
  /** Breakpoints of the extended version: low | blend | mid | blend | high. */
  breaks: { lowEnd: 30, midStart: 50, midEnd: 210, highStart: 260 },
} as const;

const { low, mid, high, breaks } = BARKJOHN_2021;

/** Barkjohn 2021 US-wide correction, unclamped. */
export const barkjohn2021 = (x: number, rh: number): number => low.slope * x + low.rh * rh + low.intercept;

/** EPA 2021 extended (smoke) correction, unclamped. */
export function barkjohn2021Extended(x: number, rh: number): number {
  if (x < breaks.lowEnd) return barkjohn2021(x, rh);
  if (x < breaks.midStart) {
    const w = x / 20 - 3 / 2;
    return (mid.slope * w + low.slope * (1 - w)) * x + low.rh * rh + low.intercept;
  }
  if (x < breaks.midEnd) return mid.slope * x + mid.rh * rh + mid.intercept;
  if (x < breaks.highStart) {
    const w = x / 50 - 21 / 5;
    return (
      (high.slope * w + mid.slope * (1 - w)) * x +
      mid.rh * rh * (1 - w) +
      high.intercept * w +
      mid.intercept * (1 - w) +
      high.quadratic * x * x * w
    );
  }
  return high.intercept + high.slope * x + high.quadratic * x * x;
}

const FORMULAS: Readonly<Record<Pm25CorrectionMethod, (x: number, rh: number) => number>> = {
  'epa-barkjohn-2021@1': barkjohn2021,
  'epa-barkjohn-2021-extended@1': barkjohn2021Extended,
};

export const isPm25CorrectionMethod = (s: string): s is Pm25CorrectionMethod => Object.hasOwn(FORMULAS, s);

/**
 * Corrected PM2.5 from the sensor's CF=1 PM2.5 and RH. Undefined when either is missing or not
 * finite, or RH is outside 0–100 % (the correction is meaningless without a real RH).
 */
export function correctPm25(
  pm25Cf1: number | undefined,
  rh: number | undefined,
  method: Pm25CorrectionMethod = DEFAULT_PM25_CORRECTION,
): Correction | undefined {
  if (pm25Cf1 === undefined || rh === undefined || !Number.isFinite(pm25Cf1) || !Number.isFinite(rh)) return undefined;
  if (rh < METRICS.humidity.hardMin || rh > METRICS.humidity.hardMax) return undefined;
  const value = Math.max(0, FORMULAS[method](pm25Cf1, rh));
  return { metric: 'pm25', value, method };
}

/** The same, reading `pm25` (CF=1) and `humidity` from a reading's values. */
export const correctPm25Values = (
  values: MetricValues,
  method: Pm25CorrectionMethod = DEFAULT_PM25_CORRECTION,
): Correction | undefined => correctPm25(values.pm25, values.humidity, method);

/**
 * Device models whose PM2.5 the EPA correction applies to: Plantower PMS sensors reporting the CF=1
 * channel, which is what Barkjohn et al. 2021 fitted (PurpleAir = 2 x PMS5003). Other sensors
 * (Nova SDS011 from airrohr nodes, Plantower "atmospheric" values) are stored raw, uncorrected.
 */
export const PM25_CORRECTION_MODELS: ReadonlySet<string> = new Set(['pms5003', 'pms7003', 'pms1003', 'pms6003']);
