/**
 * Health-based reference levels for particulate matter (µg/m³), to put a number in context.
 *
 * WHO: "WHO global air quality guidelines: particulate matter (PM2.5 and PM10), ozone, nitrogen
 * dioxide, sulfur dioxide and carbon monoxide" (WHO, 22 September 2021), Table 0.1 (recommended AQG
 * levels and interim targets). 24-hour levels are 99th percentiles (3–4 exceedance days a year).
 *
 * Thailand: National Environment Board notification on the PM2.5 standard in ambient air, B.E. 2565
 * (2022), in force 1 June 2023: 24 h 37.5, annual 15 (previously 50 and 25). The PM10 standards
 * (24 h 120, annual 50) were not changed; 120 is also index 100 of the PCD AQI table.
 * Thailand's 24-hour PM2.5 standard equals WHO interim target 3.
 */

export interface WhoLevels {
  /** Interim targets 1..4, the first the most lenient. */
  it1: number;
  it2: number;
  it3: number;
  it4: number;
  /** Air quality guideline level. */
  aqg: number;
}

/** WHO 2021, PM2.5, 24-hour (Table 0.1). */
export const WHO_2021_PM25_24H: Readonly<WhoLevels> = Object.freeze({ it1: 75, it2: 50, it3: 37.5, it4: 25, aqg: 15 });
/** WHO 2021, PM2.5, annual (Table 0.1). */
export const WHO_2021_PM25_ANNUAL: Readonly<WhoLevels> = Object.freeze({ it1: 35, it2: 25, it3: 15, it4: 10, aqg: 5 });
/** WHO 2021, PM10, 24-hour (Table 0.1). */
export const WHO_2021_PM10_24H: Readonly<WhoLevels> = Object.freeze({ it1: 150, it2: 100, it3: 75, it4: 50, aqg: 45 });
/** WHO 2021, PM10, annual (Table 0.1). */
export const WHO_2021_PM10_ANNUAL: Readonly<WhoLevels> = Object.freeze({ it1: 70, it2: 50, it3: 30, it4: 20, aqg: 15 });

/** Thai ambient standard, PM2.5 24-hour mean, from 1 June 2023 (NEB notification B.E. 2565). */
export const TH_PM25_24H_STANDARD = 37.5;
/** Thai ambient standard, PM2.5 annual mean, from 1 June 2023 (NEB notification B.E. 2565). */
export const TH_PM25_ANNUAL_STANDARD = 15;
/** Thai ambient standard, PM10 24-hour mean (NEB ambient air standards; see header). */
export const TH_PM10_24H_STANDARD = 120;
/** Thai ambient standard, PM10 annual mean (NEB ambient air standards; see header). */
export const TH_PM10_ANNUAL_STANDARD = 50;

/** The strictest WHO level a value meets: 'aqg', 'it4' … 'it1', or 'above-it1'. */
export type WhoTier = 'aqg' | 'it4' | 'it3' | 'it2' | 'it1' | 'above-it1';

export function whoTier(value: number, levels: Readonly<WhoLevels>): WhoTier {
  if (value <= levels.aqg) return 'aqg';
  if (value <= levels.it4) return 'it4';
  if (value <= levels.it3) return 'it3';
  if (value <= levels.it2) return 'it2';
  if (value <= levels.it1) return 'it1';
  return 'above-it1';
}
