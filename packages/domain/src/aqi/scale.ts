import { roundTo } from '../util/round';
import type { AqiBandInfo, AqiBreakpoint, AqiConvention, AqiPollutant, AqiResult, AqiScheme } from './types';

/**
 * Linear interpolation inside one band, the formula both PCD and EPA publish:
 * I = (Ihi − Ilo) / (Chi − Clo) × (C − Clo) + Ilo, rounded to the nearest integer (half up).
 */
export function interpolate(bp: AqiBreakpoint, c: number): number {
  return roundTo(((bp.iHi - bp.iLo) / (bp.cHi - bp.cLo)) * (c - bp.cLo) + bp.iLo, 0);
}

/**
 * The row whose range holds `c`. Rows are contiguous at the table's precision (next cLo = cHi + one
 * unit of the last decimal), so after rounding or truncating `c` to that precision the first row
 * with c ≤ cHi is the right one. Undefined above the table.
 */
export function findBreakpoint(rows: readonly AqiBreakpoint[], c: number): AqiBreakpoint | undefined {
  for (const row of rows) if (c <= row.cHi) return row;
  return undefined;
}

/** A usable concentration: finite and not negative. */
export const isValidConcentration = (c: number): boolean => Number.isFinite(c) && c >= 0;

export function makeResult(
  scheme: AqiScheme,
  pollutant: AqiPollutant,
  band: AqiBandInfo,
  value: number,
  concentration: number,
  inputConcentration: number,
  convention: AqiConvention,
): AqiResult {
  return {
    scheme,
    pollutant,
    value,
    band: band.id,
    level: band.level,
    color: band.color,
    colorName: band.colorName,
    label: band.label,
    advice: band.advice,
    beyondScale: convention !== 'standard',
    convention,
    concentration,
    inputConcentration,
  };
}
