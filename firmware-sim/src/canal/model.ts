import type { CanalLevels, GeoPoint } from '@cnx/domain';
import { localHour } from '../model/air';
import { dailyTemperatureShape } from '../model/season';
import { DEFAULT_REFERENCE, toLocalKm } from '../model/spatial';
import { rainIntensity } from '../scenarios/rain';
import { gaussian, signed, unit, valueNoise } from '../util/random';
import type { CanalScenario, CanalScenarioContext } from './scenarios';

/**
 * The canal value model: a pure function of (model, site, simulated time), like model/air.ts. No
 * state, no Math.random: a test asks "what does the Rakaeng probe read at 03:00 on 20 August" and the
 * same seed always answers the same. Typical values follow domain-facts.md (the first pack's canal after its clean-up:
 * DO 0.8-6 mg/L, pH ~7.7, EC ~320 uS/cm at Rakaeng bridge, Nov 2025); levels follow each station's
 * bank, warning and critical levels from the city pack.
 */
export interface CanalModel {
  seed: number;
  /** City UTC offset in minutes (+420 for a zone seven hours east of UTC). */
  utcOffsetMin: number;
  scenario: CanalScenario;
  reference?: GeoPoint;
}

export interface CanalSite {
  deviceId: string;
  stationId: string;
  location: GeoPoint;
  levels: CanalLevels;
}

/** What the station's probes report at one instant (engineering units, before register encoding). */
export interface CanalReading {
  water_level: number;
  do: number;
  ph: number;
  turbidity: number;
  conductivity: number;
  water_temperature: number;
  battery: number;
  /** Status flags the model decides (faults add probe_fault). */
  cleaning: boolean;
  service_due: boolean;
  low_battery: boolean;
  days_since_service: number;
  /** Ambient drivers, for tests and status lines. */
  rain: number;
  runoff: number;
  discharge: number;
}

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const clamp = (x: number, lo: number, hi: number): number => Math.min(hi, Math.max(lo, x));

/** Share of time it rains by month (Jan..Dec): the upper north's rainy season is May-October, wettest Aug-Sep. */
const RAIN_SHARE = [0.02, 0.02, 0.04, 0.08, 0.18, 0.22, 0.25, 0.3, 0.3, 0.2, 0.07, 0.02];
/** Base flow level as a fraction of bank height by month: low in the dry season, high late in the rains. */
const BASE_LEVEL_FRACTION = [0.16, 0.14, 0.13, 0.14, 0.18, 0.22, 0.25, 0.3, 0.32, 0.26, 0.2, 0.18];
/** Monthly mean water temperature, degC (shallow urban canal: air temperature minus a little). */
const WATER_TEMP = [23, 24.5, 27, 29.5, 30, 29, 28.5, 28.5, 28.5, 27.5, 25.5, 23.5];
/** Probe maintenance cycle: fouling builds up over four weeks, then a technician cleans and recalibrates. */
export const SERVICE_PERIOD_DAYS = 28;

function monthly(table: readonly number[], localMs: number): number {
  const d = new Date(localMs);
  const pos = d.getUTCMonth() + (d.getUTCDate() - 1) / 31 - 0.5;
  const k = Math.floor(pos);
  const a = table[(k + 12) % 12] as number;
  const b = table[(k + 13) % 12] as number;
  return a + (b - a) * (pos - k);
}

const bump = (h: number, centre: number, width: number): number => {
  let d = Math.abs(h - centre);
  if (d > 12) d = 24 - d;
  return Math.exp(-(d * d) / (2 * width * width));
};

/** Rain intensity 0..1 at t (city-wide showers, shared with the air `rain` scenario's noise). */
function rainAt(model: CanalModel, ctx: CanalScenarioContext): number {
  const local = ctx.t + model.utcOffsetMin * 60_000;
  const share = model.scenario.rainShare?.(monthly(RAIN_SHARE, local), ctx.t) ?? monthly(RAIN_SHARE, local);
  const r = rainIntensity(model.seed, ctx.t, share);
  return model.scenario.rain ? model.scenario.rain(r, ctx) : r;
}

const RUNOFF_STEP = 10 * 60_000;
const RUNOFF_STEPS = 72; // 12 h of history

/**
 * Recent rain weighted by the canal's response (a gamma-shaped unit hydrograph peaking `tp` after the
 * rain: ~40 min upstream, later downstream), normalised to 0..1: 1 = heavy rain for hours.
 */
function runoffAt(model: CanalModel, ctx: CanalScenarioContext): number {
  const tp = (40 + 4 * Math.max(0, ctx.kmDownstream)) * 60_000;
  let sum = 0;
  let norm = 0;
  for (let k = 0; k <= RUNOFF_STEPS; k++) {
    const tau = k * RUNOFF_STEP;
    const h = (tau / tp) * Math.exp(1 - tau / tp);
    norm += h;
    if (h > 1e-4) sum += h * rainAt(model, { ...ctx, t: ctx.t - tau });
  }
  return sum / norm;
}

export function scenarioContext(model: CanalModel, site: CanalSite, t: number): CanalScenarioContext {
  const { y } = toLocalKm(site.location, model.reference ?? DEFAULT_REFERENCE);
  return { seed: model.seed, stationId: site.stationId, levels: site.levels, kmDownstream: -y, t };
}

/** Fraction 0..1 of the way through the probe's maintenance cycle (biofilm, silt). */
export function fouling(model: CanalModel, site: Pick<CanalSite, 'deviceId'>, t: number): number {
  const x = t / DAY / SERVICE_PERIOD_DAYS + unit(model.seed, 'service-phase', site.deviceId);
  return x - Math.floor(x);
}

