import { describe, expect, it } from 'vitest';
import { usEpaAqi } from '../aqi/us-epa';
import { nowcast, nowcastAt } from './nowcast';
import { HOUR_MS } from './rolling';

describe('NowCast', () => {
  it('reproduces the EPA "Computing the NowCast" example: 17.4 µg/m³', () => {
    // EPA slides list the 12 hours oldest first: 50 80 75 90 82 53 64 74 21 10 16 13.
    // Range 80, scaled 80/90, w* = 0.11 < 0.5 so w = 0.5; NowCast = 17.4.
    const r = nowcast([13, 16, 10, 21, 74, 64, 53, 82, 90, 75, 80, 50])!;
    expect(r.weight).toBe(0.5);
    expect(r.value).toBe(17.4);
    expect(r.raw).toBeCloseTo(34.819336 / 1.99951171875, 5);
    expect(r.hoursUsed).toBe(12);
  });

  it('uses w* = cmin/cmax when above 0.5', () => {
    const r = nowcast([40, 30, 40, 30])!;
    expect(r.weight).toBeCloseTo(0.75, 12);
    // (40 + 0.75·30 + 0.5625·40 + 0.421875·30) / (1 + 0.75 + 0.5625 + 0.421875)
    expect(r.raw).toBeCloseTo((40 + 22.5 + 22.5 + 12.65625) / 2.734375, 10);
    expect(r.value).toBe(35.7);
  });

  it('constant input gives w = 1 and the plain mean', () => {
    const r = nowcast(Array(12).fill(23.45))!;
    expect(r.weight).toBe(1);
    expect(r.value).toBe(23.4); // truncated, not rounded
  });

  it('handles cmax = 0', () => {
    expect(nowcast([0, 0, 0, null, 0])).toMatchObject({ value: 0, weight: 1 });
  });

  it('counts negative hours as 0', () => {
    const r = nowcast([-1, 10, 10])!;
    expect(r.weight).toBe(0.5);
    expect(r.raw).toBeCloseTo((0 + 0.5 * 10 + 0.25 * 10) / 1.75, 10);
  });

  it('missing hours keep their index in the weights', () => {
    // c1 = 10, c2 missing, c3 = 20: w = 0.5, weights 1 and 0.25
    const r = nowcast([10, null, 20])!;
    expect(r.raw).toBeCloseTo((10 + 0.25 * 20) / 1.25, 12);
    expect(r.hoursUsed).toBe(2);
  });

  it('needs 2 of the 3 most recent hours', () => {
    const old = [5, 5, 5, 5, 5, 5, 5, 5, 5];
    expect(nowcast([1, 2, 3, ...old])).toBeDefined();
    expect(nowcast([undefined, 2, 3, ...old])).toBeDefined();
    expect(nowcast([1, undefined, 3, ...old])).toBeDefined();
    expect(nowcast([1, 2, null, ...old])).toBeDefined();
    expect(nowcast([undefined, undefined, 3, ...old])).toBeUndefined();
    expect(nowcast([1, null, Number.NaN, ...old])).toBeUndefined();
    expect(nowcast([null, 2, undefined, ...old])).toBeUndefined();
    expect(nowcast([7])).toBeUndefined();
    expect(nowcast([])).toBeUndefined();
  });

  it('ignores hours past the 12th', () => {
    const twelve = Array(12).fill(10);
    expect(nowcast([...twelve, 1000])!.value).toBe(10);
  });

  it('truncates PM10 to an integer', () => {
    expect(nowcast([55.9, 55.9, 55.9], 'pm10')!.value).toBe(55);
  });

  it('feeds the US AQI lookup', () => {
    expect(usEpaAqi('pm25', nowcast([13, 16, 10, 21, 74, 64, 53, 82, 90, 75, 80, 50])!.value)!.value).toBe(66); // (100 − 51)/(35.4 − 9.1)·(17.4 − 9.1) + 51 = 66.5
  });
});

describe('nowcastAt', () => {
  const now = Date.UTC(2025, 2, 1, 12);
  it('places hourly means by hours ago', () => {
    const hourly = [
      { hourStart: now, mean: 13 },
      { hourStart: now - 2 * HOUR_MS, mean: 10 },
      { hourStart: now - HOUR_MS, mean: 16 },
      { hourStart: now - 12 * HOUR_MS, mean: 999 }, // 13th hour: outside
      { hourStart: now + HOUR_MS, mean: 999 }, // future: outside
    ];
    const r = nowcastAt(hourly, now + 59 * 60_000)!;
    expect(r.hoursUsed).toBe(3);
    expect(r).toEqual(nowcast([13, 16, 10]));
  });

  it('is undefined without recent hours', () => {
    expect(nowcastAt([{ hourStart: now - 5 * HOUR_MS, mean: 10 }], now)).toBeUndefined();
  });
});
