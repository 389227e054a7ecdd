import type { PayloadFormat, SimReading } from '../devices/payload';

export const FAULT_MODES = [
  'dropout',
  'stuck',
  'spike',
  'malformed',
  'clock-skew',
  'reconnect-storm',
  'offline-buffer',
] as const;
export type FaultMode = (typeof FAULT_MODES)[number];

export const MALFORMED_KINDS = [
  'invalid_json',
  'not_an_object',
  'wrong_types',
  'missing_ts',
  'bad_ts',
  'missing_values',
  'unit_mismatch',
  'negative_value',
  'out_of_range',
  'binary_garbage',
  'empty',
] as const;
export type MalformedKind = (typeof MALFORMED_KINDS)[number];

/** A duration: milliseconds, or a string like '30s', '5m', '-15m', '2h', 'inf'. */
export type Duration = number | string;

/**
 * When a fault is in effect, in simulated time from the start of the run: from `after`, for `for`,
 * repeating every `every` if given.
 */
export interface WindowOpts {
  after?: Duration;
  for?: Duration;
  every?: Duration;
}

interface Base extends WindowOpts {
  /** Device id, or '*' for every device of the fleet. */
  device: string;
}

export type FaultSpec =
  | (Base & { mode: 'dropout' })
  | (Base & { mode: 'stuck' })
  | (Base & { mode: 'spike'; probability?: number; factor?: number })
  | (Base & { mode: 'malformed'; nth?: number; kinds?: MalformedKind[] })
  | (Base & { mode: 'clock-skew'; offset?: Duration })
  | (Base & { mode: 'reconnect-storm'; count?: number; gapMs?: number })
  | (Base & { mode: 'offline-buffer'; capacity?: number });

export type LinkState = 'up' | 'silent' | 'down';

export interface FaultEnv {
  seed: number;
  simStart: number;
  deviceId: string;
  /** Metrics an optical glitch hits (PM channels for a PMS5003). */
  spikeMetrics: readonly string[];
}

export interface MalformedMessage {
  kind: MalformedKind;
  payload: string | Uint8Array;
}

/**
 * A fault at run time: hooks the device calls for each reading (in simulated-time order). Every hook is
 * optional; a fault only implements the ones it changes.
 */
export interface Fault {
  readonly mode: FaultMode;
  /** Short label with parameters, for status lines and summaries. */
  readonly label: string;
  active(t: number): boolean;
  clockOffsetMs?(t: number): number;
  /** silent: the device produces nothing (hung firmware); down: the network is gone (device buffers). */
  link?(t: number): LinkState;
  values?(v: Record<string, number>, r: { t: number; seq: number }): Record<string, number>;
  message?(r: SimReading, format: PayloadFormat, t: number): MalformedMessage | undefined;
  /** Returns a storm to run now (once per window occurrence). */
  storm?(t: number): { count: number; gapMs: number } | undefined;
  /** Device-side buffer capacity while the network is down, in readings. */
  readonly bufferCapacity?: number;
}

export type ParamType = 'duration' | 'number' | 'kinds' | 'minutes';

export interface FaultDef {
  mode: FaultMode;
  description: string;
  /** Which key a bare first parameter sets (`dev:dropout:10m` = for=10m). */
  mainKey: string;
  /** Mode-specific keys (window keys after/for/every are always accepted). */
  keys: Record<string, { type: ParamType; help: string }>;
  /** Window defaults, documented in `list`. */
  defaults: { after: string; for: string };
  create(spec: FaultSpec, env: FaultEnv): Fault;
}
