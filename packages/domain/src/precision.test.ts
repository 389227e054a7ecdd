import { describe, expect, it } from 'vitest';
import { metricDecimals, roundCorrections, roundMetric, roundMetricOrNull, roundValues } from './precision';

describe('published precision', () => {
  it("rounds a metric's numbers once, half up, to its registry decimals", () => {
    expect(roundMetric('pm25', 15.736923076923079)).toBe(15.7);
    expect(roundMetric('pm25', 34.65)).toBe(34.7); // 34.65 is 34.649999… in binary: still half up
    expect(roundMetric('water_level', 1.76749999)).toBe(1.767);
    expect(roundMetric('conductivity', 7.2384515)).toBe(7);
    expect(roundMetricOrNull('pm10', null)).toBeNull();
  });

  it('knows corrected metrics and nothing else', () => {
    expect(metricDecimals('pm25_corrected')).toBe(1);
    expect(metricDecimals('do')).toBe(2);
    expect(metricDecimals('lat')).toBeUndefined();
  });

  it('rounds the values and corrections of a reading', () => {
    expect(roundValues({ pm1: 21.116666666666667, ph: 7.2049, water_level: 1.0 })).toEqual({
      pm1: 21.1,
      ph: 7.2,
      water_level: 1,
    });
    expect(roundCorrections([{ metric: 'pm25', value: 12.149999999, method: 'm@1' }])).toEqual([
      { metric: 'pm25', value: 12.1, method: 'm@1' },
    ]);
  });
});
