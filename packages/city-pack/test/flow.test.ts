import { describe, expect, it } from 'vitest';
import { buildCityPack, type CityPackSources, distanceM, locateOnLine, syntheticCityPackFiles } from '../src/index';

describe('locateOnLine and distanceM', () => {
  // A line due east along the equator-ish latitude 18.8: 0.01 degree of longitude is ~1053 m there.
  const line = [
    [99.0, 18.8],
    [99.01, 18.8],
    [99.02, 18.8],
  ];
  it('gives the distance along the line to the foot of the point, and the offset from it', () => {
    const at = locateOnLine({ lat: 18.801, lon: 99.015 }, line)!;
    expect(at.alongM).toBeGreaterThan(1570);
    expect(at.alongM).toBeLessThan(1590);
    expect(at.offsetM).toBeGreaterThan(105);
    expect(at.offsetM).toBeLessThan(117);
    expect(locateOnLine({ lat: 18.8, lon: 98.99 }, line)!.alongM).toBe(0);
    expect(locateOnLine({ lat: 18.8, lon: 99 }, [[99, 18.8]])).toBeUndefined();
  });
  it('measures great-circle metres', () => {
    expect(distanceM({ lat: 18.8, lon: 99 }, { lat: 18.9, lon: 99 })).toBeCloseTo(11_119.5, 0);
  });
});

/** A synthetic pack (a 5 x 5 grid) with three canal stations on its canal line, along the top row, then edited. */
function sources(edit: (stations: { stations: Record<string, unknown>[] }) => void): CityPackSources {
  const files = syntheticCityPackFiles({ id: 'flowville', airStations: 20, canalStations: 3 });
  const stations = JSON.parse(files['stations.json']);
  edit(stations);
  const text = (t: string) => ({ text: t });
  return {
    'city.json': text(files['city.json']),
    'stations.json': text(JSON.stringify(stations)),
    'devices.json': text(files['devices.json']),
    'districts.geojson': text(files['districts.geojson']),
    'waterways.geojson': text(files['waterways.geojson']),
  };
}

describe('water stations along their waterway', () => {
  it('orders the stations by their place along the line, not by id or file order', () => {
    const r = buildCityPack(sources((s) => s.stations.reverse()));
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.value.flowOrder.map((f) => f.stationId)).toEqual([
      'flowville-canal-0001',
      'flowville-canal-0002',
      'flowville-canal-0003',
    ]);
    expect(r.value.flowOrder[0]).toEqual({ stationId: 'flowville-canal-0001', waterway: 'flowville-canal', alongM: 0 });
  });

  it('rejects an unknown waterway and a gauge far from its line; warns about a gauge naming none', () => {
    const r = buildCityPack(
      sources((s) => {
        const canal = s.stations.filter((x) => x.kind === 'canal') as { canal: Record<string, unknown> }[];
        canal[0]!.canal.waterway = 'atlantis';
        delete canal[1]!.canal.waterway;
      }),
    );
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.error.map((e) => [e.code, e.path, e.value])).toEqual([
      ['unknown_waterway', '/stations/20/canal/waterway', 'atlantis'],
    ]);
    const far = buildCityPack(
      sources((s) => {
        const last = s.stations[s.stations.length - 1] as { location: { lat: number } };
        last.location.lat -= 0.004; // ~440 m off the line, still inside the district
      }),
    );
    expect(!far.ok && far.error.map((e) => e.code)).toEqual(['off_waterway']);
    const none = buildCityPack(
      sources((s) => delete (s.stations[21] as { canal: { waterway?: string } }).canal.waterway),
    );
    expect(none.ok && none.value.warnings.map((w) => w.code)).toContain('station_without_waterway');
    expect(none.ok && none.value.flowOrder.at(-1)).toEqual({
      stationId: 'flowville-canal-0002',
      waterway: null,
      alongM: null,
    });
  });
});
