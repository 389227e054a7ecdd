import { parseNumber } from '../util/params';
import type { FaultDef, FaultSpec } from './types';
import { occurrence, resolveWindow, startedOccurrence, windowLabel } from './window';

/**
 * The device drops its connection abruptly (no DISCONNECT, so the broker fires the will) and reconnects,
 * N times in quick succession: flaky Wi-Fi or a watchdog reset loop. Each reconnect publishes `online`
 * again. The gap is real time (it stresses the broker and gateway, not the simulated clock). Readings
 * taken while disconnected are buffered and replayed like any firmware with a send queue.
 * The storm fires at the first reading at or after each window start, even if the window (`for`, which
 * only decides how long the status line shows it as active) is shorter than the reading interval.
 */
export const reconnectStormFault: FaultDef = {
  mode: 'reconnect-storm',
  description: 'disconnects abruptly and reconnects N times in rapid succession (will + online each time)',
  mainKey: 'count',
  keys: {
    count: { type: 'number', help: 'number of disconnect/reconnect cycles (5)' },
    gapMs: { type: 'number', help: 'real milliseconds between drop and reconnect (100)' },
  },
  defaults: { after: '1m', for: '1m' },
  create(spec, env) {
    const s = spec as Extract<FaultSpec, { mode: 'reconnect-storm' }>;
    const w = resolveWindow(spec, reconnectStormFault);
    const count = Math.round(parseNumber('count', s.count ?? 5));
    const gapMs = parseNumber('gapMs', s.gapMs ?? 100);
    if (count < 1) throw new Error(`reconnect-storm: count must be >= 1, got ${count}`);
    let fired: number | undefined;
    return {
      mode: 'reconnect-storm',
      label: `reconnect-storm(count=${count},${windowLabel(w)})`,
      active: (t) => occurrence(w, env.simStart, t) !== undefined,
      storm(t) {
        const occ = startedOccurrence(w, env.simStart, t);
        if (occ === undefined || occ === fired) return undefined;
        fired = occ;
        return { count, gapMs };
      },
    };
  },
};
