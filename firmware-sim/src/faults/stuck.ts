import type { FaultDef } from './types';
import { occurrence, resolveWindow, windowLabel } from './window';

/**
 * Flatline: from the start of the window the device repeats exactly the values of its first reading in
 * the window (a frozen I2C/UART read returning a cached frame). Timestamps and seq keep advancing.
 */
export const stuckFault: FaultDef = {
  mode: 'stuck',
  description: 'repeats exactly the same values (timestamps and seq still advance)',
  mainKey: 'for',
  keys: {},
  defaults: { after: '1m', for: 'inf' },
  create(spec, env) {
    const w = resolveWindow(spec, stuckFault);
    let held: Record<string, number> | undefined;
    let heldOcc: number | undefined;
    return {
      mode: 'stuck',
      label: `stuck(${windowLabel(w)})`,
      active: (t) => occurrence(w, env.simStart, t) !== undefined,
      values(v, r) {
        const occ = occurrence(w, env.simStart, r.t);
        if (occ === undefined) return v;
        if (held === undefined || heldOcc !== occ) {
          held = { ...v };
          heldOcc = occ;
        }
        return { ...held };
      },
    };
  },
};
