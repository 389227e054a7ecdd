import { describe, expect, it } from 'vitest';
import { type AirModel, type AirSite, airValues, ambient, localHour } from '../src/model/air';
import { dailyPmFactor, seasonalBaseline } from '../src/model/season';
import { createScenario } from '../src/scenarios';
import { correlation, DEVICES, mean, SIM_START } from './helpers';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const model = (seed: number, scenario = 'normal', simStart = SIM_START): AirModel => ({
  seed,
  utcOffsetMin: 420,
  scenario: createScenario(scenario, { seed, simStart }),
});
const site = (i: number): AirSite => {
  const d = DEVICES[i] as (typeof DEVICES)[number];
  return { deviceId: d.id, stationId: d.stationId, location: d.location };
};

describe('air value model', () => {
  it('is deterministic: same seed, device and time give the same values', () => {
    const t = SIM_START + 7.5 * HOUR + 1234;
    expect(airValues(model(42), site(0), t)).toEqual(airValues(model(42), site(0), t));
    // ...independently of what was computed before (pure function of time, no hidden state)
    const m = model(42);
    const first = airValues(m, site(0), t);
    for (let k = 0; k < 100; k++) airValues(m, site(1), t + k * 10_000);
    expect(airValues(m, site(0), t)).toEqual(first);
  });

  it('changes with the seed and the device', () => {
    const t = SIM_START + 3 * HOUR;
    expect(airValues(model(1), site(0), t)).not.toEqual(airValues(model(2), site(0), t));
    expect(airValues(model(1), site(0), t)).not.toEqual(airValues(model(1), site(1), t));
  });

  it('keeps PM1 0.6-0.8x and PM10 1.2-1.6x PM2.5, and physical ranges', () => {
    for (const seed of [1, 2, 3]) {
      for (let h = 0; h < 72; h += 0.5) {
        const v = airValues(model(seed, 'haze'), site(seed % 3), SIM_START + h * HOUR);
        expect(v.pm1).toBeLessThanOrEqual(v.pm25);
        expect(v.pm25).toBeLessThanOrEqual(v.pm10);
        expect(v.pm25).toBeGreaterThanOrEqual(0);
        expect(v.humidity).toBeGreaterThanOrEqual(0);
        expect(v.humidity).toBeLessThanOrEqual(100);
        if (v.pm25 >= 20) {
          expect(v.pm10 / v.pm25).toBeGreaterThanOrEqual(1.19);
          expect(v.pm10 / v.pm25).toBeLessThanOrEqual(1.61);
          expect(v.pm1 / v.pm25).toBeGreaterThanOrEqual(0.59);
          expect(v.pm1 / v.pm25).toBeLessThanOrEqual(0.81);
        }
      }
    }
  });

  it('has a daily cycle: early morning and evening above the afternoon minimum', () => {
    expect(dailyPmFactor(7.5)).toBeGreaterThan(1.1);
    expect(dailyPmFactor(21.5)).toBeGreaterThan(1.05);
    expect(dailyPmFactor(15)).toBeLessThan(0.7);
    const byHour = (from: number, to: number) => {
      const xs: number[] = [];
      for (const seed of [1, 2, 3, 4, 5])
        for (let day = 0; day < 7; day++)
          for (let h = from; h < to; h += 0.25)
            xs.push(airValues(model(seed), site(0), SIM_START + day * DAY + h * HOUR).pm25);
      return mean(xs);
    };
    const morning = byHour(6, 9);
    const evening = byHour(20, 23);
    const afternoon = byHour(13, 16);
    expect(morning / afternoon).toBeGreaterThan(1.4);
    expect(evening / afternoon).toBeGreaterThan(1.3);
  });

  it('follows the seasons: the March burning season is several times the August rainy season', () => {
    expect(seasonalBaseline(Date.parse('2026-03-15T12:00:00Z')).pm25).toBeGreaterThan(70);
    expect(seasonalBaseline(Date.parse('2026-08-15T12:00:00Z')).pm25).toBeLessThan(15);
    const monthMean = (iso: string) => {
      const start = Date.parse(iso);
      const xs: number[] = [];
      for (let h = 0; h < 14 * 24; h += 1) xs.push(airValues(model(3), site(0), start + h * HOUR).pm25);
      return mean(xs);
    };
    const march = monthMean('2026-03-08T00:00:00+07:00');
    const august = monthMean('2026-08-08T00:00:00+07:00');
    expect(march).toBeGreaterThan(45);
    expect(august).toBeLessThan(20);
    expect(march / august).toBeGreaterThan(3);
  });

  it('makes humidity fall as temperature rises through the day', () => {
    const ts: number[] = [];
    const rh: number[] = [];
    for (let h = 0; h < 48; h += 0.5) {
      const v = airValues(model(9), site(0), SIM_START + h * HOUR);
      ts.push(v.temperature);
      rh.push(v.humidity);
    }
    expect(correlation(ts, rh)).toBeLessThan(-0.8);
    const at = (h: number) => airValues(model(9), site(0), SIM_START + h * HOUR);
    expect(at(15).temperature).toBeGreaterThan(at(6).temperature + 8); // March: wide daily range
  });

  it('varies between stations, nearby stations more alike than distant ones', () => {
    const series = (i: number) => {
      const xs: number[] = [];
      for (let h = 0; h < 72; h += 0.25) xs.push(ambient(model(5), site(i), SIM_START + h * HOUR).pm25);
      return xs;
    };
    const a = series(0);
    const b = series(1); // 400 m away
    const c = series(2); // ~5.5 km away
    expect(a).not.toEqual(b);
    const ratioSpread = (x: number[], y: number[]) => mean(x.map((v, k) => Math.abs(Math.log(v / (y[k] as number)))));
    expect(ratioSpread(a, b)).toBeLessThan(ratioSpread(a, c));
    expect(correlation(a, b)).toBeGreaterThan(0.9);
  });

  it('gives each device a stable calibration bias within about ±10 %', () => {
    const twin = { ...site(0), deviceId: 'dev-a-twin' };
    const ratios: number[] = [];
    for (let h = 0; h < 48; h += 1) {
      const t = SIM_START + h * HOUR;
      ratios.push(airValues(model(11), twin, t).pm25 / airValues(model(11), site(0), t).pm25);
    }
    const r = mean(ratios);
    expect(r).toBeGreaterThan(0.78);
    expect(r).toBeLessThan(1.28);
  });

  it('computes local hours in the city time zone', () => {
    expect(localHour(Date.parse('2026-03-15T07:30:00+07:00'), 420)).toBeCloseTo(7.5, 6);
    expect(localHour(Date.parse('2026-03-15T00:00:00Z'), 420)).toBeCloseTo(7, 6);
  });
});
