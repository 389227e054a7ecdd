import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCityPack, loadCityPackSync, pointInPolygon, writeSyntheticCityPack } from '../src/index';

let root: string;

beforeAll(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'cnx-synthetic-'));
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('writeSyntheticCityPack', () => {
  it('writes a pack with 100 devices that loads clean', async () => {
    const dir = path.join(root, 'benchtown');
    await writeSyntheticCityPack(dir, { id: 'benchtown', airStations: 100 });
    const result = await loadCityPack(dir);
    expect(result.ok, JSON.stringify(!result.ok && result.error.slice(0, 5))).toBe(true);
    if (!result.ok) return;
    const pack = result.value;
    expect(pack.stations).toHaveLength(100);
    expect(pack.devices).toHaveLength(100);
    expect(pack.warnings).toEqual([]);
    expect(pack.stations[0]?.id).toBe('benchtown-air-0001');
    expect(pack.devices[99]?.id).toBe('benchtown-air-0100-pms-1');
    const polygon = pack.districts.features[0]?.geometry.coordinates ?? [];
    expect(pack.stations.every((s) => pointInPolygon(s.location, polygon))).toBe(true);
  });

  it('supports several devices per station and canal stations', async () => {
    const dir = path.join(root, 'multi');
    await writeSyntheticCityPack(dir, { id: 'multi', airStations: 7, devicesPerStation: 3, canalStations: 2 });
    const result = loadCityPackSync(dir);
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.value.devices).toHaveLength(27);
    expect(result.value.stations.filter((s) => s.kind === 'canal')).toHaveLength(2);
    expect(result.value.deviceById.get('multi-canal-0002-probe-3')?.transport).toBe('modbus-tcp');
    expect(result.value.warnings.map((w) => w.code)).toEqual(['placeholder_levels', 'placeholder_levels']);
  });

  it('warns (only) when the folder name differs from the city id', async () => {
    const dir = path.join(root, 'elsewhere');
    await writeSyntheticCityPack(dir, { id: 'somewhere', airStations: 1 });
    const result = await loadCityPack(dir);
    expect(result.ok && result.value.warnings.map((w) => w.code)).toEqual(['city_dir_mismatch']);
  });

  it('rejects bad options', async () => {
    await expect(writeSyntheticCityPack(path.join(root, 'x'), { id: 'Bad Id', airStations: 1 })).rejects.toThrow(
      RangeError,
    );
    await expect(writeSyntheticCityPack(path.join(root, 'x'), { id: 'x', airStations: 1.5 })).rejects.toThrow(
      /airStations/,
    );
    await expect(
      writeSyntheticCityPack(path.join(root, 'x'), { id: 'x', airStations: 1, devicesPerStation: 0 }),
    ).rejects.toThrow(/devicesPerStation/);
  });
});
