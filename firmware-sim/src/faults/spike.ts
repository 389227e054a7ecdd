import { parseNumber } from '../util/params';
import { unit } from '../util/random';
import type { FaultDef, FaultSpec } from './types';
import { occurrence, resolveWindow, windowLabel } from './window';

/** Kept below the hard bound (5000 µg/m³ in @cnx/domain METRICS) so QC flags it rather than rejects it. */
export const SPIKE_CEILING = 4999;

/**
 * Occasional absurd jumps on the optical channels (an insect or a water droplet in the chamber): one
 * reading multiplied 10–50x. Whether reading `seq` spikes is a pure function of (seed, device, seq).
 */
export const spikeFault: FaultDef = {
  mode: 'spike',
  description: 'occasional absurd jumps of the PM channels (one reading x10-x50)',
  mainKey: 'probability',
  keys: {
    probability: { type: 'number', help: 'chance per reading, 0..1 (0.05)' },
    factor: { type: 'number', help: 'fixed multiplier (random 10-50)' },
  },
  defaults: { after: '0s', for: 'inf' },
  create(spec, env) {
    const s = spec as Extract<FaultSpec, { mode: 'spike' }>;
    const w = resolveWindow(spec, spikeFault);
    const p = parseNumber('probability', s.probability ?? 0.05);
    if (p < 0 || p > 1) throw new Error(`spike: probability must be within 0..1, got ${p}`);
    return {
      mode: 'spike',
      label: `spike(p=${p},${windowLabel(w)})`,
      active: (t) => occurrence(w, env.simStart, t) !== undefined,
      values(v, r) {
        if (occurrence(w, env.simStart, r.t) === undefined) return v;
        if (unit(env.seed, 'spike', env.deviceId, r.seq) >= p) return v;
        const factor = s.factor ?? 10 + 40 * unit(env.seed, 'spike-factor', env.deviceId, r.seq);
        const out = { ...v };
        for (const m of env.spikeMetrics) {
          const x = out[m];
          // +20 so a spike is absurd even in clean air; same factor keeps PM1 <= PM2.5 <= PM10.
          if (x !== undefined) out[m] = Math.min(SPIKE_CEILING, Math.round((x + 20) * factor * 10) / 10);
        }
        return out;
      },
    };
  },
};
