import { describe, expect, it } from 'vitest';
import { type AirModel, airValues, siteContext } from '../src/model/air';
import { createScenario } from '../src/scenarios';
import { arrivalDelayMs, hazeContribution, hazeEnvelope, hazeEpisodeFrom } from '../src/scenarios/haze';
import { rainIntensity } from '../src/scenarios/rain';
import { DEVICES, mean, SIM_START } from './helpers';

const HOUR = 3_600_000;
const d0 = DEVICES[0] as (typeof DEVICES)[number];
const site = { deviceId: d0.id, stationId: d0.stationId, location: d0.location };
const model = (seed: number, spec: string, simStart = SIM_START): AirModel => ({
  seed,
  utcOffsetMin: 420,
  scenario: createScenario(spec, { seed, simStart }),
});

describe('haze scenario', () => {
  it('envelope rises, plateaus and clears', () => {
    const ep = hazeEpisodeFrom({ rise: '10h', plateau: '20h', clear: '5h' }, 1, SIM_START);
    expect(hazeEnvelope(ep, -1)).toBe(0);
    expect(hazeEnvelope(ep, 5 * HOUR)).toBeCloseTo(0.5, 5);
    expect(hazeEnvelope(ep, 12 * HOUR)).toBe(1);
    expect(hazeEnvelope(ep, 29 * HOUR)).toBe(1);
    expect(hazeEnvelope(ep, 35 * HOUR + 1)).toBe(0);
  });

  it.each([1, 2, 3, 4, 5, 6])('seed %i: peaks at 150-300+ ug/m3 over hours to days, then clears', (seed) => {
    // Start in August so the seasonal baseline is low and the episode stands out.
    const start = Date.parse('2026-08-10T00:00:00+07:00');
    const m2 = model(seed, 'haze', start);
    const xs: { h: number; pm25: number }[] = [];
    for (let h = 0; h < 100; h += 0.5) xs.push({ h, pm25: airValues(m2, site, start + h * HOUR).pm25 });
    const before = xs.filter((x) => x.h < 1.5).map((x) => x.pm25);
    const plateau = xs.filter((x) => x.h >= 22 && x.h < 66).map((x) => x.pm25);
    const after = xs.filter((x) => x.h >= 86).map((x) => x.pm25);
    const peak = Math.max(...plateau);
    expect(Math.max(...before)).toBeLessThan(40);
    expect(peak).toBeGreaterThanOrEqual(150);
    expect(peak).toBeLessThan(600);
    expect(mean(plateau)).toBeGreaterThan(110);
    expect(Math.max(...after)).toBeLessThan(40);
    // fluctuating plateau, not a flat line
    expect(Math.max(...plateau) - Math.min(...plateau)).toBeGreaterThan(40);
  });

  it('honours an explicit peak and reaches downwind stations later', () => {
    const ep = hazeEpisodeFrom({ peak: '300', from: '270', speed: '4' }, 1, SIM_START);
    expect(ep.peak).toBe(300);
    // smoke from the west: a station 5 km east is reached ~1.25 h after the centre
    expect(arrivalDelayMs(ep, 5, 0) / HOUR).toBeCloseTo(1.25, 5);
    expect(arrivalDelayMs(ep, -5, 0)).toBeLessThan(0);
    const m = model(1, 'haze:peak=300,from=270,speed=4');
    const ctx = siteContext(m, site, SIM_START + 40 * HOUR);
    const add = hazeContribution(ep, ctx);
    expect(add).toBeGreaterThan(300 * 0.5);
    expect(add).toBeLessThan(300 * 1.5);
  });

  it('rejects unknown scenario names and parameters', () => {
    expect(() => createScenario('smog', { seed: 1, simStart: SIM_START })).toThrow(/unknown scenario/);
    expect(() => createScenario('haze:peek=3', { seed: 1, simStart: SIM_START })).toThrow(/unknown parameter/);
    expect(() => createScenario('haze:rise=soon', { seed: 1, simStart: SIM_START })).toThrow(/invalid duration/);
  });
});

describe('rain scenario', () => {
  it('washes PM out and raises humidity while it rains', () => {
    const normal = model(4, 'normal');
    const rain = model(4, 'rain:share=0.5');
    let raining = 0;
    for (let h = 0; h < 72; h += 0.5) {
      const t = SIM_START + h * HOUR;
      const r = rainIntensity(4, t, 0.5);
      const a = airValues(normal, site, t);
      const b = airValues(rain, site, t);
      if (r > 0.5) {
        raining++;
        expect(b.pm25).toBeLessThan(a.pm25 * 0.8);
        expect(b.humidity).toBeGreaterThan(a.humidity);
      }
      if (r === 0) expect(b).toEqual(a);
    }
    expect(raining).toBeGreaterThan(5);
  });
});
