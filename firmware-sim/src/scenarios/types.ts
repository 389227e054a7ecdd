import type { GeoPoint } from '@cnx/domain';

/** Ambient truth at a station at one instant, before any sensor bias or noise. */
export interface Conditions {
  /** PM2.5, µg/m³. */
  pm25: number;
  /** Share of PM2.5 from biomass smoke, 0..1: smoke is finer, so it shifts the PM1/PM10 ratios. */
  smoke: number;
  /** °C */
  temperature: number;
  /** %RH */
  humidity: number;
}

export interface SiteContext {
  seed: number;
  stationId: string;
  location: GeoPoint;
  /** East / north km from the city reference point. */
  xKm: number;
  yKm: number;
  /** Simulated time, epoch ms. */
  t: number;
  /** Local hour of day, fractional (0..24). */
  localHour: number;
}

/** A scenario modifies the baseline weather and pollution. It must be a pure function of its inputs. */
export interface Scenario {
  readonly id: string;
  apply(c: Conditions, ctx: SiteContext): Conditions;
}

export interface ScenarioEnv {
  seed: number;
  /** Simulated start of the run, epoch ms: episodes are scheduled relative to it. */
  simStart: number;
}

export interface ScenarioDef {
  id: string;
  description: string;
  /** Parameter help for `list`: key -> meaning and default. */
  params: Record<string, string>;
  create(opts: Record<string, string>, env: ScenarioEnv): Scenario;
}
