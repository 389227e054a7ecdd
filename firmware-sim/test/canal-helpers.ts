import { execFile } from 'node:child_process';
import { requireBinary } from '@cnx/testkit';
import type { CanalStationInfo } from '../src/canal';

export const MBPOLL = requireBinary('mbpoll', 'mbpoll');
export const SOCAT = requireBinary('socat', 'socat');

/** A rainy-season morning: the level is up after the night's rain (values checked in canal-model tests). */
export const SIM_START = Date.parse('2026-09-10T06:00:00+07:00');

/** Rakaeng bridge, as in cities/chiang-mai (levels are the pack's placeholders). */
export const RAKAENG: CanalStationInfo = {
  id: 'cm-canal-rakaeng-probe',
  stationId: 'cm-canal-rakaeng',
  model: 'cnx-canal-probe-v1',
  transport: 'modbus-tcp',
  location: { lat: 18.777, lon: 98.9957 },
  levels: { bankHeightM: 2.5, warningLevelM: 1.75, criticalLevelM: 2.25 },
};

export const CHANGPHUEAK: CanalStationInfo = {
  id: 'cm-canal-changphueak-probe',
  stationId: 'cm-canal-changphueak',
  model: 'cnx-canal-probe-v1',
  transport: 'modbus-tcp',
  location: { lat: 18.8005, lon: 98.9885 },
  levels: { bankHeightM: 2, warningLevelM: 1.4, criticalLevelM: 1.8 },
};

export interface MbpollResult {
  code: number;
  output: string;
  /** reference -> value, from lines like `[5]: 	1.54551` (NaN for "nan"). */
  values: Map<number, number>;
}

/**
 * Run mbpoll (a third-party Modbus master, libmodbus inside) once, asynchronously: the simulator under
 * test runs in this process, so a blocking call would starve it. Bounded by `timeoutMs`.
 */
export function mbpoll(args: string[], timeoutMs = 10_000): Promise<MbpollResult> {
  return new Promise((resolve) => {
    execFile(MBPOLL, ['-1', ...args], { timeout: timeoutMs, encoding: 'utf8' }, (err, stdout, stderr) => {
      const output = `${stdout}${stderr}`;
      const values = new Map<number, number>();
      for (const m of output.matchAll(/^\[(\d+)\]:\s+(-?[\w.+-]+)/gm)) {
        values.set(Number(m[1]), m[2]!.toLowerCase().includes('nan') ? Number.NaN : Number(m[2]));
      }
      const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
      resolve({ code, output, values });
    });
  });
}

/** mbpoll prints floats with %g (6 significant digits): compare at that precision. */
export function closeTo6(actual: number | undefined, expected: number): boolean {
  if (actual === undefined) return false;
  if (Number.isNaN(expected)) return Number.isNaN(actual);
  return Math.abs(actual - expected) <= Math.abs(expected) * 1e-5 + 1e-9;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Poll `fn` until it returns true, at most `timeoutMs`. */
export async function until(fn: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await fn())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(20);
  }
}
