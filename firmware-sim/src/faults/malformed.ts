import { parseNumber } from '../util/params';
import { malformedPayload } from './malformed-payloads';
import { type FaultDef, type FaultSpec, MALFORMED_KINDS, type MalformedKind } from './types';
import { occurrence, resolveWindow, windowLabel } from './window';

/**
 * Every nth message in the window is replaced by a broken one, cycling through the kinds in order so
 * one run exercises every dead-letter reason of the gateway. The broken message still consumes a seq.
 */
export const malformedFault: FaultDef = {
  mode: 'malformed',
  description: `every nth message broken, cycling kinds: ${MALFORMED_KINDS.join(', ')}`,
  mainKey: 'nth',
  keys: {
    nth: { type: 'number', help: 'every nth message in the window is malformed (3; 1 = all)' },
    kinds: { type: 'kinds', help: 'subset to cycle, joined with + (all)' },
  },
  defaults: { after: '0s', for: 'inf' },
  create(spec, env) {
    const s = spec as Extract<FaultSpec, { mode: 'malformed' }>;
    const w = resolveWindow(spec, malformedFault);
    const nth = Math.round(parseNumber('nth', s.nth ?? 3));
    if (nth < 1) throw new Error(`malformed: nth must be >= 1, got ${nth}`);
    const kinds: readonly MalformedKind[] = s.kinds?.length ? s.kinds : MALFORMED_KINDS;
    for (const k of kinds) {
      if (!MALFORMED_KINDS.includes(k))
        throw new Error(`malformed: unknown kind "${k}" (${MALFORMED_KINDS.join(', ')})`);
    }
    let counter = 0;
    let next = 0;
    const active = (t: number) => occurrence(w, env.simStart, t) !== undefined;
    return {
      mode: 'malformed',
      label: `malformed(nth=${nth},${windowLabel(w)})`,
      active,
      message(r, format, t) {
        if (!active(t)) return undefined;
        counter++;
        if (counter % nth !== 0) return undefined;
        const kind = kinds[next++ % kinds.length] as MalformedKind;
        return { kind, payload: malformedPayload(kind, r, format, env.spikeMetrics) };
      },
    };
  },
};
