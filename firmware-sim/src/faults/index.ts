import { parseDuration } from '../util/duration';
import { parseNumber, parseParamList } from '../util/params';
import { clockSkewFault } from './clock-skew';
import { dropoutFault } from './dropout';
import { malformedFault } from './malformed';
import { offlineBufferFault } from './offline-buffer';
import { reconnectStormFault } from './reconnect-storm';
import { spikeFault } from './spike';
import { stuckFault } from './stuck';
import {
  FAULT_MODES,
  type Fault,
  type FaultDef,
  type FaultEnv,
  type FaultMode,
  type FaultSpec,
  MALFORMED_KINDS,
  type MalformedKind,
} from './types';

export { malformedPayload, pmsFrame } from './malformed-payloads';
export * from './types';

/** Fault registry, one file per mode. */
export const FAULTS: Readonly<Record<FaultMode, FaultDef>> = {
  dropout: dropoutFault,
  stuck: stuckFault,
  spike: spikeFault,
  malformed: malformedFault,
  'clock-skew': clockSkewFault,
  'reconnect-storm': reconnectStormFault,
  'offline-buffer': offlineBufferFault,
};

const isFaultMode = (s: string): s is FaultMode => (FAULT_MODES as readonly string[]).includes(s);
const WINDOW_KEYS = ['after', 'for', 'every'];

/** Validate a duration now but keep the readable string in the spec (labels, summaries). */
const checkedDuration = (v: string): string => {
  parseDuration(v);
  return v;
};

/**
 * Parse a CLI fault: `deviceId:mode[:params]`, params = `main,key=value,...`, e.g.
 * `xx-air-01-pms:dropout:10m,after=1h,every=6h`, `*:spike:0.01`, `dev:clock-skew:-15`.
 */
export function parseFaultArg(arg: string): FaultSpec {
  const [device, mode, ...rest] = arg.split(':');
  if (!device || !mode) throw new Error(`--fault "${arg}": expected deviceId:mode[:params]`);
  if (!isFaultMode(mode)) throw new Error(`--fault "${arg}": unknown mode "${mode}" (${FAULT_MODES.join(', ')})`);
  const def = FAULTS[mode];
  const { main, opts } = parseParamList(rest.join(':') || undefined);
  if (main !== undefined) opts[def.mainKey] = main;
  const spec: Record<string, unknown> = { device, mode };
  for (const [k, v] of Object.entries(opts)) {
    try {
      if (WINDOW_KEYS.includes(k)) {
        spec[k] = checkedDuration(v);
        continue;
      }
      const key = def.keys[k];
      if (!key)
        throw new Error(`unknown parameter "${k}" (known: ${[...WINDOW_KEYS, ...Object.keys(def.keys)].join(', ')})`);
      if (key.type === 'duration') spec[k] = checkedDuration(v);
      else if (key.type === 'number') spec[k] = parseNumber(k, v);
      else if (key.type === 'minutes') spec[k] = /^[+-]?\d+(\.\d+)?$/.test(v) ? Number(v) * 60_000 : checkedDuration(v);
      else spec[k] = v.split('+').filter(Boolean) as MalformedKind[];
    } catch (e) {
      throw new Error(`--fault "${arg}": ${(e as Error).message}`);
    }
  }
  return spec as unknown as FaultSpec;
}

/** Instantiate the faults that apply to one device (its id, or '*'). Throws on bad parameters. */
export function createFaults(specs: readonly FaultSpec[], env: FaultEnv): Fault[] {
  return specs.filter((s) => s.device === env.deviceId || s.device === '*').map((s) => FAULTS[s.mode].create(s, env));
}

/** Validate specs against the fleet's device ids before anything connects. */
export function checkFaultSpecs(specs: readonly FaultSpec[], deviceIds: readonly string[]): void {
  for (const s of specs) {
    if (!isFaultMode(s.mode)) throw new Error(`unknown fault mode "${s.mode}"`);
    if (s.device !== '*' && !deviceIds.includes(s.device)) {
      throw new Error(`fault ${s.mode}: device "${s.device}" is not in the simulated fleet`);
    }
    if (s.mode === 'malformed') {
      for (const k of s.kinds ?? [])
        if (!MALFORMED_KINDS.includes(k)) throw new Error(`malformed: unknown kind "${k}"`);
    }
  }
}
