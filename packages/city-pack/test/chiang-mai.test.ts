import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  type CityPack,
  ID_PATTERN,
  loadCityPack,
  loadCityPackById,
  loadCityPackSync,
  pointInPolygon,
  REPO_CITIES_DIR,
  resolveCityDir,
} from '../src/index';

const dir = path.join(REPO_CITIES_DIR, 'chiang-mai');
let pack: CityPack;

beforeAll(async () => {
  const result = await loadCityPack(dir);
  if (!result.ok) throw new Error(`chiang-mai pack has errors:\n${JSON.stringify(result.error, null, 2)}`);
  pack = result.value;
});

/** Rough metres between two [lon, lat] points (equirectangular; fine over a few km). */
function metres(a: readonly number[], b: readonly number[]): number {
  const [lon1 = 0, lat1 = 0] = a;
  const [lon2 = 0, lat2 = 0] = b;
  const k = (Math.PI / 180) * 6_371_000;
  return Math.hypot((lon2 - lon1) * k * Math.cos(((lat1 + lat2) / 2) * (Math.PI / 180)), (lat2 - lat1) * k);
}

describe('the Chiang Mai city pack', () => {
  it('loads clean with enough air and canal stations', () => {
    expect(pack.city.id).toBe('chiang-mai');
    expect(pack.city.timezone).toBe('Asia/Bangkok');
    expect(pack.stations.filter((s) => s.kind === 'air').length).toBeGreaterThanOrEqual(12);
    expect(pack.stations.filter((s) => s.kind === 'canal').length).toBeGreaterThanOrEqual(3);
    expect(pack.city.dataNotes).toMatch(/approximate hand-drawn/);
    // Only the expected warnings: every canal level is still a placeholder.
    expect(new Set(pack.warnings.map((w) => w.code))).toEqual(new Set(['placeholder_levels']));
  });

  it('loads the same with the sync loader and by id', async () => {
    const sync = loadCityPackSync(dir);
    const byId = await loadCityPackById('chiang-mai');
    expect(sync.ok && sync.value.stations).toEqual(pack.stations);
    expect(byId.ok && byId.value.devices).toEqual(pack.devices);
  });

  it('puts every station inside its own district polygon', () => {
    const polygons = new Map(pack.districts.features.map((f) => [f.properties.id, f.geometry.coordinates]));
    for (const station of pack.stations) {
      const polygon = polygons.get(station.district);
      expect(polygon, `district of ${station.id}`).toBeDefined();
      expect(pointInPolygon(station.location, polygon ?? []), `${station.id} in ${station.district}`).toBe(true);
      // ...and in no other district, so district outlines do not overlap at stations.
      const others = [...polygons].filter(([id, p]) => id !== station.district && pointInPolygon(station.location, p));
      expect(
        others.map(([id]) => id),
        station.id,
      ).toEqual([]);
    }
  });

  it('covers the innovation districts and names everything in Thai and English', () => {
    for (const id of ['old-city', 'nimman', 'cmu', 'suan-dok', 'wualai', 'chang-khlan', 'mae-hia', 'santitham']) {
      expect(pack.districtById.has(id), id).toBe(true);
    }
    const thai = /[\u0E00-\u0E7F]/;
    for (const s of pack.stations) {
      expect(s.name.th, s.id).toMatch(thai);
      expect(s.name.en, s.id).toMatch(/^[\x20-\x7E–]+$/);
      expect(s.id).toMatch(ID_PATTERN);
      expect(s.city).toBe('chiang-mai');
    }
    for (const d of pack.districtById.values()) expect(d.name.th, d.id).toMatch(thai);
  });

  it('gives every station a device of the right model and transport', () => {
    for (const s of pack.stations) {
      const devices = pack.devices.filter((d) => d.stationId === s.id);
      expect(devices.length, s.id).toBeGreaterThanOrEqual(1);
      for (const d of devices) {
        expect([d.model, d.transport]).toEqual(
          s.kind === 'air' ? ['pms5003', 'mqtt'] : ['cnx-canal-probe-v1', 'modbus-tcp'],
        );
      }
    }
  });

  it('has plausible placeholder canal levels (bank 2-3 m, warning ~70 %, critical ~90 %)', () => {
    for (const s of pack.stations.filter((x) => x.kind === 'canal')) {
      const c = s.canal;
      expect(c, s.id).toBeDefined();
      if (!c) continue;
      expect(c.bankHeightM).toBeGreaterThanOrEqual(2);
      expect(c.bankHeightM).toBeLessThanOrEqual(3);
      expect(c.warningLevelM / c.bankHeightM).toBeCloseTo(0.7, 2);
      expect(c.criticalLevelM / c.bankHeightM).toBeCloseTo(0.9, 2);
    }
  });

  it('draws the moat as a closed square of about 1.6 km a side around the old city', () => {
    const moat = pack.waterways.features.find((f) => f.properties.kind === 'moat');
    const ring = moat?.geometry.coordinates ?? [];
    expect(ring.length).toBe(5);
    expect(ring[0]).toEqual(ring[4]);
    for (let i = 0; i < 4; i++) {
      const side = metres(ring[i] ?? [], ring[i + 1] ?? []);
      expect(side).toBeGreaterThan(1450);
      expect(side).toBeLessThan(1750);
    }
  });

  it('runs the Mae Kha line through every canal station, from north-west to its end at the Ping', () => {
    const maeKha = pack.waterways.features.find((f) => f.properties.id === 'mae-kha');
    const ping = pack.waterways.features.find((f) => f.properties.id === 'ping');
    const line = maeKha?.geometry.coordinates ?? [];
    for (const s of pack.stations.filter((x) => x.kind === 'canal')) {
      const nearest = Math.min(...line.map((p) => metres(p, [s.location.lon, s.location.lat])));
      expect(nearest, s.id).toBeLessThan(50);
    }
    const order = ['cm-canal-sriphum', 'cm-canal-rakaeng', 'cm-canal-pratukom', 'cm-canal-padaet'].map((id) => {
      const s = pack.stationById.get(id);
      return line.findIndex((p) => p[0] === s?.location.lon && p[1] === s?.location.lat);
    });
    expect(order.every((i) => i >= 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    const mouth = line[line.length - 1] ?? [];
    expect(ping?.geometry.coordinates.some((p) => metres(p, mouth) < 1)).toBe(true);
  });

  it('keeps ids unique across stations and devices and exposes plain domain Stations', () => {
    const raw = JSON.parse(readFileSync(path.join(dir, 'stations.json'), 'utf8')) as { stations: unknown[] };
    expect(raw.stations.length).toBe(pack.stations.length);
    const ids = [...pack.stations.map((s) => s.id), ...pack.devices.map((d) => d.id)];
    expect(new Set(ids).size).toBe(ids.length);
    // levelsSource stays in the file; the domain Station carries only the three levels.
    expect(Object.keys(pack.stationById.get('cm-canal-rakaeng')?.canal ?? {}).sort()).toEqual([
      'bankHeightM',
      'criticalLevelM',
      'warningLevelM',
    ]);
  });
});

describe('resolveCityDir', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  it('defaults to the repo cities folder', () => {
    expect(resolveCityDir('chiang-mai')).toBe(dir);
  });

  it('honours an explicit folder, then CNX_CITIES_DIR', () => {
    vi.stubEnv('CNX_CITIES_DIR', '/srv/cities');
    expect(resolveCityDir('lamphun')).toBe(path.resolve('/srv/cities/lamphun'));
    expect(resolveCityDir('lamphun', '/opt/packs')).toBe(path.resolve('/opt/packs/lamphun'));
  });

  it('rejects ids that could leave the folder', () => {
    expect(() => resolveCityDir('../etc')).toThrow(RangeError);
    expect(() => resolveCityDir('Chiang Mai')).toThrow(/invalid city id/);
  });
});
