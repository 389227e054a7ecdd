import { formatDuration, parseDuration } from '../util/duration';
import type { FaultDef, FaultSpec } from './types';
import { occurrence, resolveWindow, windowLabel } from './window';

/**
 * The device clock is off by a fixed offset (no NTP after boot, RTC drift, wrong time zone): every ts it
 * sends is shifted. Positive = ahead (future timestamps), negative = behind (stale timestamps).
 */
export const clockSkewFault: FaultDef = {
  mode: 'clock-skew',
  description: 'device clock offset: ts shifted by N minutes (bare number = minutes; or -90s, +2h)',
  mainKey: 'offset',
  keys: { offset: { type: 'minutes', help: 'offset, minutes or a duration, may be negative (+10m)' } },
  defaults: { after: '0s', for: 'inf' },
  create(spec, env) {
    const s = spec as Extract<FaultSpec, { mode: 'clock-skew' }>;
    const w = resolveWindow(spec, clockSkewFault);
    const offset = parseDuration(s.offset ?? '10m');
    if (!Number.isFinite(offset)) throw new Error('clock-skew: offset must be finite');
    const active = (t: number) => occurrence(w, env.simStart, t) !== undefined;
    return {
      mode: 'clock-skew',
      label: `clock-skew(${offset >= 0 ? '+' : ''}${formatDuration(offset)},${windowLabel(w)})`,
      active,
      clockOffsetMs: (t) => (active(t) ? offset : 0),
    };
  },
};
