import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { projectCity } from './geo';

const city = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../../cities/chiang-mai');
const read = (f: string) => JSON.parse(readFileSync(path.join(city, f), 'utf8'));

describe('city map projection', () => {
  const { map, project } = projectCity(read('districts.geojson'), read('waterways.geojson'));

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
});
