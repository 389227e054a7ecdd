import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  buildCityPack,
  type CityPackError,
  type CityPackSources,
  formatCityPackIssue,
  loadCityPack,
  syntheticCityPackFiles,
} from '../src/index';

type Json = Record<string, unknown>;
type Station = Json & { id: string; location: { lat: number; lon: number } };

/** A valid synthetic pack, then broken on purpose in many ways at once. */
function brokenFiles(): Record<string, string> {
  const files = syntheticCityPackFiles({ id: 'brokenville', airStations: 9, canalStations: 3 });
  const city = JSON.parse(files['city.json']) as Json;
  const stations = JSON.parse(files['stations.json']) as { stations: Station[] };
  const devices = JSON.parse(files['devices.json']) as { devices: Json[] };
  const districts = JSON.parse(files['districts.geojson']) as { features: Json[] };
  const s = stations.stations;

  city.timezone = 'Asia/Chiang_Mai'; // not an IANA zone
  city.extra = true; // unknown property
  (s[2] as Station).location = { lat: 18.705, lon: 98.895 }; // in bbox, outside the district
  (s[3] as Station).location = { lat: 19.5, lon: 98.9 }; // outside the bbox (and the district)
  (s[4] as Station).district = 'atlantis'; // unknown district
  (s[5] as Station).id = 'Bad_ID'; // invalid id
  devices.devices.splice(5, 1); // ...and its device goes, so no unknown_station follows from it
  (s[6] as Station).canal = { bankHeightM: 2, warningLevelM: 1, criticalLevelM: 1.5 }; // air with canal levels
  (s[7] as Station).location = { lat: '18.7', lon: 98.9 } as never; // wrong type
  (s[8] as Json).name = 'Only English'; // wrong type; the item's other problems are still found:
  (s[8] as Station).district = 'nowhere';
  delete (s[9] as Json).canal; // canal station without levels
  (s[10] as Station).canal = { bankHeightM: 2.5, warningLevelM: 2.0, criticalLevelM: 1.8 }; // warning > critical
  (s[11] as Station).canal = { bankHeightM: 2.5, warningLevelM: 1.5, criticalLevelM: 3.0 }; // critical > bank
  s.push({ ...(s[0] as Station) }); // duplicate station id
  devices.devices.push({ id: 'ghost-pms-1', stationId: 'ghost', model: 'pms5003', transport: 'mqtt' });
  devices.devices.push({ ...(devices.devices[0] as Json) }); // duplicate device id
  (devices.devices[2] as Json).transport = 'lora'; // not a transport
  const district = districts.features[0] as Json;
  districts.features.push(JSON.parse(JSON.stringify(district)) as Json); // duplicate district id
  const second = districts.features[1] as { geometry: { coordinates: number[][][] } };
  second.geometry.coordinates[0]?.pop(); // open ring (still 4 positions)

  return {
    ...files,
    'city.json': JSON.stringify(city),
    'stations.json': JSON.stringify(stations),
    'devices.json': JSON.stringify(devices),
    'districts.geojson': JSON.stringify(districts),
    'waterways.geojson': '{ "type": "FeatureCollection", "features": [ }',
  };
}

let dir: string;
let errors: CityPackError[];

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'cnx-broken-pack-'));
  await Promise.all(Object.entries(brokenFiles()).map(([name, text]) => writeFile(path.join(dir, name), text)));
  const result = await loadCityPack(dir);
  if (result.ok) throw new Error('broken pack loaded');
  errors = result.error;
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const find = (file: string, pathPrefix: string, code: string) =>
  errors.filter((e) => e.file === file && e.path.startsWith(pathPrefix) && e.code === code);

