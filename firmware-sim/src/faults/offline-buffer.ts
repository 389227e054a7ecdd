import { parseNumber } from '../util/params';
import type { FaultDef, FaultSpec } from './types';
import { occurrence, resolveWindow, windowLabel } from './window';

/**
 * The network is down for a period (router off, cellular dead zone). The connection drops abruptly, so
 * the broker publishes the will (`offline`). The device keeps measuring into a bounded ring buffer
 * (oldest dropped when full, as on a microcontroller) and, when the network returns, reconnects and
 * replays the buffer in a burst with each reading's original ts and seq.
 */
export const offlineBufferFault: FaultDef = {
  mode: 'offline-buffer',
  description: 'network down for a period; readings buffered on the device, replayed in a burst with original ts/seq',
  mainKey: 'for',
  keys: { capacity: { type: 'number', help: 'device buffer size in readings, oldest dropped (1000)' } },
  defaults: { after: '1m', for: '10m' },
  create(spec, env) {
    const s = spec as Extract<FaultSpec, { mode: 'offline-buffer' }>;
    const w = resolveWindow(spec, offlineBufferFault);
    const capacity = Math.round(parseNumber('capacity', s.capacity ?? 1000));
    if (capacity < 1) throw new Error(`offline-buffer: capacity must be >= 1, got ${capacity}`);
    const active = (t: number) => occurrence(w, env.simStart, t) !== undefined;
    return {
      mode: 'offline-buffer',
      label: `offline-buffer(${windowLabel(w)},capacity=${capacity})`,
      active,
      link: (t) => (active(t) ? 'down' : 'up'),
      bufferCapacity: capacity,
    };
  },
};
