import { describe, expect, it } from 'vitest';
import {
  buildCityPack,
  type CityPackSources,
  loadCityPack,
  resolveCityDir,
  syntheticCityPackFiles,
} from '../src/index';

type Json = Record<string, unknown>;

function sources(edit: (stations: Json[]) => void): CityPackSources {
  const files = syntheticCityPackFiles({ id: 'metaville', airStations: 2, canalStations: 1 });
  const doc = JSON.parse(files['stations.json']) as { stations: Json[] };
  edit(doc.stations);
  const text = { ...files, 'stations.json': JSON.stringify(doc) };
  return {
    'city.json': { text: text['city.json'] },
    'stations.json': { text: text['stations.json'] },
    'devices.json': { text: text['devices.json'] },
    'districts.geojson': { text: text['districts.geojson'] },
    'waterways.geojson': { text: text['waterways.geojson'] },
  };
}

/** Issue 14: provider, owner and instrument (grade and sensor) of every station, as OpenAQ users expect. */
describe('station metadata', () => {
  it('every station of both shipped packs names its provider, owner and instrument', async () => {
    for (const id of ['chiang-mai', 'lampang']) {
      const loaded = await loadCityPack(resolveCityDir(id));
      expect(loaded.ok).toBe(true);
      if (!loaded.ok) return;
      for (const s of loaded.value.stations) {
        expect(s.provider?.name, s.id).toBeTruthy();
        expect(s.owner?.name, s.id).toBeTruthy();
        expect(['reference', 'low-cost']).toContain(s.instrument?.grade);
        expect(s.instrument?.model, s.id).toBeTruthy();
      }
    }
  });

  it('refuses a station without them, an unknown grade, an empty model or a non-https url', () => {
    const result = buildCityPack(
      sources((s) => {
        delete s[0]!.instrument;
        (s[1]!.instrument as Json).grade = 'cheap';
        (s[2]!.instrument as Json).model = '';
        s[2]!.owner = { name: 'Someone', url: 'http://example.org' };
        delete s[1]!.provider;
      }),
    );
    expect(result.ok).toBe(false);
    if (result.ok) return;
    const problems = result.error.map((e) => `${e.path} ${e.code}`);
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^\/stations\/0(\/instrument)? /),
        expect.stringMatching(/^\/stations\/1\/instrument\/grade /),
        expect.stringMatching(/^\/stations\/1(\/provider)? /),
        expect.stringMatching(/^\/stations\/2\/instrument\/model /),
        expect.stringMatching(/^\/stations\/2\/owner\/url /),
      ]),
    );
  });
});
