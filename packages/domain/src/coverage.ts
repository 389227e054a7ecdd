/**
 * Coverage: how many samples a station gave in a span against how many its devices should give at
 * their own cadence (the city pack's `intervalS`, docs/qc.md "Coverage"). One formula for the API's
 * series and the stored rollups (packages/store rollup.ts), so both report the same figure.
 */

export interface Coverage {
  expectedCount: number;
  observedCount: number;
  /** observed / expected in percent, one decimal, at most 100. */
  percentComplete: number;
}

/**
 * Samples expected in `spanMs` from devices reporting every `intervalsMs` (one entry per device;
 * each device at least one sample, however short the span).
 */
export function expectedSamples(spanMs: number, intervalsMs: readonly number[]): number {
  return intervalsMs.reduce((n, i) => n + Math.max(1, Math.round(spanMs / i)), 0);
}

/** Coverage of `observed` samples against `expected` ones. */
export function coverageOf(observed: number, expected: number): Coverage {
  const percentComplete = Math.min(100, Math.round((observed / expected) * 1000) / 10);
  return { expectedCount: expected, observedCount: observed, percentComplete };
}
