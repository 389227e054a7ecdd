/**
 * What `npm start` decides before it starts anything (scripts/start-setup.ts, issue 11): fleet on or
 * off, the Modbus file for the simulated canal stations (accepted by the gateway's own parser, each
 * device polled at its city-pack cadence), and the demo staff file.
 */
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { loadCityPack, resolveCityDir } from '@cnx/city-pack';
import { parseModbusConfig } from '@cnx/gateway';
import { makeTempDir, removeDir } from '@cnx/testkit';
import { describe, expect, it } from 'vitest';
import {
  cadenceText,
  canalModbusConfig,
  ensureStaffFile,
  staffTokenCommand,
  startOptions,
} from '../../scripts/start-setup';

describe('npm start: the built-in fleet', () => {
  it('runs by default; CNX_SIM_FLEET=off or --no-fleet turns it off', () => {
    expect(startOptions({}, [])).toEqual({ fleet: true, unknownArgs: [], backfillDays: 7 });
    expect(startOptions({ CNX_BACKFILL_DAYS: '0' }, []).backfillDays).toBe(0);
    expect(startOptions({ CNX_BACKFILL_DAYS: '2.5' }, []).backfillDays).toBe(2.5);
    for (const bad of ['abc', '-1', '', '99999'])
      expect(() => startOptions({ CNX_BACKFILL_DAYS: bad }, [])).toThrow(/CNX_BACKFILL_DAYS/);
    expect(startOptions({ CNX_SIM_FLEET: 'on' }, []).fleet).toBe(true);
    for (const off of ['off', 'OFF', 'false', '0', 'no'])
      expect(startOptions({ CNX_SIM_FLEET: off }, []).fleet).toBe(false);
    expect(startOptions({}, ['--no-fleet']).fleet).toBe(false);
    expect(startOptions({ CNX_SIM_FLEET: 'on' }, ['--no-fleet']).fleet).toBe(false);
  });

  it('refuses a value it does not know and reports unknown arguments', () => {
    expect(() => startOptions({ CNX_SIM_FLEET: 'maybe' }, [])).toThrow('CNX_SIM_FLEET="maybe": expected on or off');
    expect(startOptions({}, ['--nofleet', '--no-fleet'])).toMatchObject({ fleet: false, unknownArgs: ['--nofleet'] });
  });
});

describe('npm start: Modbus polling of the simulated canal stations', () => {
  it('polls each canal device at its city-pack cadence, in a file the gateway accepts', async () => {
    const pack = await loadCityPack(resolveCityDir('chiang-mai'));
    if (!pack.ok) throw new Error('chiang-mai pack invalid');
    const json = canalModbusConfig(pack.value, 15020);
    const parsed = parseModbusConfig(JSON.parse(JSON.stringify(json)), { pack: pack.value });
    if (!parsed.ok) throw new Error(parsed.error.join('\n'));
    const canal = pack.value.devices.filter((d) => d.transport === 'modbus-tcp');
    expect(parsed.value.devices.map((d) => [d.deviceId, d.unitId, d.intervalMs])).toEqual(
      canal.map((d, i) => [d.id, i + 1, (d.intervalS ?? 60) * 1000]),
    );
    expect(parsed.value.devices.every((d) => d.intervalMs === 60_000)).toBe(true); // Chiang Mai: a minute
    expect(json.buses.map((b) => b.port)).toEqual(canal.map((_, i) => 15020 + i));
    expect(cadenceText(canal)).toBe('every 60 s');
    expect(cadenceText([{ intervalS: 30 }, { intervalS: 300 }, {}])).toBe('every 30–300 s');
  });
});

describe('npm start: the demo staff file', () => {
  it('creates one demo member with a random token, readable by its owner only, once', async () => {
    const dir = await makeTempDir('cnx-start-staff-');
    try {
      const first = ensureStaffFile(dir, {});
      expect(first).toEqual({ path: path.join(dir, 'staff.json'), created: true, demo: true });
      const doc = JSON.parse(readFileSync(first.path, 'utf8'));
      expect(doc).toEqual([
        expect.objectContaining({ id: 'demo', tier: 0, channel: 'email', address: 'demo-staff@cnx-sense.invalid' }),
      ]);
      expect(doc[0].token).toMatch(/^[A-Za-z0-9_-]{43}$/); // 32 random bytes, base64url
      expect(statSync(first.path).mode & 0o777).toBe(0o600);
      // A second start keeps the file and its token.
      expect(ensureStaffFile(dir, {})).toEqual({ ...first, created: false });
      expect(JSON.parse(readFileSync(first.path, 'utf8'))[0].token).toBe(doc[0].token);
      // Another data dir, another token.
      const other = await makeTempDir('cnx-start-staff-');
      expect(JSON.parse(readFileSync(ensureStaffFile(other, {}).path, 'utf8'))[0].token).not.toBe(doc[0].token);
      await removeDir(other);
    } finally {
      await removeDir(dir);
    }
  });

  it('uses ALERTS_STAFF_FILE as it is when set', async () => {
    const dir = await makeTempDir('cnx-start-staff-');
    try {
      const own = path.join(dir, 'ours.json');
      writeFileSync(own, '[]');
      expect(ensureStaffFile(path.join(dir, 'data'), { ALERTS_STAFF_FILE: own })).toEqual({
        path: own,
        created: false,
        demo: false,
      });
      expect(readFileSync(own, 'utf8')).toBe('[]');
    } finally {
      await removeDir(dir);
    }
  });

  it('prints a shell expression that reads the token from the file', async () => {
    const { execFileSync } = await import('node:child_process');
    const dir = await makeTempDir('cnx-start-staff-');
    try {
      const file = ensureStaffFile(dir, {}).path;
      const token = JSON.parse(readFileSync(file, 'utf8'))[0].token;
      const cmd = staffTokenCommand(file);
      expect(cmd).not.toContain(token);
      expect(execFileSync('sh', ['-c', `printf %s "${cmd}"`], { encoding: 'utf8' })).toBe(token);
    } finally {
      await removeDir(dir);
    }
  });
});
