import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { labelWidth, projectCity } from './geo';

const city = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../../cities/chiang-mai');
const read = (f: string) => JSON.parse(readFileSync(path.join(city, f), 'utf8'));
const stations = (read('stations.json') as { stations: { id: string; location: { lon: number; lat: number } }[] })
  .stations;

/** Numbers of an SVG path string, as [x, y] pairs (M/L/Z paths from d3-geo). */
const pathPoints = (d: string): [number, number][] => {
  const nums = (d.match(/-?\d+(\.\d+)?(e-?\d+)?/g) ?? []).map(Number);
  const out: [number, number][] = [];
  for (let i = 0; i + 1 < nums.length; i += 2) out.push([nums[i]!, nums[i + 1]!]);
  return out;
};

describe('city map projection', () => {
  const { map, project } = projectCity(
    read('districts.geojson'),
    read('waterways.geojson'),
    stations.map((s) => s.location),
  );

  it('draws every district and waterway of the city pack with a label inside the frame', () => {
    expect(map.districts.length).toBe(read('districts.geojson').features.length);
    expect(map.waterways.map((w) => w.kind)).toContain('moat');
    for (const d of map.districts) {
      expect(d.d).toMatch(/^M/);
      expect(d.name.th).not.toBe('');
      expect(d.x).toBeGreaterThan(0);
      expect(d.x).toBeLessThan(map.width);
      expect(d.y).toBeGreaterThan(0);
      expect(d.y).toBeLessThan(map.height);
    }
  });

  it('puts north up and east right (Tha Phae gate is east of the Three Kings monument, Nimman north-west)', () => {
    const [kingsX, kingsY] = project(98.9874, 18.7904);
    const [gateX] = project(98.9932, 18.7878);
    const [, northY] = project(98.967, 18.805);
    expect(gateX).toBeGreaterThan(kingsX);
    expect(northY).toBeLessThan(kingsY);
  });

  it('every station projects inside the frame with room for its marker', () => {
    const margin = 12; // a marker's radius is 11
    for (const s of stations) {
      const [x, y] = project(s.location.lon, s.location.lat);
      expect(x, s.id).toBeGreaterThanOrEqual(margin);
      expect(x, s.id).toBeLessThanOrEqual(map.width - margin);
      expect(y, s.id).toBeGreaterThanOrEqual(margin);
      expect(y, s.id).toBeLessThanOrEqual(map.height - margin);
    }
  });

  it('is framed on the stations and districts, not the canal course: the city fills the map', () => {
    const xy = stations.map((s) => project(s.location.lon, s.location.lat));
    const xs = xy.map((p) => p[0]);
    const ys = xy.map((p) => p[1]);
    const wide = (Math.max(...xs) - Math.min(...xs)) / map.width;
    const tall = (Math.max(...ys) - Math.min(...ys)) / map.height;
    // The frame is fitted on one axis: the stations span most of the map in width or in height.
    expect(Math.max(wide, tall)).toBeGreaterThan(0.65);
    expect(wide).toBeGreaterThan(0.6);
    // The districts touch the frame's padding on at least one axis (fitted, not floating in the middle).
    const pts = map.districts.flatMap((d) => pathPoints(d.d));
    const dx = Math.max(...pts.map((p) => p[0])) - Math.min(...pts.map((p) => p[0]));
    const dy = Math.max(...pts.map((p) => p[1])) - Math.min(...pts.map((p) => p[1]));
    expect(Math.max(dx / (map.width - 48), dy / (map.height - 48))).toBeCloseTo(1, 2);
    // The old city (inside the moat) is large enough to read on a 390-px phone: the map is ~358 px wide
    // there, and the moat should be at least 45 px across (it was ~30 px when the Ping was framed too).
    const moat = pathPoints(map.waterways.find((w) => w.kind === 'moat')!.d);
    const moatWidth = Math.max(...moat.map((p) => p[0])) - Math.min(...moat.map((p) => p[0]));
    expect((moatWidth / map.width) * 358).toBeGreaterThan(45);
  });

  it('the canal and the river run off the edge of the frame and are clipped there', () => {
    for (const id of ['mae-kha', 'ping']) {
      const w = map.waterways.find((x) => x.id === id);
      expect(w, id).toBeDefined();
      const pts = pathPoints(w!.d);
      expect(pts.length).toBeGreaterThan(1);
      for (const [x, y] of pts) {
        expect(x).toBeGreaterThanOrEqual(-0.01);
        expect(x).toBeLessThanOrEqual(map.width + 0.01);
        expect(y).toBeGreaterThanOrEqual(-0.01);
        expect(y).toBeLessThanOrEqual(map.height + 0.01);
      }
      // It reaches the frame's top or bottom edge: it continues beyond the map.
      expect(
        pts.some(([, y]) => y <= 0.5 || y >= map.height - 0.5),
        id,
      ).toBe(true);
    }
  });

  it('label widths: Thai vowel and tone marks take no width; on a phone some district names fit and some do not', () => {
    expect(labelWidth('abc', 10)).toBeCloseTo(18);
    // น้ำ = น + ้ (tone mark) + ำ (sara am, a spacing vowel): two letters wide.
    expect(labelWidth('น้ำ', 10)).toBeCloseTo(12);
    const fits = map.districts.filter((d) => labelWidth(d.name.en.replace(/\s*\(.*$/, ''), 17) <= d.w);
    // The phone map keeps names where there is room (the outer districts) and drops the crowded ones.
    expect(fits.length).toBeGreaterThanOrEqual(3);
    expect(fits.length).toBeLessThan(map.districts.length);
  });
});
