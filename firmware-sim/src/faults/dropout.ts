import type { FaultDef } from './types';
import { occurrence, resolveWindow, windowLabel } from './window';

/**
 * The device stops publishing (hung firmware, sensor fan stalled, brown-out) but its MQTT connection
 * stays up, so no last will fires: the gateway can only notice by silence. No readings are produced
 * in the window, so seq continues without a gap afterwards (the device did not count them).
 */
export const dropoutFault: FaultDef = {
  mode: 'dropout',
  description: 'stops publishing for a period (connection stays up, no last will), then resumes',
  mainKey: 'for',
  keys: {},
  defaults: { after: '1m', for: '5m' },
  create(spec, env) {
    const w = resolveWindow(spec, dropoutFault);
    const active = (t: number) => occurrence(w, env.simStart, t) !== undefined;
    return {
      mode: 'dropout',
      label: `dropout(${windowLabel(w)})`,
      active,
      link: (t) => (active(t) ? 'silent' : 'up'),
    };
  },
};