/** Ambient truth at the station: water level (m above datum) and the drivers of water quality. */
export function canalLevel(
  model: CanalModel,
  site: CanalSite,
  t: number,
): { level: number; rain: number; runoff: number } {
  const ctx = scenarioContext(model, site, t);
  const local = t + model.utcOffsetMin * 60_000;
  const bank = site.levels.bankHeightM;
  const rain = rainAt(model, ctx);
  const runoff = runoffAt(model, ctx);
  const h = localHour(t, model.utcOffsetMin);
  const base =
    bank * monthly(BASE_LEVEL_FRACTION, local) * (1 + 0.1 * signed(model.seed, 'base', site.stationId)) +
    0.02 * bank * valueNoise(model.seed, `lvl-${site.stationId}`, t, 2 * DAY) +
    // Household wastewater peaks in the morning and evening: a few cm in a small urban canal.
    0.015 * (bump(h, 8, 1.5) + bump(h, 19.5, 2));
  const level = base + 0.5 * bank * runoff;
  return { level: model.scenario.level ? model.scenario.level(level, ctx) : level, rain, runoff };
}

/**
 * What the probes report at simulated time t (one measurement; noise is keyed by t, so callers pass
 * the sample instant). Fouling biases the optical DO low, turbidity and pH high, EC low, until the
 * next service resets it.
 */
export function canalReading(model: CanalModel, site: CanalSite, t: number): CanalReading {
  const { seed } = model;
  const st = site.stationId;
  const dev = site.deviceId;
  const tk = Math.round(t);
  const local = t + model.utcOffsetMin * 60_000;
  const h = localHour(t, model.utcOffsetMin);
  const { level, rain, runoff } = canalLevel(model, site, t);
  const f = fouling(model, site, t);

  // Untreated discharges: a few hours at a time, ~15 % of the time, deeper in the evening.
  const discharge = clamp((valueNoise(seed, `discharge-${st}`, t, 3 * HOUR) - 0.5) / 0.4, 0, 1);

  const waterTemperature =
    monthly(WATER_TEMP, local) +
    1.0 * dailyTemperatureShape(h) +
    0.4 * valueNoise(seed, `wt-${st}`, t, DAY) -
    1.5 * runoff;

  // DO: photosynthesis peaks mid-afternoon, respiration bottoms out before dawn; warm water holds less;
  // discharges and first-flush sewer overflow pull it towards zero.
  const doMean = 1.8 + 1.6 * unit(seed, 'do-mean', st);
  const doTrue = clamp(
    (doMean * (1 + 0.35 * Math.cos((2 * Math.PI * (h - 15)) / 24)) +
      0.25 * valueNoise(seed, `do-${st}`, t, 30 * HOUR) -
      0.08 * (waterTemperature - 27)) *
      (1 - 0.85 * discharge) *
      (1 - 0.45 * runoff),
    0.05,
    12,
  );
  const phTrue =
    7.4 +
    0.12 * signed(seed, 'ph-mean', st) +
    0.12 * Math.cos((2 * Math.PI * (h - 15)) / 24) +
    0.08 * valueNoise(seed, `ph-${st}`, t, 20 * HOUR) -
    0.25 * runoff -
    0.05 * discharge;
  const ecTrue =
    (300 * (1 + 0.12 * signed(seed, 'ec-mean', st)) +
      25 * valueNoise(seed, `ec-${st}`, t, DAY) +
      20 * bump(h, 20, 3) +
      60 * discharge) *
    (1 - 0.5 * runoff);
  const turbTrue =
    12 +
    10 * unit(seed, 'turb-mean', st) +
    3 * (valueNoise(seed, `turb-${st}`, t, 8 * HOUR) + 1) +
    25 * discharge +
    280 * runoff ** 1.3;

  const battery = clamp(
    82 + 12 * dailyTemperatureShape(h) - 10 * runoff - 5 * rain + 3 * signed(seed, 'batt', dev),
    0,
    100,
  );
  const cleaningAt = 6 + unit(seed, 'wiper', dev) * (50 / 60); // daily wiper cycle, 2 min, early morning
  const cleaning = h >= cleaningAt && h < cleaningAt + 2 / 60;

  return {
    water_level: level + 0.01 * f + 0.002 * gaussian(seed, 'lvl-n', dev, tk),
    do: clamp(doTrue * (1 - 0.15 * f) + 0.02 * gaussian(seed, 'do-n', dev, tk), 0, 20),
    ph: clamp(phTrue + 0.12 * f + 0.01 * gaussian(seed, 'ph-n', dev, tk), 6.5, 8.5),
    turbidity: Math.max(0, turbTrue + 6 * f + 0.5 * (1 + turbTrue / 50) * gaussian(seed, 'turb-n', dev, tk)),
    conductivity: Math.max(0, ecTrue * (1 - 0.04 * f) + 2 * gaussian(seed, 'ec-n', dev, tk)),
    water_temperature: waterTemperature + 0.05 * gaussian(seed, 'wt-n', dev, tk),
    battery,
    cleaning,
    service_due: f * SERVICE_PERIOD_DAYS >= SERVICE_PERIOD_DAYS - 2,
    low_battery: battery < 20,
    days_since_service: Math.floor(f * SERVICE_PERIOD_DAYS),
    rain,
    runoff,
    discharge,
  };
}

/** Oxygen solubility in fresh water at 1 atm, mg/L (Benson & Krause fit as used in APHA 4500-O). */
export function doSaturation(temperatureC: number): number {
  const t = temperatureC;
  return 14.652 - 0.41022 * t + 0.007991 * t * t - 0.000077774 * t * t * t;
}
