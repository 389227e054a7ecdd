import { randomBytes } from 'node:crypto';
import { parseDuration } from '../util/duration';

/**
 * The broker a simulator run talks to when `--mqtt` is not given: `$MQTT_URL`, else the loopback
 * broker on `$CNX_MQTT_PORT` (the port `npm start`'s embedded broker listens on), else 1883. So a
 * field technician's `run` reaches the broker of an `npm start` on non-default ports with no flag.
 */
export function defaultMqttUrl(env: Record<string, string | undefined> = process.env): string {
  if (env.MQTT_URL) return env.MQTT_URL;
  const port = env.CNX_MQTT_PORT ?? '1883';
  if (!/^\d{1,5}$/.test(port) || Number(port) < 1 || Number(port) > 65535)
    throw new Error(`CNX_MQTT_PORT=${JSON.stringify(port)}: expected a port number 1-65535`);
  return `mqtt://127.0.0.1:${Number(port)}`;
}

/**
 * A fresh client id suffix per run (`sim-3f9a2c`): the run's devices connect as `<deviceId>@sim-3f9a2c`,
 * so two runs (a technician's and the `npm start` fleet) never take over each other's MQTT session.
 * Three random bytes: collisions between the handful of runs on one broker are out of the question.
 */
export function runClientIdSuffix(): string {
  return `sim-${randomBytes(3).toString('hex')}`;
}

/**
 * `--start`: an ISO 8601 time, or a negative duration before now (`-35m`, `-2h`): a run that starts
 * in the recent past and catches up at `--time-scale` sends readings with honest past times (no
 * `future` flags) and can reach a QC verdict that needs many readings (stuck) in a minute.
 */
export function parseStartArg(s: string | undefined, now = Date.now()): number {
  if (s === undefined) return now;
  if (/^-\d/.test(s.trim())) {
    let back: number;
    try {
      back = parseDuration(s);
    } catch {
      throw new Error(`--start: not an ISO 8601 time nor a duration before now (e.g. -35m): ${s}`);
    }
    if (!Number.isFinite(back)) throw new Error(`--start: ${s} is not a finite duration`);
    return now + back;
  }
  const t = Date.parse(s);
  if (!Number.isFinite(t)) throw new Error(`--start: not an ISO 8601 time nor a duration before now (e.g. -35m): ${s}`);
  return t;
}
