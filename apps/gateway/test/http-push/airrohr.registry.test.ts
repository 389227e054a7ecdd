import * as fs from 'node:fs';
import * as path from 'node:path';
import type { CityPack } from '@cnx/city-pack';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { buildAirrohrRegistry, loadAirrohrRegistry } from '../../src/http-push/airrohr.registry';
import { chiangMai, removeTempDirs, STATION, tempDir } from './helpers';

let pack: CityPack;
beforeAll(async () => {
  pack = await chiangMai();
});
afterEach(removeTempDirs);

/** The pack plus one device with transport http, as the proposed devices.json entries would add. */
function packWithHttpDevice(): CityPack {
  const device = { id: 'cm-air-citizen-0100', stationId: STATION, model: 'airrohr', transport: 'http' as const };
  return {
    ...pack,
    devices: [...pack.devices, device],
    deviceById: new Map([...pack.deviceById, [device.id, device]]),
  };
}

describe('buildAirrohrRegistry', () => {
  it('resolves sensors to devices of the registry (new ids on pack stations) or of the pack', () => {
    const r = buildAirrohrRegistry(
      [
        { sensor: 'esp8266-13463418', deviceId: 'cm-air-citizen-0001', stationId: STATION, note: 'Khun Somchai' },
        { sensor: 'ESP32-A1B2C3', deviceId: 'cm-air-citizen-0100', password: 'a-long-secret' },
      ],
      packWithHttpDevice(),
    );
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.value.warnings).toEqual([]);
    expect(r.value.registry.size).toBe(2);
    expect(r.value.registry.get('ESP8266-13463418')?.device).toEqual({
      id: 'cm-air-citizen-0001',
      stationId: STATION,
      model: 'airrohr',
      transport: 'http',
    });
    expect(r.value.registry.get('esp32-a1b2c3')).toMatchObject({ sensor: 'esp32-a1b2c3', password: 'a-long-secret' });
    expect(r.value.registry.get('esp8266-1')).toBeUndefined();
  });

  it('reports every problem at once', () => {
    const r = buildAirrohrRegistry(
      [
        { sensor: 'esp8266-1', deviceId: 'cm-air-citizen-0001', stationId: STATION },
        { sensor: 'ESP8266-1', deviceId: 'cm-air-citizen-0002', stationId: STATION },
        { sensor: 'esp8266-2', deviceId: 'cm-air-citizen-0001', stationId: STATION },
        { sensor: 'esp8266-3', deviceId: 'cm-air-oldcity-01-pms' },
        { sensor: 'esp8266-4', deviceId: 'cm-air-citizen-0004' },
        { sensor: 'esp8266-5', deviceId: 'cm-air-citizen-0005', stationId: 'cm-air-nowhere-01' },
        { sensor: 'esp8266-6', deviceId: 'cm-air-citizen-0006', stationId: 'cm-canal-sriphum' },
      ],
      pack,
    );
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.error).toEqual([
      '/1 (ESP8266-1): sensor is already registered in entry /0',
      '/2 (esp8266-2): deviceId cm-air-citizen-0001 is already used by entry /0',
      '/3 (esp8266-3): deviceId cm-air-oldcity-01-pms is a city-pack device with transport "mqtt", not "http"',
      '/4 (esp8266-4): stationId is required because cm-air-citizen-0004 is not a device of the city pack',
      '/5 (esp8266-5): station cm-air-nowhere-01 is not in the city pack',
      '/6 (esp8266-6): station cm-canal-sriphum is a canal station',
    ]);
  });

  it('rejects a station that contradicts the pack device', () => {
    const r = buildAirrohrRegistry(
      [{ sensor: 'esp8266-7', deviceId: 'cm-air-citizen-0100', stationId: 'cm-air-cmu-01' }],
      packWithHttpDevice(),
    );
    expect(!r.ok && r.error[0]).toContain('differs from the city pack');
  });

  it.each([
    [{ sensor: 'esp8266 1', deviceId: 'cm-air-citizen-1', stationId: STATION }, '/0/sensor'],
    [{ sensor: 'esp8266-1', deviceId: 'CM_Air', stationId: STATION }, '/0/deviceId'],
    [{ sensor: 'esp8266-1', deviceId: 'cm-air-citizen-1', stationId: STATION, password: 'short' }, '/0/password'],
    [{ sensor: 'esp8266-1', deviceId: 'cm-air-citizen-1', stationId: STATION, owner: 'x' }, '/0'],
  ])('schema: %j', (entry, where) => {
    const r = buildAirrohrRegistry([entry], pack);
    expect(!r.ok && r.error[0]?.startsWith(where)).toBe(true);
  });

  it('must be an array', () => {
    expect(buildAirrohrRegistry({ sensors: [] }, pack).ok).toBe(false);
    expect(buildAirrohrRegistry([], pack).ok).toBe(true);
  });

  it('warns when a published device id reveals the chip id', () => {
    const r = buildAirrohrRegistry(
      [{ sensor: 'esp8266-13463418', deviceId: 'cm-air-citizen-13463418', stationId: STATION }],
      pack,
    );
    expect(r.ok && r.value.warnings[0]).toContain('contains the chip id');
  });
});

describe('loadAirrohrRegistry', () => {
  it('reads a file', async () => {
    const file = path.join(tempDir(), 'airrohr.json');
    fs.writeFileSync(file, JSON.stringify([{ sensor: 'esp8266-1', deviceId: 'cm-air-citizen-1', stationId: STATION }]));
    const r = await loadAirrohrRegistry(file, pack);
    expect(r.ok && r.value.registry.size).toBe(1);
  });

  it('names the file in every problem', async () => {
    const dir = tempDir();
    const missing = await loadAirrohrRegistry(path.join(dir, 'nope.json'), pack);
    expect(!missing.ok && missing.error[0]).toMatch(/nope\.json: cannot read/);
    const broken = path.join(dir, 'broken.json');
    fs.writeFileSync(broken, '[{"sensor": ');
    const bad = await loadAirrohrRegistry(broken, pack);
    expect(!bad.ok && bad.error[0]).toMatch(/broken\.json: not valid JSON/);
    const invalid = path.join(dir, 'invalid.json');
    fs.writeFileSync(invalid, JSON.stringify([{ sensor: 'esp8266-1', deviceId: 'cm-air-citizen-1' }]));
    const inv = await loadAirrohrRegistry(invalid, pack);
    expect(!inv.ok && inv.error[0]).toMatch(/invalid\.json \/0 \(esp8266-1\): stationId is required/);
  });
});
