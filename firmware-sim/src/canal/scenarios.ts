import type { CanalLevels } from '@cnx/domain';
import { parseDuration } from '../util/duration';
import { parseNumber, parseParamList } from '../util/params';

/** What a canal scenario may see about a station at one instant. */
export interface CanalScenarioContext {
  seed: number;
  stationId: string;
  levels: CanalLevels;
  /** km south of the city reference point (downstream, for a canal that flows north to south). */
  kmDownstream: number;
  t: number;
}

/**
 * A canal scenario bends the seasonal truth. Pure: same inputs, same outputs. `rainShare` replaces
 * the season's share of rainy time, `rain` the rain intensity (0..1) at t, `level` the water level
 * after rain response (m above the gauge datum).
 */
export interface CanalScenario {
  readonly id: string;
  rainShare?(share: number, t: number): number;
  rain?(r: number, ctx: CanalScenarioContext): number;
  level?(level: number, ctx: CanalScenarioContext): number;
}

export interface CanalScenarioDef {
  id: string;
  description: string;
  params: Record<string, string>;
  create(opts: Record<string, string>, env: { simStart: number }): CanalScenario;
}

const smoothstep = (x: number): number => {
  const f = Math.min(1, Math.max(0, x));
  return f * f * (3 - 2 * f);
};

const normal: CanalScenarioDef = {
  id: 'normal',
  description: 'the season: dry-season base flow, rainy-season (May-Oct) showers raising the level within the hour',
  params: {},
  create: () => ({ id: 'normal' }),
};

const rain: CanalScenarioDef = {
  id: 'rain',
  description: 'a wet spell: it rains for `share` of the time whatever the season (level, turbidity up; DO, EC down)',
  params: { share: 'fraction of the time it rains, 0..1 (0.5)' },
  create(opts) {
    const share = opts.share === undefined ? 0.5 : parseNumber('share', opts.share);
    if (share < 0 || share > 1) throw new Error(`rain: share must be within 0..1, got ${share}`);
    return { id: 'rain', rainShare: () => share };
  },
};

/**
 * A flash flood (the rainy-season cloudburst over Doi Suthep): an hour of heavy rain, then the level
 * rises from its normal value past the station's warning and critical levels to `peak` within
 * `rise`, holds, and recedes. Stations further downstream see it later (`lag` per km south).
 */
const flood: CanalScenarioDef = {
  id: 'flood',
  description: "fast rise past each station's warning and critical levels (city pack), plateau, recession",
  params: {
    onset: 'start of the rise after the simulated start (30m)',
    rise: 'time from normal level to peak (2h)',
    peak: 'peak level as a fraction of bank height (default: midway between critical level and bank)',
    plateau: 'time at peak (1h)',
    recede: 'time back to normal (8h)',
    lag: 'delay per km downstream of the city reference point (5m)',
  },
  create(opts, env) {
    const ms = (k: string, d: string) => {
      const v = parseDuration(opts[k] ?? d);
      if (!(v >= 0) || !Number.isFinite(v)) throw new Error(`flood: ${k} must be a finite duration >= 0`);
      return v;
    };
    const onset = ms('onset', '30m');
    const rise = Math.max(1, ms('rise', '2h'));
    const plateau = ms('plateau', '1h');
    const recede = Math.max(1, ms('recede', '8h'));
    const lag = ms('lag', '5m');
    const peakFrac = opts.peak === undefined ? undefined : parseNumber('peak', opts.peak);
    if (peakFrac !== undefined && !(peakFrac > 0 && peakFrac <= 2)) throw new Error('flood: peak must be within 0..2');
    const start = (ctx: CanalScenarioContext) => env.simStart + onset + Math.max(0, ctx.kmDownstream) * lag;
    /** 0 before the rise, 1 at peak, back to 0 after the recession. */
    const envelope = (ctx: CanalScenarioContext): number => {
      const e = ctx.t - start(ctx);
      if (e < 0) return 0;
      if (e < rise) return smoothstep(e / rise);
      if (e < rise + plateau) return 1;
      return 1 - smoothstep((e - rise - plateau) / recede);
    };
    return {
      id: 'flood',
      rain(r, ctx) {
        const e = ctx.t - start(ctx);
        return e >= -3_600_000 && e < 0.8 * rise ? 1 : r;
      },
      level(level, ctx) {
        const { bankHeightM, criticalLevelM } = ctx.levels;
        const peak = peakFrac === undefined ? (criticalLevelM + bankHeightM) / 2 : peakFrac * bankHeightM;
        return peak > level ? level + (peak - level) * envelope(ctx) : level;
      },
    };
  },
};

export const CANAL_SCENARIOS: Readonly<Record<string, CanalScenarioDef>> = { normal, rain, flood };

/** `flood` or `flood:rise=1h,peak=1.05`. */
export function createCanalScenario(spec: string, env: { simStart: number }): CanalScenario {
  const colon = spec.indexOf(':');
  const id = colon < 0 ? spec : spec.slice(0, colon);
  const def = CANAL_SCENARIOS[id];
  if (!def) throw new Error(`unknown canal scenario "${id}" (known: ${Object.keys(CANAL_SCENARIOS).join(', ')})`);
  const { main, opts } = parseParamList(colon < 0 ? undefined : spec.slice(colon + 1));
  if (main !== undefined) throw new Error(`canal scenario "${id}": parameters are key=value (got "${main}")`);
  for (const k of Object.keys(opts)) {
    if (!(k in def.params)) throw new Error(`canal scenario "${id}": unknown parameter "${k}"`);
  }
  return def.create(opts, env);
}
