/**
 * Decimal rounding without binary floating-point surprises (4.35 * 100 = 434.99999999999994).
 * The scaled value is first cleaned to 12 significant digits, which removes representation noise
 * but keeps every digit a sensor or a table can carry.
 */
const clean = (x: number): number => Number(x.toPrecision(12));

/**
 * Whether representation noise could change rounding or truncating `y`: only when y lies within
 * the noise band (well above 12-significant-digit resolution) of a .5 or a whole number. Elsewhere
 * the cleaning (a number -> string -> number round trip, the costly part) cannot change the result.
 */
const nearEdge = (y: number): boolean => {
  const frac = Math.abs(y - Math.trunc(y));
  const band = 1e-9 * Math.max(1, Math.abs(y));
  return Math.abs(frac - 0.5) <= band || frac <= band || 1 - frac <= band;
};

/** Round half up (away from zero for positives) to `decimals` places. */
export function roundTo(x: number, decimals: number): number {
  const f = 10 ** decimals;
  const y = x * f;
  return Math.round(nearEdge(y) ? clean(y) : y) / f;
}

/** Truncate toward zero to `decimals` places (EPA: "truncate, don't round", AQI TAD 2024). */
export function truncTo(x: number, decimals: number): number {
  const f = 10 ** decimals;
  const y = x * f;
  return Math.trunc(nearEdge(y) ? clean(y) : y) / f;
}
