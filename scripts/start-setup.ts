/**
 * The decisions `npm start` (scripts/start.ts) makes before it starts anything, kept apart so they can
 * be tested (test/repo/start-setup.test.ts): whether the built-in simulated fleet runs, the Modbus
 * polling file for the simulated canal stations, and the local demo staff file.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { CityPack } from '@cnx/city-pack';
import { type Device, deviceIntervalMs } from '@cnx/domain';

/** Arguments `npm start -- <args>` understands; anything else is reported and ignored. */
export const START_FLAGS: Record<string, string> = {
  '--no-fleet': 'run without the built-in simulated devices (same as CNX_SIM_FLEET=off)',
};

export interface StartOptions {
  /** Run the built-in simulated fleet (air nodes over MQTT, canal stations over Modbus TCP). */
  fleet: boolean;
  /** Arguments that are not in START_FLAGS (reported, not fatal). */
  unknownArgs: string[];
  /** Days of simulated history to backfill before the fleet starts (CNX_BACKFILL_DAYS, default 7; 0: off). */
  backfillDays: number;
}

/**
 * `CNX_SIM_FLEET=off` or `npm start -- --no-fleet`: no built-in simulated devices, so a field
 * technician can drive their own (firmware-sim `run` / `canal`) without two publishers per device id.
 * Throws on a value of CNX_SIM_FLEET other than on/off (also true/false, 1/0, yes/no).
 */
export function startOptions(env: Record<string, string | undefined>, args: readonly string[]): StartOptions {
  const raw = (env.CNX_SIM_FLEET ?? 'on').trim().toLowerCase();
  const on = ['on', 'true', '1', 'yes'].includes(raw);
  if (!on && !['off', 'false', '0', 'no'].includes(raw))
    throw new Error(`CNX_SIM_FLEET=${JSON.stringify(env.CNX_SIM_FLEET)}: expected on or off`);
  const days = Number(env.CNX_BACKFILL_DAYS ?? 7);
  if (env.CNX_BACKFILL_DAYS?.trim() === '' || !Number.isFinite(days) || days < 0 || days > 3660)
    throw new Error(
      `CNX_BACKFILL_DAYS=${JSON.stringify(env.CNX_BACKFILL_DAYS)}: expected a number of days, 0..3660 (0: off)`,
    );
  return {
    fleet: on && !args.includes('--no-fleet'),
    unknownArgs: args.filter((a) => !(a in START_FLAGS)),
    backfillDays: days,
  };
}

/** The city pack's canal devices polled over Modbus TCP, in pack order (as firmware-sim `canal` serves them). */
export const canalDevices = (pack: Pick<CityPack, 'devices'>): Device[] =>
  pack.devices.filter((d) => d.transport === 'modbus-tcp');

/**
 * GATEWAY_MODBUS_CONFIG for the simulated canal stations: station i on 127.0.0.1:basePort + i with
 * unit id i + 1, each polled at its own cadence from the city pack (intervalS), as the real probes.
 */
export function canalModbusConfig(pack: Pick<CityPack, 'devices'>, basePort: number) {
  const devices = canalDevices(pack);
  return {
    buses: devices.map((_, i) => ({ id: `canal-sim-${i}`, transport: 'tcp', host: '127.0.0.1', port: basePort + i })),
    devices: devices.map((d, i) => ({
      deviceId: d.id,
      bus: `canal-sim-${i}`,
      unitId: i + 1,
      intervalMs: deviceIntervalMs(d),
    })),
  };
}

/** "every 60 s" or "every 60–300 s": the cadences of `devices` for the banner. */
export function cadenceText(devices: readonly Pick<Device, 'intervalS'>[]): string {
  const s = devices.map((d) => deviceIntervalMs(d) / 1000);
  if (s.length === 0) return 'no devices';
  const lo = Math.min(...s);
  const hi = Math.max(...s);
  return lo === hi ? `every ${lo} s` : `every ${lo}–${hi} s`;
}

export interface StaffFile {
  path: string;
  /** npm start wrote it just now (a demo staff member with a fresh random token). */
  created: boolean;
  /** The file is npm start's own demo file (not one named by ALERTS_STAFF_FILE). */
  demo: boolean;
}

/**
 * The staff file for the alerts service (ALERTS_STAFF_FILE, apps/alerts/README.md): the operator's
 * own when ALERTS_STAFF_FILE is set, else `<dataDir>/staff.json`, created on first start with one
 * demo staff member and a random token (32 bytes, base64url; readable by the owner only). Its
 * contact is an `.invalid` address (RFC 2606) on the email channel, which `npm start` has no SMTP
 * for: deliveries to the demo member are recorded as "channel not configured", nothing is sent.
 */
export function ensureStaffFile(dataDir: string, env: Record<string, string | undefined>): StaffFile {
  if (env.ALERTS_STAFF_FILE) return { path: path.resolve(env.ALERTS_STAFF_FILE), created: false, demo: false };
  const file = path.resolve(dataDir, 'staff.json');
  if (existsSync(file)) return { path: file, created: false, demo: true };
  mkdirSync(dataDir, { recursive: true });
  const demo = [
    {
      id: 'demo',
      name: 'Demo staff member (created by npm start)',
      token: randomBytes(32).toString('base64url'),
      tier: 0,
      channel: 'email',
      address: 'demo-staff@cnx-sense.invalid',
    },
  ];
  writeFileSync(file, `${JSON.stringify(demo, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
  return { path: file, created: true, demo: true };
}

/** A shell line that reads the first staff member's token from the file (no token in the banner or logs). */
export const staffTokenCommand = (file: string): string => `$(node -p "require('${file}')[0].token")`;
