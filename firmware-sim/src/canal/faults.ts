/**
 * Canal station faults: what a Modbus master sees when a field station misbehaves. Windows work like
 * the air faults (`after`, `for`, `every`, simulated time from the start of the run); `p` makes a
 * fault hit only that share of requests (deterministic per seed and request number).
 */
import type { Duration } from '../faults/types';
import { type FaultWindow, occurrence, windowLabel } from '../faults/window';
import { parseDuration } from '../util/duration';
import { parseNumber, parseParamList } from '../util/params';
import { unit } from '../util/random';

export const CANAL_FAULT_MODES = [
  'timeout',
  'exception',
  'busy',
  'bad-crc',
  'drop-connection',
  'offline',
  'probe-fault',
] as const;
export type CanalFaultMode = (typeof CANAL_FAULT_MODES)[number];

export interface CanalFaultSpec {
  /** Device id, or '*' for every canal station. */
  device: string;
  mode: CanalFaultMode;
  after?: Duration;
  for?: Duration;
  every?: Duration;
  /** Share of requests hit while the window is open (default 1). */
  p?: number;
  /** Exception code for `exception` (default 4, slave device failure). */
  code?: number;
}

interface CanalFaultDef {
  mode: CanalFaultMode;
  description: string;
  /** Which key a bare first parameter sets. */
  mainKey: 'p' | 'code' | 'for';
  keys: Record<string, string>;
  defaults: { after: string; for: string };
  /** Transports the fault can show on (others: no effect). */
  transports: readonly ('tcp' | 'rtu')[];
}

const P = 'share of requests hit, 0..1 (1)';
const BOTH = ['tcp', 'rtu'] as const;

export const CANAL_FAULTS: Readonly<Record<CanalFaultMode, CanalFaultDef>> = {
  timeout: {
    mode: 'timeout',
    description: 'no answer at all: the request is swallowed and the master times out',
    mainKey: 'p',
    keys: { p: P },
    defaults: { after: '0', for: 'inf' },
    transports: BOTH,
  },
  exception: {
    mode: 'exception',
    description: 'Modbus exception response (default code 4, slave device failure)',
    mainKey: 'code',
    keys: { code: 'exception code 1..255 (4)', p: P },
    defaults: { after: '0', for: 'inf' },
    transports: BOTH,
  },
  busy: {
    mode: 'busy',
    description: 'exception 6, slave device busy (e.g. during a probe cleaning cycle)',
    mainKey: 'p',
    keys: { p: P },
    defaults: { after: '0', for: 'inf' },
    transports: BOTH,
  },
  'bad-crc': {
    mode: 'bad-crc',
    description: 'RTU only: the response arrives with a corrupted CRC (line noise)',
    mainKey: 'p',
    keys: { p: P },
    defaults: { after: '0', for: 'inf' },
    transports: ['rtu'],
  },
  'drop-connection': {
    mode: 'drop-connection',
    description: 'TCP only: the station closes the connection instead of answering',
    mainKey: 'p',
    keys: { p: P },
    defaults: { after: '0', for: 'inf' },
    transports: ['tcp'],
  },
  offline: {
    mode: 'offline',
    description: 'power or link loss: TCP port closed (connection refused), RTU silent; back (rebooted) after `for`',
    mainKey: 'for',
    keys: {},
    defaults: { after: '1m', for: '5m' },
    transports: BOTH,
  },
  'probe-fault': {
    mode: 'probe-fault',
    description: 'water-quality probe fault: float registers read NaN, status bit probe_fault set',
    mainKey: 'for',
    keys: {},
    defaults: { after: '0', for: 'inf' },
    transports: BOTH,
  },
};

const isMode = (s: string): s is CanalFaultMode => (CANAL_FAULT_MODES as readonly string[]).includes(s);
export const isCanalFaultMode = isMode;

/**
 * `deviceId:mode[:main][,key=value...]`, e.g. `xx-canal-01-probe:timeout:0.3`,
 * `*:exception:6,after=10m,for=5m`, `xx-canal-02-probe:offline:10` (10 minutes).
 */
