import { describe, expect, it } from 'vitest';
import { TH_PCD_2023_BANDS, TH_PCD_2023_BREAKPOINTS, thaiAqi, thaiInputConcentration } from './thai';

describe('Thai AQI (PCD 2023), PM2.5', () => {
  it.each([
    [0, 0, 'very_good'],
    [15.0, 25, 'very_good'],
    [15.1, 26, 'good'],
    [25.0, 50, 'good'],
    [25.1, 51, 'moderate'],
    [37.5, 100, 'moderate'],
    [37.6, 101, 'starts_to_affect_health'],
    [75.0, 200, 'starts_to_affect_health'],
  ])('%s µg/m³ -> %s (%s), inside the table', (c, value, band) => {
    const r = thaiAqi('pm25', c)!;
    expect(r.value).toBe(value);
    expect(r.band).toBe(band);
    expect(r.beyondScale).toBe(false);
    expect(r.convention).toBe('standard');
    expect(r.scheme).toBe('th-pcd-2023');
  });

  it('75.1 starts the red band at 201 by the cnx-extrapolated convention', () => {
    const r = thaiAqi('pm25', 75.1)!;
    expect(r).toMatchObject({ value: 201, band: 'affects_health', beyondScale: true, convention: 'cnx-extrapolated' });
    expect(r.color).toBe('#F04646');
    expect(r.colorName).toEqual({ th: 'แดง', en: 'red' });
  });

  it('extrapolates above 75.1 with the orange slope 99/37.4 per µg/m³', () => {
    // 201 + 99 / 37.4 × (100 − 75.1) = 266.9
    expect(thaiAqi('pm25', 100)!.value).toBe(267);
    const a = thaiAqi('pm25', 150)!.value;
    const b = thaiAqi('pm25', 200)!.value;
    expect(b).toBeGreaterThan(a);
  });

  it('interpolates inside a band', () => {
    // (100 − 51) / (37.5 − 25.1) × (30 − 25.1) + 51 = 70.36
    expect(thaiAqi('pm25', 30)!.value).toBe(70);
    expect(thaiAqi('pm25', 7.5)!.value).toBe(13); // 12.5 rounds half up
  });

  it('rounds the input to one decimal, half up', () => {
    expect(thaiInputConcentration('pm25', 15.04)).toBe(15.0);
    expect(thaiInputConcentration('pm25', 15.05)).toBe(15.1);
    expect(thaiAqi('pm25', 15.04)!.value).toBe(25);
    expect(thaiAqi('pm25', 15.05)!.value).toBe(26);
    expect(thaiAqi('pm25', 75.04)!.value).toBe(200);
    expect(thaiAqi('pm25', 75.05)!.beyondScale).toBe(true);
    const r = thaiAqi('pm25', 37.56)!;
    expect(r.concentration).toBe(37.6);
    expect(r.inputConcentration).toBe(37.56);
  });
});

describe('Thai AQI (PCD 2023), PM10', () => {
  it.each([
    [0, 0, 'very_good'],
    [50, 25, 'very_good'],
    [51, 26, 'good'],
    [80, 50, 'good'],
    [81, 51, 'moderate'],
    [120, 100, 'moderate'],
    [121, 101, 'starts_to_affect_health'],
    [180, 200, 'starts_to_affect_health'],
  ])('%s µg/m³ -> %s (%s)', (c, value, band) => {
    const r = thaiAqi('pm10', c)!;
    expect(r.value).toBe(value);
    expect(r.band).toBe(band);
    expect(r.beyondScale).toBe(false);
  });

  it('181 -> 201, red, beyond scale; then the orange slope 99/59', () => {
    expect(thaiAqi('pm10', 181)).toMatchObject({ value: 201, band: 'affects_health', beyondScale: true });
    // 201 + 99 / 59 × (250 − 181) = 316.8
    expect(thaiAqi('pm10', 250)!.value).toBe(317);
  });

  it('rounds the input to an integer, half up', () => {
    expect(thaiAqi('pm10', 50.4)!.value).toBe(25);
    expect(thaiAqi('pm10', 50.5)!.value).toBe(26);
    expect(thaiAqi('pm10', 180.4)!.value).toBe(200);
    expect(thaiAqi('pm10', 180.5)!.value).toBe(201);
  });
});

describe('Thai AQI presentation', () => {
  it('has five bands with PCD colours, Thai and English labels and advice', () => {
    expect(TH_PCD_2023_BANDS.map((b) => b.color)).toEqual(['#3BCCFF', '#92D050', '#FFFF00', '#FFA200', '#F04646']);
    for (const [i, b] of TH_PCD_2023_BANDS.entries()) {
      expect(b.level).toBe(i);
      for (const t of [b.label, b.colorName, b.advice.general, b.advice.sensitive]) {
        expect(t.th.length).toBeGreaterThan(0);
        expect(t.en.length).toBeGreaterThan(0);
      }
    }
    expect(thaiAqi('pm25', 30)!.label).toEqual({ th: 'ปานกลาง', en: 'Moderate' });
  });

  it('tables are contiguous at their precision', () => {
    for (const t of Object.values(TH_PCD_2023_BREAKPOINTS)) {
      const step = 10 ** -t.decimals;
      for (let i = 1; i < t.rows.length; i++) {
        expect(t.rows[i]!.cLo).toBeCloseTo(t.rows[i - 1]!.cHi + step, 9);
        expect(t.rows[i]!.iLo).toBe(t.rows[i - 1]!.iHi + 1);
      }
      expect(t.redFrom).toBeCloseTo(t.rows[t.rows.length - 1]!.cHi + step, 9);
    }
  });

  it('rejects negative and non-finite input', () => {
    expect(thaiAqi('pm25', -0.1)).toBeUndefined();
    expect(thaiAqi('pm25', Number.NaN)).toBeUndefined();
    expect(thaiAqi('pm10', Number.POSITIVE_INFINITY)).toBeUndefined();
  });
});
