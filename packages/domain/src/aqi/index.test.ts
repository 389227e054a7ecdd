import { describe, expect, it } from 'vitest';
import { AQI_BANDS, computeAqi, maxSubIndex, overallAqi } from './index';

describe('computeAqi', () => {
  it('dispatches on the scheme', () => {
    expect(computeAqi('th-pcd-2023', 'pm25', 37.6)!.value).toBe(101);
    expect(computeAqi('us-epa-2024', 'pm25', 37.6)!.value).toBe(106);
    expect(computeAqi('us-epa-2024', 'pm25', -3)).toBeUndefined();
  });

  it('exposes the bands of each scheme for legends', () => {
    expect(AQI_BANDS['th-pcd-2023']).toHaveLength(5);
    expect(AQI_BANDS['us-epa-2024']).toHaveLength(6);
  });
});

describe('overall AQI = highest sub-index', () => {
  it('picks the pollutant with the highest sub-index', () => {
    const o = overallAqi('th-pcd-2023', { pm25: 20, pm10: 130 })!;
    expect(o.dominant).toBe('pm10');
    expect(o.overall.value).toBe(o.subIndices.pm10!.value);
    expect(o.subIndices.pm25!.value).toBeLessThan(o.overall.value);
  });

  it('skips missing and invalid values', () => {
    expect(overallAqi('us-epa-2024', { pm25: Number.NaN, pm10: 60 })!.dominant).toBe('pm10');
    expect(overallAqi('us-epa-2024', {})).toBeUndefined();
  });

  it('breaks ties toward the worse band, then the first', () => {
    const a = computeAqi('us-epa-2024', 'pm25', 9.0)!; // 50
    const b = computeAqi('us-epa-2024', 'pm10', 54)!; // 50
    expect(maxSubIndex([a, b])).toBe(a);
    expect(maxSubIndex([undefined, b, a])).toBe(b);
    expect(maxSubIndex([])).toBeUndefined();
  });

  it('refuses to compare schemes', () => {
    const th = computeAqi('th-pcd-2023', 'pm25', 10);
    const us = computeAqi('us-epa-2024', 'pm25', 10);
    expect(() => maxSubIndex([th, us])).toThrow(RangeError);
  });
});
