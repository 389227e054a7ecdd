import { describe, expect, it } from 'vitest';
import { basemapTiles, parseBaseMapEnv, tileZoom } from './basemap';
import { PACKS, projectPack } from './test-packs';

describe('base map settings', () => {
  it('is off by default, and needs a {z}/{x}/{y} http(s) template and an attribution', () => {
    expect(parseBaseMapEnv({})).toEqual({ config: null, problems: [] });
    const url = 'https://tiles.example.org/{z}/{x}/{y}.png';
    expect(parseBaseMapEnv({ DASHBOARD_BASEMAP_URL: url, DASHBOARD_BASEMAP_ATTRIBUTION: '© Example' }).config).toEqual({
      url,
      attribution: '© Example',
    });
    const bad = parseBaseMapEnv({ DASHBOARD_BASEMAP_URL: 'ftp://tiles.example.org/{z}/{x}.png' }).problems.join('\n');
    expect(bad).toMatch(/http\(s\)/);
    expect(bad).toMatch(/needs \{y\}/);
    expect(bad).toMatch(/DASHBOARD_BASEMAP_ATTRIBUTION is required/);
  });
});

describe.each(PACKS)('base map tiles under the map of %s', (_id, pack) => {
  const { map, project } = projectPack(pack);
  const tiles = basemapTiles(map, 'https://t.example/{z}/{x}/{y}.png');

  it('cover the whole frame with squares at one zoom, each ~256 map units', () => {
    expect(tiles.length).toBeGreaterThan(1);
    expect(tiles.length).toBeLessThan(40);
    const z = tileZoom(map.mercator);
    for (const t of tiles) {
      expect(t.href).toMatch(new RegExp(`^https://t\\.example/${z}/\\d+/\\d+\\.png$`));
      expect(t.size).toBeGreaterThan(180);
      expect(t.size).toBeLessThan(365);
    }
    const covered = (x: number, y: number) =>
      tiles.some((t) => x >= t.x && x <= t.x + t.size && y >= t.y && y <= t.y + t.size);
    for (const [x, y] of [
      [0, 0],
      [map.width, 0],
      [0, map.height],
      [map.width, map.height],
      [map.width / 2, map.height / 2],
    ] as const)
      expect(covered(x, y), `${x},${y}`).toBe(true);
  });

  it('sit where Web Mercator puts them: a station falls in the tile the slippy-map formula names', () => {
    const z = tileZoom(map.mercator);
    const s = pack.stations[0]!;
    const n = 2 ** z;
    const tx = Math.floor(((s.location.lon + 180) / 360) * n);
    const lat = (s.location.lat * Math.PI) / 180;
    const ty = Math.floor(((1 - Math.log(Math.tan(lat) + 1 / Math.cos(lat)) / Math.PI) / 2) * n);
    const tile = tiles.find((t) => t.href.endsWith(`/${z}/${tx}/${ty}.png`))!;
    expect(tile).toBeDefined();
    const [x, y] = project(s.location.lon, s.location.lat);
    expect(x).toBeGreaterThanOrEqual(tile.x - 0.5);
    expect(x).toBeLessThanOrEqual(tile.x + tile.size + 0.5);
    expect(y).toBeGreaterThanOrEqual(tile.y - 0.5);
    expect(y).toBeLessThanOrEqual(tile.y + tile.size + 0.5);
  });
});
