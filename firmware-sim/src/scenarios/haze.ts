import { dailyPmFactor } from '../model/season';
import { parseDuration } from '../util/duration';
import { parseNumber } from '../util/params';
import { unit, valueNoise } from '../util/random';
import type { ScenarioDef, SiteContext } from './types';

const HOUR = 3_600_000;
const smoothstep = (f: number): number => {
  const x = Math.min(1, Math.max(0, f));
  return x * x * (3 - 2 * x);
};

export interface HazeEpisode {
  /** Simulated time the smoke front reaches the reference point, epoch ms. */
  onset: number;
  riseMs: number;
  plateauMs: number;
  clearMs: number;
  /** Plateau PM2.5 added by the smoke, µg/m³ (fluctuations reach ~1.35x this). */
  peak: number;
  /** Direction the smoke comes from, degrees (meteorological: 270 = from the west). */
  fromDeg: number;
  speedKmh: number;
}

/** 0..1 envelope: rising, plateau, clearing. */
export function hazeEnvelope(ep: HazeEpisode, tau: number): number {
  if (tau < 0) return 0;
  if (tau < ep.riseMs) return smoothstep(tau / ep.riseMs);
  const afterPlateau = tau - ep.riseMs - ep.plateauMs;
  if (afterPlateau < 0) return 1;
  return 1 - smoothstep(afterPlateau / ep.clearMs);
}

/** Smoke arrives later downwind: delay = distance along the wind / wind speed. */
export function arrivalDelayMs(ep: HazeEpisode, xKm: number, yKm: number): number {
  const to = ((ep.fromDeg + 180) * Math.PI) / 180; // direction of travel, clockwise from north
  const along = xKm * Math.sin(to) + yKm * Math.cos(to);
  return (along / ep.speedKmh) * HOUR;
}

/** PM2.5 the smoke adds at a site (µg/m³). City-wide fluctuations dominate so stations stay correlated. */
export function hazeContribution(ep: HazeEpisode, ctx: SiteContext): number {
  const env = hazeEnvelope(ep, ctx.t - ep.onset - arrivalDelayMs(ep, ctx.xKm, ctx.yKm));
  if (env === 0) return 0;
  const fluct =
    1 +
    0.22 * valueNoise(ctx.seed, 'haze-slow', ctx.t, 3 * HOUR) +
    0.1 * valueNoise(ctx.seed, 'haze-fast', ctx.t, 40 * 60_000) +
    0.06 * valueNoise(ctx.seed, `haze-${ctx.stationId}`, ctx.t, 2 * HOUR);
  // Smoke is still trapped by the night inversion, but a thick plume is less diurnal than local traffic.
  const diurnal = 0.75 + 0.25 * dailyPmFactor(ctx.localHour);
  return ep.peak * env * fluct * diurnal;
}

export function hazeEpisodeFrom(opts: Record<string, string>, seed: number, simStart: number): HazeEpisode {
  const dur = (k: string, d: string) => parseDuration(opts[k] ?? d);
  const peak = opts.peak !== undefined ? parseNumber('peak', opts.peak) : 150 + 150 * unit(seed, 'haze-peak');
  const ep: HazeEpisode = {
    onset: simStart + dur('onset', '2h'),
    riseMs: dur('rise', '18h'),
    plateauMs: dur('plateau', '2d'),
    clearMs: dur('clear', '12h'),
    peak,
    fromDeg: opts.from !== undefined ? parseNumber('from', opts.from) : 300,
    speedKmh: opts.speed !== undefined ? parseNumber('speed', opts.speed) : 5,
  };
  if (ep.riseMs <= 0 || ep.clearMs <= 0 || ep.plateauMs < 0) throw new Error('haze: rise/clear must be > 0');
  if (ep.speedKmh <= 0) throw new Error('haze: speed must be > 0');
  return ep;
}

/**
 * A burning-season smoke episode: a front arrives from the north-west (hill fires), PM2.5 climbs for
 * hours to a plateau of 150–300+ µg/m³ that wobbles for days, then clears (wind shift or rain).
 */
export const hazeScenario: ScenarioDef = {
  id: 'haze',
  description: 'smoke episode on top of the seasonal baseline: rise, fluctuating plateau 150-300+ ug/m3, clearing',
  params: {
    onset: 'delay after the simulated start before smoke reaches the city centre (2h)',
    rise: 'rise time (18h)',
    plateau: 'plateau length (2d)',
    clear: 'clearing time (12h)',
    peak: 'plateau PM2.5 added by smoke, ug/m3 (seeded 150-300)',
    from: 'direction the smoke comes from, degrees (300)',
    speed: 'smoke front speed, km/h (5)',
  },
  create(opts, env) {
    const ep = hazeEpisodeFrom(opts, env.seed, env.simStart);
    return {
      id: 'haze',
      apply(c, ctx) {
        const add = hazeContribution(ep, ctx);
        if (add === 0) return c;
        const pm25 = c.pm25 + add;
        // Thick smoke shades the ground: afternoons run a little cooler and the air a little damper.
        const shade = (Math.min(add, 300) / 300) * Math.max(0, Math.sin(((ctx.localHour - 6) * Math.PI) / 12));
        return {
          pm25,
          smoke: (c.pm25 * c.smoke + add) / pm25,
          temperature: c.temperature - 2 * shade,
          humidity: Math.min(99, c.humidity + 4 * shade),
        };
      },
    };
  },
};
