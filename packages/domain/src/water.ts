/**
 * Water: Thai surface-water classes and canal level assessment.
 *
 * Surface-water quality standard: National Environment Board notification No. 8 (B.E. 2537, 1994),
 * "Determination of Water Quality Standards in Surface Water Sources". Classes 2–4 by DO (at
 * least), BOD5 (at most), pH (5–9) and NH3-N (at most); class 5 is anything worse than class 4.
 * Class 1 is "natural" water, defined by the absence of human impact, not by these numbers: it cannot
 * be determined from measurements, so the best class this module gives is 2.
 *
 * The notification states DO and BOD as percentiles over sampling campaigns (DO P20, BOD P80). A
 * continuous station gives one value at a time: we apply the limits to the value given, and the
 * caller decides what that value is (an instantaneous reading, a daily mean, a percentile).
 */
import type { CanalLevels, LocalizedText } from './types';

export type WaterParam = 'do' | 'bod' | 'ph' | 'nh3n';
export const WATER_PARAMS: readonly WaterParam[] = ['do', 'bod', 'ph', 'nh3n'];

/** Classes determinable from measurements. */
export type SurfaceWaterClass = 2 | 3 | 4 | 5;

/** Every number of the class table. Source: NEB notification No. 8 (1994), table annexed. */
export const TH_SURFACE_WATER_STANDARD = {
  /** DO mg/L, at least. */
  doMin: { 2: 6.0, 3: 4.0, 4: 2.0 },
  /** BOD5 mg/L, at most. */
  bodMax: { 2: 1.5, 3: 2.0, 4: 4.0 },
  /** pH range for classes 2–4. */
  ph: { min: 5, max: 9 },
  /** NH3-N mg/L, at most, classes 2–4. */
  nh3nMax: 0.5,
} as const;

/** PCD's status names for the classes, and main uses per the notification (abridged). */
export const SURFACE_WATER_CLASS_INFO: Readonly<
  Record<SurfaceWaterClass, { label: LocalizedText; uses: LocalizedText }>
> = {
  2: {
    label: { th: 'คุณภาพดี', en: 'Good' },
    uses: {
      th: 'อุปโภคบริโภคโดยผ่านการฆ่าเชื้อโรคและปรับปรุงคุณภาพน้ำทั่วไป การอนุรักษ์สัตว์น้ำ การประมง และว่ายน้ำ',
      en: 'Drinking water after ordinary treatment, aquatic life conservation, fisheries, swimming',
    },
  },
  3: {
    label: { th: 'คุณภาพพอใช้', en: 'Fair' },
    uses: {
      th: 'อุปโภคบริโภคโดยผ่านการฆ่าเชื้อโรคและปรับปรุงคุณภาพน้ำทั่วไป และการเกษตร',
      en: 'Drinking water after ordinary treatment, agriculture',
    },
  },
  4: {
    label: { th: 'คุณภาพเสื่อมโทรม', en: 'Deteriorated' },
    uses: {
      th: 'อุปโภคบริโภคโดยผ่านการฆ่าเชื้อโรคและปรับปรุงคุณภาพน้ำเป็นพิเศษ และการอุตสาหกรรม',
      en: 'Drinking water after special treatment, industry',
    },
  },
  5: {
    label: { th: 'คุณภาพเสื่อมโทรมมาก', en: 'Very deteriorated' },
    uses: { th: 'การคมนาคม', en: 'Navigation' },
  },
};

export type WaterSample = Partial<Record<WaterParam, number>>;

export interface SurfaceWaterClassResult {
  /** The best class the measured parameters allow (2 at best, see header). */
  class: SurfaceWaterClass;
  /** Parameters whose own class equals the result: the ones that set it. */
  limitedBy: WaterParam[];
  /** Parameters that were available (finite), in WATER_PARAMS order. */
  basis: WaterParam[];
  /**
   * True when parameters are missing and the class could still get worse with them (any result
   * better than 5): e.g. a class from DO and pH alone, as continuous stations give.
   */
  partial: boolean;
}

const S = TH_SURFACE_WATER_STANDARD;

