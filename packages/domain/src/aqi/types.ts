import type { LocalizedText } from '../types';

/** AQI schemes this package implements; the id names the table version, never just the country. */
export type AqiScheme = 'th-pcd-2023' | 'us-epa-2024';
export const AQI_SCHEMES: readonly AqiScheme[] = ['th-pcd-2023', 'us-epa-2024'];

/** Pollutants with an AQI table here (24-hour means; NowCast values for the US scheme). */
export type AqiPollutant = 'pm25' | 'pm10';
export const AQI_POLLUTANTS: readonly AqiPollutant[] = ['pm25', 'pm10'];

/**
 * How the number was obtained:
 * - `standard`: inside the published table;
 * - `cnx-extrapolated`: above the table's top defined index, extrapolated by this project (Thai > 200);
 * - `cnx-capped`: beyond the table's top breakpoint, reported as the table's maximum (US > 500).
 * Anything but `standard` is the project's convention, not the agency's, and the API says so.
 */
export type AqiConvention = 'standard' | 'cnx-extrapolated' | 'cnx-capped';

export interface AqiAdvice {
  /** For the general public. */
  general: LocalizedText;
  /** For sensitive / risk groups (children, elderly, pregnant women, heart or lung disease). */
  sensitive: LocalizedText;
}

/** One band (category) of an AQI scheme: presentation and advice, no numbers. */
export interface AqiBandInfo {
  /** Stable id, e.g. 'moderate'. Unique within a scheme. */
  id: string;
  /** 0 for the best band, increasing with worse air. */
  level: number;
  /** Hex colour, '#RRGGBB'. */
  color: string;
  colorName: LocalizedText;
  label: LocalizedText;
  advice: AqiAdvice;
}

/** One row of a breakpoint table: concentration range [cLo, cHi] maps linearly to [iLo, iHi]. */
export interface AqiBreakpoint {
  cLo: number;
  cHi: number;
  iLo: number;
  iHi: number;
  /** Index into the scheme's band list. */
  band: number;
}

export interface AqiResult {
  scheme: AqiScheme;
  pollutant: AqiPollutant;
  /** The index value, an integer. */
  value: number;
  /** Band id (see AqiBandInfo.id). */
  band: string;
  /** 0 = best band; compare levels across pollutants of one scheme. */
  level: number;
  color: string;
  colorName: LocalizedText;
  label: LocalizedText;
  advice: AqiAdvice;
  /** True when the concentration is above what the official table defines a number for. */
  beyondScale: boolean;
  convention: AqiConvention;
  /** The concentration the table was read with, after the scheme's rounding or truncation. */
  concentration: number;
  /** The concentration as given. */
  inputConcentration: number;
}
