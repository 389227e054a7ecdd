import type { GeoPoint } from '@cnx/domain';
import type { Conditions, Scenario, SiteContext } from '../scenarios/types';
import { gaussian, signed, valueNoise } from '../util/random';
import { dailyPmFactor, dailyTemperatureShape, seasonalBaseline } from './season';
import { DEFAULT_REFERENCE, spatialField, toLocalKm } from './spatial';

/**
 * The air value model: a pure function of (model, site, simulated time). No state, no I/O, no
 * Math.random, so a test can ask "what does device X read at 07:30 on 15 March" directly and the same
 * seed always gives the same city.
 */
export interface AirModel {
  seed: number;
  /** City UTC offset in minutes (+420 for a zone seven hours east of UTC). */
  utcOffsetMin: number;
  scenario: Scenario;
  /** Origin for local km coordinates: the city's centre (default DEFAULT_REFERENCE). */
  reference?: GeoPoint;
}

export interface AirSite {
  deviceId: string;
  stationId: string;
  location: GeoPoint;
}

/** One PMS5003-style reading (PM in µg/m³; the PMS5003T/ST variants add temperature and humidity). */
export interface AirValues {
  pm1: number;
  pm25: number;
  pm10: number;
  temperature: number;
  humidity: number;
}

const HOUR = 3_600_000;
const clamp = (x: number, lo: number, hi: number): number => Math.min(hi, Math.max(lo, x));
const round1 = (x: number): number => Math.round(x * 10) / 10;

export function localHour(t: number, utcOffsetMin: number): number {
  const local = t + utcOffsetMin * 60_000;
  return (((local % 86_400_000) + 86_400_000) % 86_400_000) / HOUR;
}

export function siteContext(model: AirModel, site: Pick<AirSite, 'stationId' | 'location'>, t: number): SiteContext {
  const { x, y } = toLocalKm(site.location, model.reference ?? DEFAULT_REFERENCE);
  return {
    seed: model.seed,
    stationId: site.stationId,
    location: site.location,
    xKm: x,
    yKm: y,
    t,
    localHour: localHour(t, model.utcOffsetMin),
  };
}

/** Ambient truth at the station (shared by every device at that station), scenario applied. */
export function ambient(model: AirModel, site: Pick<AirSite, 'stationId' | 'location'>, t: number): Conditions {
  const ctx = siteContext(model, site, t);
  const s = seasonalBaseline(t + model.utcOffsetMin * 60_000);
  const { seed } = model;

  // Synoptic weather: city-wide day-to-day and hour-to-hour variability (lognormal-ish).
  const weather = Math.exp(
    0.35 * valueNoise(seed, 'weather', t, 18 * HOUR) + 0.12 * valueNoise(seed, 'weather-h', t, 3 * HOUR),
  );
  // Spatial: a smooth moving field (neighbours correlate) plus a fixed per-site offset (roads, trees).
  const spatial = 1 + 0.15 * spatialField(seed, ctx.xKm, ctx.yKm, t) + 0.08 * signed(seed, 'site', site.stationId);
  // Inversions are strongest in the cool dry season: scale the daily swing with dryness.
  const daily = 1 + (0.6 + 0.4 * s.dryness) * (dailyPmFactor(ctx.localHour) - 1);
  const pm25 = s.pm25 * weather * spatial * daily;

  const temperature =
    s.temperatureMean +
    s.temperatureHalfRange * dailyTemperatureShape(ctx.localHour) +
    1.5 * valueNoise(seed, 'temp', t, 12 * HOUR);
  // Relative humidity falls as the air warms (same moisture, higher saturation pressure): anti-correlated.
  const humidity = clamp(
    s.humidityMean - 2.6 * (temperature - s.temperatureMean) + 4 * valueNoise(seed, 'rh', t, 8 * HOUR),
    12,
    99,
  );
  return model.scenario.apply({ pm25, smoke: 0.6 * s.dryness, temperature, humidity }, ctx);
}

/**
 * What one device reports at simulated time t: the ambient truth through that unit's calibration bias
 * (±10 %, fixed per device) and per-reading noise. Size ratios follow the aerosol: dust-heavy air has
 * PM10 ≈ 1.6×PM2.5, fresh smoke is fine (PM10 ≈ 1.2×, PM1 ≈ 0.8×PM2.5).
 */
export function airValues(model: AirModel, site: AirSite, t: number): AirValues {
  const c = ambient(model, site, t);
  const { seed } = model;
  const dev = site.deviceId;
  const tk = Math.round(t);

  const bias = 1 + 0.1 * signed(seed, 'pm-bias', dev);
  const pm25 = Math.max(
    0,
    c.pm25 * bias * (1 + 0.05 * gaussian(seed, 'pm-noise', dev, tk)) + 0.8 * gaussian(seed, 'pm-abs', dev, tk),
  );

  const coarse = (valueNoise(seed, `r10-${site.stationId}`, t, 6 * HOUR) + 1) / 2; // 0..1
  const fine = (valueNoise(seed, `r1-${site.stationId}`, t, 6 * HOUR) + 1) / 2;
  const r10dust = 1.2 + 0.4 * coarse;
  const r1dust = 0.6 + 0.2 * fine;
  const r10 = clamp(r10dust * (1 - c.smoke) + 1.22 * c.smoke + 0.03 * signed(seed, 'r10-j', dev, tk), 1.2, 1.6);
  const r1 = clamp(r1dust * (1 - c.smoke) + 0.78 * c.smoke + 0.02 * signed(seed, 'r1-j', dev, tk), 0.6, 0.8);

  const pm25r = round1(pm25);
  return {
    pm1: round1(pm25r * r1),
    pm25: pm25r,
    pm10: round1(pm25r * r10),
    temperature: round1(c.temperature + 0.4 * signed(seed, 't-bias', dev) + 0.1 * gaussian(seed, 't-noise', dev, tk)),
    humidity: round1(
      clamp(c.humidity + 3 * signed(seed, 'rh-bias', dev) + 0.5 * gaussian(seed, 'rh-noise', dev, tk), 0, 100),
    ),
  };
}