/** Class allowed by one parameter on its own. */
export function classForParam(param: WaterParam, value: number): SurfaceWaterClass {
  switch (param) {
    case 'do':
      return value >= S.doMin[2] ? 2 : value >= S.doMin[3] ? 3 : value >= S.doMin[4] ? 4 : 5;
    case 'bod':
      return value <= S.bodMax[2] ? 2 : value <= S.bodMax[3] ? 3 : value <= S.bodMax[4] ? 4 : 5;
    case 'ph':
      return value >= S.ph.min && value <= S.ph.max ? 2 : 5;
    case 'nh3n':
      return value <= S.nh3nMax ? 2 : 5;
  }
}

/**
 * Surface-water class from whichever of DO, BOD, pH and NH3-N are given (mg/L; pH unitless): the
 * worst of the classes each parameter allows. Undefined when none is given.
 */
export function classifySurfaceWater(sample: WaterSample): SurfaceWaterClassResult | undefined {
  const basis: WaterParam[] = [];
  const perParam: SurfaceWaterClass[] = [];
  let cls: SurfaceWaterClass = 2;
  for (const p of WATER_PARAMS) {
    const v = sample[p];
    if (v === undefined || !Number.isFinite(v)) continue;
    const c = classForParam(p, v);
    basis.push(p);
    perParam.push(c);
    if (c > cls) cls = c;
  }
  if (basis.length === 0) return undefined;
  const limitedBy = basis.filter((_, i) => perParam[i] === cls);
  return { class: cls, limitedBy, basis, partial: cls < 5 && basis.length < WATER_PARAMS.length };
}

export type CanalLevelState = 'normal' | 'warning' | 'critical' | 'overbank';

export interface CanalLevelAssessment {
  state: CanalLevelState;
  /** Bank height minus level, m; negative when over the bank. */
  freeboardM: number;
  /** Level as a percentage of bank height (both above the gauge datum). */
  percentOfBank: number;
}

/**
 * Canal level against the station's levels (metres above the gauge datum, from the city pack):
 * `overbank` when above the bank (equal to it is bank-full, still `critical`), `critical` at or
 * above criticalLevelM, `warning` at or above warningLevelM, else `normal`. Undefined for a
 * non-finite level or a bank height that is not positive.
 */
export function assessCanalLevel(levelM: number, levels: CanalLevels): CanalLevelAssessment | undefined {
  if (!Number.isFinite(levelM) || !(levels.bankHeightM > 0)) return undefined;
  const state: CanalLevelState =
    levelM > levels.bankHeightM
      ? 'overbank'
      : levelM >= levels.criticalLevelM
        ? 'critical'
        : levelM >= levels.warningLevelM
          ? 'warning'
          : 'normal';
  return {
    state,
    freeboardM: levels.bankHeightM - levelM,
    percentOfBank: (levelM / levels.bankHeightM) * 100,
  };
}

const MS_PER_HOUR = 3_600_000;

/**
 * Rate of rise in m/h (negative when falling): least-squares slope of value against time over the
 * samples within `windowMs` of the latest sample (inclusive). Samples may be unordered; non-finite
 * ones are skipped. Undefined with fewer than 2 points or when all share one timestamp.
 * No minimum span and no uncertainty: for a canal's rate of rise that people read or alerts act on,
 * use `estimateRise` (canal-rise.ts).
 */
export function rateOfRise(samples: readonly { ts: number; value: number }[], windowMs: number): number | undefined {
  let latest = Number.NEGATIVE_INFINITY;
  for (const s of samples) if (Number.isFinite(s.value) && Number.isFinite(s.ts) && s.ts > latest) latest = s.ts;
  const from = latest - windowMs;
  // Times are taken relative to the latest sample so epoch-ms squares do not lose precision.
  let n = 0;
  let st = 0;
  let sv = 0;
  for (const s of samples) {
    if (!Number.isFinite(s.value) || !Number.isFinite(s.ts) || s.ts < from) continue;
    n++;
    st += s.ts - latest;
    sv += s.value;
  }
  if (n < 2) return undefined;
  const mt = st / n;
  const mv = sv / n;
  let sxy = 0;
  let sxx = 0;
  for (const s of samples) {
    if (!Number.isFinite(s.value) || !Number.isFinite(s.ts) || s.ts < from) continue;
    const dt = s.ts - latest - mt;
    sxy += dt * (s.value - mv);
    sxx += dt * dt;
  }
  if (sxx === 0) return undefined;
  return (sxy / sxx) * MS_PER_HOUR;
}
