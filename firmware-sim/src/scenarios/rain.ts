import { parseNumber } from '../util/params';
import { valueNoise } from '../util/random';
import type { ScenarioDef } from './types';

const HOUR = 3_600_000;

/** Rain intensity 0..1 at time t: showers that come and go over hours (city-wide). */
export function rainIntensity(seed: number, t: number, share: number): number {
  const n = (valueNoise(seed, 'rain', t, 2 * HOUR) + 1) / 2; // 0..1
  const threshold = 1 - share;
  return n <= threshold ? 0 : Math.min(1, (n - threshold) / Math.max(share, 0.05));
}

/** Showers wash particles out (wet deposition), push humidity towards saturation and cool the air. */
export const rainScenario: ScenarioDef = {
  id: 'rain',
  description: 'passing showers: PM washed out (down to ~35 %), humidity to ~97 %RH, 4 C cooler while raining',
  params: { share: 'fraction of the time it rains, 0..1 (0.4)' },
  create(opts, env) {
    const share = opts.share !== undefined ? parseNumber('share', opts.share) : 0.4;
    if (share < 0 || share > 1) throw new Error(`rain: share must be within 0..1, got ${share}`);
    return {
      id: 'rain',
      apply(c, ctx) {
        const r = rainIntensity(env.seed, ctx.t, share);
        if (r === 0) return c;
        return {
          pm25: c.pm25 * (1 - 0.65 * r),
          smoke: c.smoke,
          temperature: c.temperature - 4 * r,
          humidity: c.humidity + (97 - c.humidity) * r,
        };
      },
    };
  },
};
