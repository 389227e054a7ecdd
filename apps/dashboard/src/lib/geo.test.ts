import { describe, expect, it } from 'vitest';
import { labelWidth, projectMercator } from './geo';
import { PACKS, projectPack } from './test-packs';

/** Numbers of an SVG path string, as [x, y] pairs (M/L/Z paths from d3-geo). */
const pathPoints = (d: string): [number, number][] => {
  const nums = (d.match(/-?\d+(\.\d+)?(e-?\d+)?/g) ?? []).map(Number);
  const out: [number, number][] = [];
  for (let i = 0; i + 1 < nums.length; i += 2) out.push([nums[i]!, nums[i + 1]!]);
  return out;
};

describe.each(PACKS)('the map of %s', (_id, pack) => {
  const { map, project, insideDistrict } = projectPack(pack);

  it('draws every district and waterway of the pack, with a short label and an anchor inside the frame', () => {
    expect(map.districts.map((d) => d.id)).toEqual(pack.districts.features.map((f) => f.properties.id));
    expect(map.waterways.length).toBe(pack.waterways.features.length);
    for (const d of map.districts) {
      expect(d.d).toMatch(/^M/);
      expect(d.label.th, d.id).not.toBe('');
      expect(d.label.en.length, d.id).toBeLessThanOrEqual(d.name.en.length);
      expect(d.x).toBeGreaterThan(0);
      expect(d.x).toBeLessThan(map.width);
      expect(d.y).toBeGreaterThan(0);
      expect(d.y).toBeLessThan(map.height);
    }
  });

  it('puts north up and east right, and the browser-side projection agrees with d3', () => {
    const byLon = [...pack.stations].sort((a, b) => a.location.lon - b.location.lon);
    const byLat = [...pack.stations].sort((a, b) => a.location.lat - b.location.lat);
    const x = (s: (typeof byLon)[number]) => project(s.location.lon, s.location.lat)[0];
    const y = (s: (typeof byLon)[number]) => project(s.location.lon, s.location.lat)[1];
    expect(x(byLon.at(-1)!)).toBeGreaterThan(x(byLon[0]!));
    expect(y(byLat.at(-1)!)).toBeLessThan(y(byLat[0]!));
    for (const s of pack.stations) {
      const [px, py] = projectMercator(map.mercator, s.location.lon, s.location.lat);
      const [dx, dy] = project(s.location.lon, s.location.lat);
      expect(Math.abs(px - dx), s.id).toBeLessThan(0.1);
      expect(Math.abs(py - dy), s.id).toBeLessThan(0.1);
    }
  });

  it('every station projects inside the frame with room for its marker, inside its own district', () => {
    const margin = 12; // a marker's radius is 11
    for (const s of pack.stations) {
      const [x, y] = project(s.location.lon, s.location.lat);
      expect(x, s.id).toBeGreaterThanOrEqual(margin);
      expect(x, s.id).toBeLessThanOrEqual(map.width - margin);
      expect(y, s.id).toBeGreaterThanOrEqual(margin);
      expect(y, s.id).toBeLessThanOrEqual(map.height - margin);
      expect(insideDistrict(s.district, x, y), s.id).toBe(true);
    }
  });

  it('is framed on the stations and districts, not the water courses: the city fills the map', () => {
    const xy = pack.stations.map((s) => project(s.location.lon, s.location.lat));
    const wide = (Math.max(...xy.map((p) => p[0])) - Math.min(...xy.map((p) => p[0]))) / map.width;
    const tall = (Math.max(...xy.map((p) => p[1])) - Math.min(...xy.map((p) => p[1]))) / map.height;
    // The frame is fitted on one axis: the stations span most of the map in width or in height.
    expect(Math.max(wide, tall)).toBeGreaterThan(0.6);
    // The districts touch the frame's padding on at least one axis (fitted, not floating in the middle).
    const pts = map.districts.flatMap((d) => pathPoints(d.d));
    const dx = Math.max(...pts.map((p) => p[0])) - Math.min(...pts.map((p) => p[0]));
    const dy = Math.max(...pts.map((p) => p[1])) - Math.min(...pts.map((p) => p[1]));
    expect(Math.max(dx / (map.width - 48), dy / (map.height - 48))).toBeCloseTo(1, 2);
  });

  it('the rivers and canals are clipped at the frame edge', () => {
    for (const w of map.waterways) {
      for (const [x, y] of pathPoints(w.d)) {
        expect(x).toBeGreaterThanOrEqual(-0.01);
        expect(x).toBeLessThanOrEqual(map.width + 0.01);
        expect(y).toBeGreaterThanOrEqual(-0.01);
        expect(y).toBeLessThanOrEqual(map.height + 0.01);
      }
    }
    // A river runs on beyond the city: it reaches an edge of the frame.
    const river = map.waterways.find((w) => w.kind === 'river')!;
    const edge = ([x, y]: [number, number]) => x <= 0.5 || y <= 0.5 || x >= map.width - 0.5 || y >= map.height - 0.5;
    expect(pathPoints(river.d).some(edge)).toBe(true);
  });
});

describe('the old city of the default pack', () => {
  it('is large enough to read on a 390-px phone (the moat at least 45 px across on a ~358-px map)', () => {
    const [, pack] = PACKS.find(([, p]) => p.waterways.features.some((w) => w.properties.kind === 'moat'))!;
    const { map } = projectPack(pack);
    const moat = pathPoints(map.waterways.find((w) => w.kind === 'moat')!.d);
    const moatWidth = Math.max(...moat.map((p) => p[0])) - Math.min(...moat.map((p) => p[0]));
    expect((moatWidth / map.width) * 358).toBeGreaterThan(45);
  });
});

describe('label widths', () => {
  it('Thai vowel and tone marks take no width; wide letters count wider', () => {
    expect(labelWidth('abc', 10)).toBeCloseTo(21.6);
    // น้ำ = น + ้ (tone mark) + ำ (sara am, a spacing vowel): two letters wide.
    expect(labelWidth('น้ำ', 10)).toBeCloseTo(labelWidth('นา', 10));
    expect(labelWidth('MW', 10)).toBeGreaterThan(labelWidth('il', 10) * 2);
  });
});
