/**
 * Decimal rounding without binary floating-point surprises (4.35 * 100 = 434.99999999999994).
 * The scaled value is first cleaned to 12 significant digits, which removes representation noise
 * but keeps every digit a sensor or a table can carry.
 */
const clean = (x: number): number => Number(x.toPrecision(12));

/** Round half up (away from zero for positives) to `decimals` places. */
export function roundTo(x: number, decimals: number): number {
  const f = 10 ** decimals;
  return Math.round(clean(x * f)) / f;
}

/** Truncate toward zero to `decimals` places (EPA: "truncate, don't round", AQI TAD 2024). */
export function truncTo(x: number, decimals: number): number {
  const f = 10 ** decimals;
  return Math.trunc(clean(x * f)) / f;
}
