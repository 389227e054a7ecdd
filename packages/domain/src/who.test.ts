import { describe, expect, it } from 'vitest';
import { TH_PCD_2023_BREAKPOINTS } from './aqi/thai';
import {
  TH_PM10_24H_STANDARD,
  TH_PM25_24H_STANDARD,
  WHO_2021_PM10_24H,
  WHO_2021_PM25_24H,
  WHO_2021_PM25_ANNUAL,
  whoTier,
} from './who';

describe('WHO 2021 and Thai standards', () => {
  it('hold the published numbers', () => {
    expect(WHO_2021_PM25_24H).toEqual({ it1: 75, it2: 50, it3: 37.5, it4: 25, aqg: 15 });
    expect(WHO_2021_PM25_ANNUAL).toEqual({ it1: 35, it2: 25, it3: 15, it4: 10, aqg: 5 });
    expect(WHO_2021_PM10_24H.aqg).toBe(45);
  });

  it('Thailand 24 h PM2.5 = WHO interim target 3 = top of the PCD moderate band', () => {
    expect(TH_PM25_24H_STANDARD).toBe(WHO_2021_PM25_24H.it3);
    expect(TH_PCD_2023_BREAKPOINTS.pm25.rows[2]!.cHi).toBe(TH_PM25_24H_STANDARD);
    expect(TH_PCD_2023_BREAKPOINTS.pm10.rows[2]!.cHi).toBe(TH_PM10_24H_STANDARD);
  });

  it.each([
    [0, 'aqg'],
    [15, 'aqg'],
    [15.1, 'it4'],
    [25, 'it4'],
    [25.1, 'it3'],
    [37.5, 'it3'],
    [37.6, 'it2'],
    [50, 'it2'],
    [50.1, 'it1'],
    [75, 'it1'],
    [75.1, 'above-it1'],
  ] as const)('whoTier(%s) for 24 h PM2.5 = %s', (v, tier) => {
    expect(whoTier(v, WHO_2021_PM25_24H)).toBe(tier);
  });
});
