import type { FaultDef } from './types';
import { occurrence, resolveWindow, windowLabel } from './window';

/**
 * Flatline: from the start of the window the device repeats exactly the values of its first reading in
 * the window, as published (one decimal): the sensor task has hung and the publish loop keeps sending
 * its last reading, the common way ESP32 firmware freezes. Timestamps and seq keep advancing.
 *
 * The gateway flags it `stuck` from the 30th identical reading (30 min at the pack's one-minute
 * cadence), at any PM level: its values are fractional, and the clean-air floor of the QC engine
 * only spares whole-µg/m³ values (docs/qc.md#stuck). A run that shares its device id with another
 * publisher (the `npm start` fleet) interleaves with it and never repeats 30 times: drive a device
 * nobody else plays (CNX_SIM_FLEET=off npm start).
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
