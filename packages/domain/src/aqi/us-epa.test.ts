import { describe, expect, it } from 'vitest';
import { US_EPA_2024_BANDS, US_EPA_2024_BREAKPOINTS, usEpaAqi, usEpaInputConcentration } from './us-epa';

describe('US EPA AQI 2024, PM2.5', () => {
  it.each([
    [0, 0, 'good'],
    [9.0, 50, 'good'],
    [9.1, 51, 'moderate'],
    [35.4, 100, 'moderate'],
    [35.5, 101, 'unhealthy_for_sensitive_groups'],
    [55.4, 150, 'unhealthy_for_sensitive_groups'],
    [55.5, 151, 'unhealthy'],
    [125.4, 200, 'unhealthy'],
    [125.5, 201, 'very_unhealthy'],
    [225.4, 300, 'very_unhealthy'],
    [225.5, 301, 'hazardous'],
    [325.4, 500, 'hazardous'],
  ])('%s µg/m³ -> %s (%s)', (c, value, band) => {
    const r = usEpaAqi('pm25', c)!;
    expect(r.value).toBe(value);
    expect(r.band).toBe(band);
    expect(r.beyondScale).toBe(false);
    expect(r.convention).toBe('standard');
  });

  it('325.5 is beyond the AQI: 500, capped, flagged', () => {
    expect(usEpaAqi('pm25', 325.5)).toMatchObject({
      value: 500,
      band: 'hazardous',
      beyondScale: true,
      convention: 'cnx-capped',
      concentration: 325.5,
    });
    expect(usEpaAqi('pm25', 900)!.value).toBe(500);
  });

  it('truncates the input to one decimal', () => {
    expect(usEpaInputConcentration('pm25', 9.09)).toBe(9.0);
    expect(usEpaAqi('pm25', 9.09)!.value).toBe(50);
    expect(usEpaAqi('pm25', 35.49)!.value).toBe(100);
    expect(usEpaAqi('pm25', 325.49)!.beyondScale).toBe(false);
    expect(usEpaInputConcentration('pm25', 4.35)).toBe(4.3);
  });

  it('interpolates and rounds to the nearest integer', () => {
    // (100 − 51) / (35.4 − 9.1) × (12.0 − 9.1) + 51 = 56.4
    expect(usEpaAqi('pm25', 12)!.value).toBe(56);
    // (300 − 201) / (225.4 − 125.5) × (150 − 125.5) + 201 = 225.3
    expect(usEpaAqi('pm25', 150)!.value).toBe(225);
  });
});

describe('US EPA AQI, PM10', () => {
  it.each([
    [0, 0, 'good'],
    [54, 50, 'good'],
    [55, 51, 'moderate'],
    [154, 100, 'moderate'],
    [155, 101, 'unhealthy_for_sensitive_groups'],
    [254, 150, 'unhealthy_for_sensitive_groups'],
    [255, 151, 'unhealthy'],
    [354, 200, 'unhealthy'],
    [355, 201, 'very_unhealthy'],
    [424, 300, 'very_unhealthy'],
    [425, 301, 'hazardous'],
    [604, 500, 'hazardous'],
  ])('%s µg/m³ -> %s (%s)', (c, value, band) => {
    const r = usEpaAqi('pm10', c)!;
    expect(r.value).toBe(value);
    expect(r.band).toBe(band);
    expect(r.beyondScale).toBe(false);
  });

  it('605 is beyond the AQI; input is truncated to an integer', () => {
    expect(usEpaAqi('pm10', 605)).toMatchObject({ value: 500, beyondScale: true });
    expect(usEpaAqi('pm10', 54.9)!.value).toBe(50);
    expect(usEpaAqi('pm10', 604.9)!.beyondScale).toBe(false);
  });
});

describe('US EPA presentation', () => {
  it('has six categories with EPA colours and bilingual text', () => {
    expect(US_EPA_2024_BANDS.map((b) => b.color)).toEqual([
      '#00E400',
      '#FFFF00',
      '#FF7E00',
      '#FF0000',
      '#8F3F97',
      '#7E0023',
    ]);
    for (const [i, b] of US_EPA_2024_BANDS.entries()) {
      expect(b.level).toBe(i);
      for (const t of [b.label, b.colorName, b.advice.general, b.advice.sensitive]) {
        expect(t.th.length).toBeGreaterThan(0);
        expect(t.en.length).toBeGreaterThan(0);
      }
    }
  });

  it('tables are contiguous at their precision', () => {
    for (const t of Object.values(US_EPA_2024_BREAKPOINTS)) {
      const step = 10 ** -t.decimals;
      for (let i = 1; i < t.rows.length; i++) {
        expect(t.rows[i]!.cLo).toBeCloseTo(t.rows[i - 1]!.cHi + step, 9);
        expect(t.rows[i]!.iLo).toBe(t.rows[i - 1]!.iHi + 1);
      }
    }
  });

  it('rejects negative and non-finite input', () => {
    expect(usEpaAqi('pm25', -1)).toBeUndefined();
    expect(usEpaAqi('pm10', Number.NaN)).toBeUndefined();
  });
});
