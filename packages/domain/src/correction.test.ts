import { describe, expect, it } from 'vitest';
import {
  barkjohn2021,
  barkjohn2021Extended,
  correctPm25,
  correctPm25Values,
  DEFAULT_PM25_CORRECTION,
  isPm25CorrectionMethod,
  PM25_CORRECTION_METHODS,
} from './correction';

const RH = 40;

describe('epa-barkjohn-2021@1', () => {
  it('is 0.524·x − 0.0862·RH + 5.75', () => {
    expect(barkjohn2021(10, RH)).toBeCloseTo(7.542, 9);
    expect(barkjohn2021(100, RH)).toBeCloseTo(52.4 - 3.448 + 5.75, 9);
    expect(correctPm25(100, RH, 'epa-barkjohn-2021@1')!.value).toBeCloseTo(54.702, 9);
  });
});

describe('epa-barkjohn-2021-extended@1', () => {
  // Reference values computed by hand from the slide's formulas (the same vectors appear in public
  // implementations that cite EPA dirEntryId=353088).
  it.each([
    [10, 7.542], // x < 30
    [40, 28.502], // blend, w = 0.5
    [100, 80.902], // 50 ≤ x < 210
    [235, 200.47345], // blend, w = 0.5
    [300, 289.526], // x ≥ 260, no RH term
  ])('x = %s, RH 40 -> %s', (x, expected) => {
    expect(barkjohn2021Extended(x, RH)).toBeCloseTo(expected, 6);
  });

  it('blends start and end on the neighbouring formulas', () => {
    expect(barkjohn2021Extended(30, RH)).toBeCloseTo(0.524 * 30 - 0.0862 * RH + 5.75, 9);
    expect(barkjohn2021Extended(50, RH)).toBeCloseTo(0.786 * 50 - 0.0862 * RH + 5.75, 9);
    expect(barkjohn2021Extended(210, RH)).toBeCloseTo(0.786 * 210 - 0.0862 * RH + 5.75, 9);
    expect(barkjohn2021Extended(260, RH)).toBeCloseTo(2.966 + 0.69 * 260 + 8.84e-4 * 260 * 260, 9);
  });

  it('is continuous at 30, 50, 210 and 260 for any RH', () => {
    for (const rh of [0, 40, 75, 100]) {
      for (const b of [30, 50, 210, 260]) {
        expect(Math.abs(barkjohn2021Extended(b - 1e-9, rh) - barkjohn2021Extended(b, rh))).toBeLessThan(1e-6);
      }
    }
  });

  it('ignores RH from 260 up', () => {
    expect(barkjohn2021Extended(400, 10)).toBe(barkjohn2021Extended(400, 90));
  });

  it('increases with x through the smoke range', () => {
    let prev = Number.NEGATIVE_INFINITY;
    for (let x = 0; x <= 600; x += 2.5) {
      const y = barkjohn2021Extended(x, 60);
      expect(y).toBeGreaterThan(prev);
      prev = y;
    }
  });
});

describe('correctPm25', () => {
  it('defaults to the extended method and names it', () => {
    expect(DEFAULT_PM25_CORRECTION).toBe('epa-barkjohn-2021-extended@1');
    expect(correctPm25(40, RH)).toEqual({
      metric: 'pm25',
      value: barkjohn2021Extended(40, RH),
      method: DEFAULT_PM25_CORRECTION,
    });
  });

  it('clamps below 0', () => {
    expect(correctPm25(0, 100)!.value).toBe(0);
    expect(correctPm25(-3, 50)!.value).toBe(0);
  });

  it('is undefined without a usable RH or PM value', () => {
    expect(correctPm25(20, undefined)).toBeUndefined();
    expect(correctPm25(20, Number.NaN)).toBeUndefined();
    expect(correctPm25(20, 101)).toBeUndefined();
    expect(correctPm25(20, -1)).toBeUndefined();
    expect(correctPm25(undefined, 50)).toBeUndefined();
    expect(correctPm25(Number.POSITIVE_INFINITY, 50)).toBeUndefined();
  });

  it('reads pm25 and humidity from reading values', () => {
    expect(correctPm25Values({ pm25: 100, humidity: RH })!.value).toBeCloseTo(80.902, 9);
    expect(correctPm25Values({ pm25: 100 })).toBeUndefined();
  });

  it('knows its method ids', () => {
    expect(PM25_CORRECTION_METHODS).toContain(DEFAULT_PM25_CORRECTION);
    expect(isPm25CorrectionMethod('epa-barkjohn-2021@1')).toBe(true);
    expect(isPm25CorrectionMethod('epa-barkjohn-2021@2')).toBe(false);
    expect(isPm25CorrectionMethod('toString')).toBe(false);
  });
});
