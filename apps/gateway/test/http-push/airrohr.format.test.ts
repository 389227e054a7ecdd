import { describe, expect, it } from 'vitest';
import {
  AIRROHR_VALUE_TYPES,
  type AirrohrDataValue,
  decodeAirrohrValues,
  parseAirrohrNumber,
} from '../../src/http-push/airrohr.format';

const items = (pairs: [string, string | number][]): AirrohrDataValue[] =>
  pairs.map(([value_type, value]) => ({ value_type, value }));

describe('parseAirrohrNumber', () => {
  it.each([
    ['12.30', 12.3],
    ['-67', -67],
    ['0', 0],
    ['-0.00', -0],
    ['5128463', 5128463],
    ['.5', 0.5],
    ['7.', 7],
  ])('%s -> %s', (s, n) => expect(parseAirrohrNumber(s)).toBe(n));

  it.each(['', ' 1', '1 ', '+1', '1e3', '0x10', 'nan', 'inf', 'ovf', '12,30', '1.2.3', '-', '.', '1'.repeat(33)])(
    'rejects %j',
    (s) => expect(parseAirrohrNumber(s)).toBeUndefined(),
  );

  it('accepts finite JSON numbers only', () => {
    expect(parseAirrohrNumber(12.5)).toBe(12.5);
    expect(parseAirrohrNumber(Number.NaN)).toBeUndefined();
    expect(parseAirrohrNumber(Number.POSITIVE_INFINITY)).toBeUndefined();
  });
});

describe('decodeAirrohrValues', () => {
  it('maps every particulate sensor the firmware supports (P0 = PM1, P1 = PM10, P2 = PM2.5)', () => {
    for (const sensor of ['SDS', 'PMS', 'HPM', 'NPM', 'SPS30']) {
      expect(AIRROHR_VALUE_TYPES.get(`${sensor}_P1`)?.metric).toBe('pm10');
      expect(AIRROHR_VALUE_TYPES.get(`${sensor}_P2`)?.metric).toBe('pm25');
      expect(AIRROHR_VALUE_TYPES.get(`${sensor}_P0`)?.metric).toBe('pm1');
    }
    expect(AIRROHR_VALUE_TYPES.has('SPS30_P4')).toBe(false);
    expect(AIRROHR_VALUE_TYPES.has('BME280_pressure')).toBe(false);
  });

  it('keeps the best sensor per metric whatever the order, and lists the rest as ignored', () => {
    const r = decodeAirrohrValues(
      items([
        ['humidity', '80.00'],
        ['SHT3X_humidity', '62.00'],
        ['BME280_humidity', '64.00'],
        ['DS18B20_temperature', '25.00'],
        ['temperature', '29.00'],
        ['HPM_P2', '20.00'],
        ['SDS_P2', '18.00'],
      ]),
      undefined,
    );
    expect(r).toEqual({
      ok: true,
      value: {
        values: { humidity: 62, temperature: 29, pm25: 18 },
        sources: { humidity: 'SHT3X_humidity', temperature: 'temperature', pm25: 'SDS_P2' },
        ignored: ['humidity', 'BME280_humidity', 'DS18B20_temperature', 'HPM_P2'],
      },
    });
  });

  it('a value type repeated in one body: the last one wins', () => {
    const r = decodeAirrohrValues(
      items([
        ['SDS_P1', '1.00'],
        ['SDS_P1', '2.00'],
      ]),
      undefined,
    );
    expect(r.ok && r.value.values).toEqual({ pm10: 2 });
    expect(r.ok && r.value.ignored).toEqual([]);
  });

  it('plain P0/P1/P2 are PM only with X-Pin 1', () => {
    const pm = items([
      ['P0', '3.00'],
      ['P1', '9.00'],
      ['P2', '6.00'],
    ]);
    expect(decodeAirrohrValues(pm, 1)).toMatchObject({ ok: true, value: { values: { pm1: 3, pm10: 9, pm25: 6 } } });
    expect(decodeAirrohrValues(pm, 5)).toMatchObject({ ok: false, error: { reason: 'no_values' } });
    expect(decodeAirrohrValues(pm, undefined)).toMatchObject({ ok: false, error: { reason: 'no_values' } });
  });

  it('non-numeric values are an error only for types we store', () => {
    const r = decodeAirrohrValues(
      items([
        ['GPS_date', '01/31/2024'],
        ['GPS_time', '12:00:00.00'],
        ['SDS_P2', '8.10'],
      ]),
      undefined,
    );
    expect(r).toMatchObject({ ok: true, value: { values: { pm25: 8.1 }, ignored: ['GPS_date', 'GPS_time'] } });
    expect(decodeAirrohrValues(items([['SDS_P2', 'ovf']]), undefined)).toEqual({
      ok: false,
      error: { reason: 'non_numeric_value', detail: 'SDS_P2="ovf"' },
    });
  });

  it('applies the domain hard limits', () => {
    expect(decodeAirrohrValues(items([['PMS_P2', '5001']]), undefined)).toEqual({
      ok: false,
      error: { reason: 'impossible_value', detail: 'pm25=5001 (PMS_P2)' },
    });
    expect(decodeAirrohrValues(items([['BMP_temperature', '-41.00']]), undefined)).toMatchObject({
      ok: false,
      error: { reason: 'impossible_value' },
    });
    // Implausible but possible is accepted (QC flags it `range` later).
    expect(decodeAirrohrValues(items([['SDS_P2', '1200.00']]), undefined).ok).toBe(true);
  });
});
