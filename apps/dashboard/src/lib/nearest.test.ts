import { describe, expect, it } from 'vitest';
import { distanceM, nearest } from './nearest';
import { PACKS } from './test-packs';

describe('near me', () => {
  it('measures great-circle metres', () => {
    expect(distanceM({ lat: 18.8, lon: 99 }, { lat: 18.9, lon: 99 })).toBeCloseTo(11_119.5, 0);
    expect(distanceM({ lat: 0, lon: 0 }, { lat: 0, lon: 0 })).toBe(0);
  });

  it('picks the one nearest station for a subscription and says how far', () => {
    const stations = [
      { id: 'a', location: { lat: 18.7883, lon: 98.9853 } }, // Three Kings Monument
      { id: 'b', location: { lat: 18.8, lon: 98.967 } },
    ];
    expect(nearest(stations, { lat: 18.789, lon: 98.984 }, 1)).toMatchObject([{ station: { id: 'a' } }]);
    expect(nearest(stations, { lat: 18.801, lon: 98.966 }, 1)[0]?.metres).toBeLessThan(200);
    expect(nearest([], { lat: 0, lon: 0 }, 1)).toEqual([]);
  });

  it.each(PACKS)('finds the stations of %s nearest a point, nearest first', (_id, pack) => {
    const target = pack.stations[pack.stations.length - 1]!;
    const at = { lat: target.location.lat + 0.0003, lon: target.location.lon - 0.0002 };
    const found = nearest(pack.stations, at, 3);
    expect(found).toHaveLength(3);
    expect(found[0]!.station.id).toBe(target.id);
    expect(found[0]!.metres).toBeLessThan(50);
    expect(found.map((f) => f.metres)).toEqual([...found.map((f) => f.metres)].sort((a, b) => a - b));
    const others = pack.stations.filter((s) => !found.some((f) => f.station.id === s.id));
    for (const s of others) expect(distanceM(at, s.location)).toBeGreaterThanOrEqual(found[2]!.metres);
  });
});