describe('a broken city pack', () => {
  it.each([
    ['city.json', '/timezone', 'timezone_invalid', 'Asia/Chiang_Mai'],
    ['city.json', '/extra', 'schema_invalid', true],
    ['stations.json', '/stations/2/location', 'outside_district', { lat: 18.705, lon: 98.895 }],
    ['stations.json', '/stations/3/location', 'outside_bbox', { lat: 19.5, lon: 98.9 }],
    ['stations.json', '/stations/3/location', 'outside_district', { lat: 19.5, lon: 98.9 }],
    ['stations.json', '/stations/4/district', 'unknown_district', 'atlantis'],
    ['stations.json', '/stations/5/id', 'invalid_id', 'Bad_ID'],
    ['stations.json', '/stations/6/canal', 'canal_levels_unexpected', undefined],
    ['stations.json', '/stations/7/location/lat', 'schema_invalid', '18.7'],
    ['stations.json', '/stations/8/name', 'schema_invalid', 'Only English'],
    ['stations.json', '/stations/8/district', 'unknown_district', 'nowhere'],
    ['stations.json', '/stations/9/canal', 'canal_levels_missing', undefined],
    ['stations.json', '/stations/10/canal', 'canal_levels_order', undefined],
    ['stations.json', '/stations/11/canal', 'canal_levels_order', undefined],
    ['stations.json', '/stations/12/id', 'duplicate_id', 'brokenville-air-0001'],
    ['devices.json', '/devices/11/stationId', 'unknown_station', 'ghost'],
    ['devices.json', '/devices/12/id', 'duplicate_id', 'brokenville-air-0001-pms-1'],
    ['devices.json', '/devices/2/transport', 'schema_invalid', 'lora'],
    ['districts.geojson', '/features/1/properties/id', 'duplicate_id', 'brokenville-centre'],
    ['districts.geojson', '/features/1/geometry/coordinates/0', 'ring_not_closed', undefined],
    ['waterways.geojson', '', 'json_invalid', undefined],
  ])('reports %s %s as %s', (file, at, code, value) => {
    const hits = find(file, at, code);
    expect(hits, JSON.stringify(errors.map(formatCityPackIssue), null, 2)).toHaveLength(1);
    const [hit] = hits;
    expect(hit?.path).toBe(at);
    expect(hit?.message.length).toBeGreaterThan(10);
    if (value !== undefined) expect(hit?.value).toEqual(value);
  });

  it('reports each problem once and nothing else', () => {
    expect(errors.map(formatCityPackIssue)).toHaveLength(21);
  });

  it('formats an issue on one line with file, path, code and value', () => {
    const line = formatCityPackIssue(find('stations.json', '/stations/4/district', 'unknown_district')[0] as never);
    expect(line).toBe(
      'stations.json /stations/4/district [unknown_district] station "brokenville-air-0005" names district ' +
        '"atlantis", which is not in districts.geojson (value: "atlantis")',
    );
  });
});

describe('missing and unreadable files', () => {
  it('reports every missing file without cascading reference errors', () => {
    const files = syntheticCityPackFiles({ id: 'halfville', airStations: 2 });
    const sources = {
      'city.json': { text: files['city.json'] },
      'stations.json': { text: files['stations.json'] },
      'devices.json': { missing: true },
      'districts.geojson': { missing: true },
      'waterways.geojson': { readError: 'EACCES: permission denied' },
    } satisfies CityPackSources;
    const result = buildCityPack(sources);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error.map((e) => [e.file, e.code])).toEqual([
      ['devices.json', 'file_missing'],
      ['districts.geojson', 'file_missing'],
      ['waterways.geojson', 'file_unreadable'],
    ]);
  });

  it('reports a folder that does not exist as five missing files', async () => {
    const result = await loadCityPack(path.join(tmpdir(), 'cnx-no-such-city-pack'));
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error.every((e) => e.code === 'file_missing')).toBe(true);
    if (!result.ok) expect(result.error).toHaveLength(5);
  });

  it('reports the wrong top-level shape with a path', () => {
    const files = syntheticCityPackFiles({ id: 'shapeville', airStations: 1 });
    const result = buildCityPack({
      'city.json': { text: files['city.json'] },
      'stations.json': { text: '[]' },
      'devices.json': { text: files['devices.json'] },
      'districts.geojson': { text: files['districts.geojson'] },
      'waterways.geojson': { text: files['waterways.geojson'] },
    });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error.map((e) => [e.file, e.path, e.code])).toEqual([
      ['stations.json', '', 'schema_invalid'],
      ['devices.json', '/devices/0/stationId', 'unknown_station'],
    ]);
  });
});
