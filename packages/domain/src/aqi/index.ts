/**
 * AQI entry point: one result shape for every scheme, `computeAqi` to pick a scheme by id, and the
 * "overall AQI = highest sub-index" rule that both PCD and EPA use.
 */
import { TH_PCD_2023_BANDS, thaiAqi } from './thai';
import { AQI_POLLUTANTS, type AqiBandInfo, type AqiPollutant, type AqiResult, type AqiScheme } from './types';
import { US_EPA_2024_BANDS, usEpaAqi } from './us-epa';

export * from './thai';
export * from './types';
export * from './us-epa';

const BY_SCHEME: Readonly<Record<AqiScheme, (p: AqiPollutant, c: number) => AqiResult | undefined>> = {
  'th-pcd-2023': thaiAqi,
  'us-epa-2024': usEpaAqi,
};

/** Bands of each scheme, best first: for legends. */
export const AQI_BANDS: Readonly<Record<AqiScheme, readonly AqiBandInfo[]>> = {
  'th-pcd-2023': TH_PCD_2023_BANDS,
  'us-epa-2024': US_EPA_2024_BANDS,
};

/**
 * Sub-index of one pollutant under one scheme. `concentration` is in µg/m³ and must be the averaging
 * the scheme expects (a 24-hour mean; for the US scheme a NowCast is also accepted). Undefined for
 * a negative or non-finite concentration.
 */
export function computeAqi(scheme: AqiScheme, pollutant: AqiPollutant, concentration: number): AqiResult | undefined {
  return BY_SCHEME[scheme](pollutant, concentration);
}

/**
 * The overall AQI: the highest sub-index (PCD and EPA alike). Ties go to the worse band, then to the
 * first given. Undefined entries are skipped; undefined if none is left. Throws on mixed schemes:
 * comparing a Thai and a US index is a programming error.
 */
export function maxSubIndex(results: readonly (AqiResult | undefined)[]): AqiResult | undefined {
  let best: AqiResult | undefined;
  for (const r of results) {
    if (!r) continue;
    if (best && r.scheme !== best.scheme) {
      throw new RangeError(`maxSubIndex: mixed AQI schemes ${best.scheme} and ${r.scheme}`);
    }
    if (!best || r.value > best.value || (r.value === best.value && r.level > best.level)) best = r;
  }
  return best;
}

export interface OverallAqi {
  scheme: AqiScheme;
  /** The highest sub-index. */
  overall: AqiResult;
  /** The pollutant that set it. */
  dominant: AqiPollutant;
  subIndices: Partial<Record<AqiPollutant, AqiResult>>;
}

/** Sub-indices of every pollutant given, and the overall AQI. Undefined if no usable value was given. */
export function overallAqi(
  scheme: AqiScheme,
  concentrations: Partial<Record<AqiPollutant, number>>,
): OverallAqi | undefined {
  const subIndices: Partial<Record<AqiPollutant, AqiResult>> = {};
  const list: AqiResult[] = [];
  for (const p of AQI_POLLUTANTS) {
    const c = concentrations[p];
    if (c === undefined) continue;
    const r = computeAqi(scheme, p, c);
    if (!r) continue;
    subIndices[p] = r;
    list.push(r);
  }
  const overall = maxSubIndex(list);
  return overall ? { scheme, overall, dominant: overall.pollutant, subIndices } : undefined;
}
