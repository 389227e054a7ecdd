import { formatDuration, parseDuration } from '../util/duration';
import type { FaultDef, FaultSpec } from './types';

export interface FaultWindow {
  afterMs: number;
  forMs: number;
  everyMs: number | undefined;
}

export function resolveWindow(spec: FaultSpec, def: Pick<FaultDef, 'defaults'>): FaultWindow {
  const afterMs = parseDuration(spec.after ?? def.defaults.after);
  let forMs = parseDuration(spec.for ?? def.defaults.for);
  const everyMs = spec.every === undefined ? undefined : parseDuration(spec.every);
  if (afterMs < 0) throw new Error(`${spec.mode}: after must be >= 0`);
  if (!(forMs > 0)) throw new Error(`${spec.mode}: for must be > 0`);
  if (everyMs !== undefined) {
    if (!(everyMs > 0) || !Number.isFinite(everyMs))
      throw new Error(`${spec.mode}: every must be a finite duration > 0`);
    forMs = Math.min(forMs, everyMs); // a window cannot outlast its own period
  }
  return { afterMs, forMs, everyMs };
}

/** Index of the window occurrence that contains simulated time t, or undefined when outside all. */
export function occurrence(w: FaultWindow, simStart: number, t: number): number | undefined {
  const e = t - simStart - w.afterMs;
  if (e < 0) return undefined;
  if (w.everyMs === undefined) return e < w.forMs ? 0 : undefined;
  const k = Math.floor(e / w.everyMs);
  return e - k * w.everyMs < w.forMs ? k : undefined;
}

export function windowLabel(w: FaultWindow): string {
  const parts = [`after=${formatDuration(w.afterMs)}`];
  if (Number.isFinite(w.forMs)) parts.push(`for=${formatDuration(w.forMs)}`);
  if (w.everyMs !== undefined) parts.push(`every=${formatDuration(w.everyMs)}`);
  return parts.join(',');
}

/** Index of the latest occurrence that has started by t (ignoring its length), or undefined before the first. */
export function startedOccurrence(w: FaultWindow, simStart: number, t: number): number | undefined {
  const e = t - simStart - w.afterMs;
  if (e < 0) return undefined;
  return w.everyMs === undefined ? 0 : Math.floor(e / w.everyMs);
}