export function parseCanalFaultArg(arg: string): CanalFaultSpec {
  const [device, mode, ...rest] = arg.split(':');
  if (!device || !mode) throw new Error(`--fault "${arg}": expected deviceId:mode[:params]`);
  if (!isMode(mode))
    throw new Error(`--fault "${arg}": unknown canal fault "${mode}" (${CANAL_FAULT_MODES.join(', ')})`);
  const def = CANAL_FAULTS[mode];
  const { main, opts } = parseParamList(rest.join(':') || undefined);
  if (main !== undefined) opts[def.mainKey] = main;
  const spec: CanalFaultSpec = { device, mode };
  try {
    for (const [k, v] of Object.entries(opts)) {
      if (k === 'after' || k === 'every') {
        parseDuration(v);
        spec[k] = v;
      } else if (k === 'for') {
        // A bare number is minutes ("offline:10" = back after 10 minutes).
        spec.for = /^\d+(\.\d+)?$/.test(v) ? `${v}m` : v;
        parseDuration(spec.for);
      } else if (k === 'p' && 'p' in def.keys) spec.p = parseNumber('p', v);
      else if (k === 'code' && 'code' in def.keys) spec.code = parseNumber('code', v);
      else {
        throw new Error(
          `unknown parameter "${k}" (known: after, for, every${Object.keys(def.keys)
            .map((x) => `, ${x}`)
            .join('')})`,
        );
      }
    }
    resolveCanalFault(spec, { seed: 1, simStart: 0, deviceId: device });
  } catch (e) {
    throw new Error(`--fault "${arg}": ${(e as Error).message}`);
  }
  return spec;
}

/** A fault bound to one station. */
export interface CanalFault {
  readonly spec: CanalFaultSpec;
  readonly mode: CanalFaultMode;
  readonly label: string;
  readonly window: FaultWindow;
  /** The window is open at simulated time t. */
  active(t: number): boolean;
  /** This request (the station's n-th) is hit: window open and the p draw succeeds. */
  hits(t: number, n: number): boolean;
  /** Exception code for exception / busy. */
  readonly code?: number;
}

export function resolveCanalFault(
  spec: CanalFaultSpec,
  env: { seed: number; simStart: number; deviceId: string },
): CanalFault {
  const { seed, simStart, deviceId } = env;
  const def = CANAL_FAULTS[spec.mode];
  if (!def) throw new Error(`unknown canal fault "${spec.mode}"`);
  const afterMs = parseDuration(spec.after ?? def.defaults.after);
  let forMs = parseDuration(spec.for ?? def.defaults.for);
  const everyMs = spec.every === undefined ? undefined : parseDuration(spec.every);
  if (!(afterMs >= 0)) throw new Error(`${spec.mode}: after must be >= 0`);
  if (!(forMs > 0)) throw new Error(`${spec.mode}: for must be > 0`);
  if (everyMs !== undefined) {
    if (!(everyMs > 0) || !Number.isFinite(everyMs))
      throw new Error(`${spec.mode}: every must be a finite duration > 0`);
    forMs = Math.min(forMs, everyMs);
  }
  const p = spec.p ?? 1;
  if (!(p >= 0 && p <= 1)) throw new Error(`${spec.mode}: p must be within 0..1, got ${p}`);
  const code = spec.mode === 'busy' ? 6 : spec.mode === 'exception' ? (spec.code ?? 4) : undefined;
  if (code !== undefined && !(Number.isInteger(code) && code >= 1 && code <= 255)) {
    throw new Error(`${spec.mode}: code must be an integer 1..255, got ${code}`);
  }
  const window: FaultWindow = { afterMs, forMs, everyMs };
  const active = (t: number) => occurrence(window, simStart, t) !== undefined;
  const extra = [p < 1 ? `p=${p}` : '', spec.mode === 'exception' ? `code=${code}` : ''].filter(Boolean);
  return {
    spec,
    mode: spec.mode,
    label: `${spec.mode}(${[...extra, windowLabel(window)].join(',')})`,
    window,
    active,
    hits: (t, n) => active(t) && (p >= 1 || unit(seed, 'canal-fault', deviceId, spec.mode, n) < p),
    ...(code === undefined ? {} : { code }),
  };
}

/** End of the latest completed offline window before t (the station rebooted then), else undefined. */
export function lastRebootBefore(f: CanalFault, simStart: number, t: number): number | undefined {
  if (f.mode !== 'offline') return undefined;
  const w = f.window;
  const e = t - simStart - w.afterMs - w.forMs;
  if (e < 0 || !Number.isFinite(w.forMs)) return undefined;
  const k = w.everyMs === undefined ? 0 : Math.floor(e / w.everyMs);
  return simStart + w.afterMs + k * (w.everyMs ?? 0) + w.forMs;
}
