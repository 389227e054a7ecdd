/**
 * Every city pack in cities/ (issue 12: "another city is another folder of data"): the same rules for
 * each, so a second city cannot drift from the first. City-specific facts live in chiang-mai.test.ts.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { type CityPack, loadCityPack, locateOnLine, pointInPolygon, REPO_CITIES_DIR } from '../src/index';

const PACK_IDS = readdirSync(REPO_CITIES_DIR, { withFileTypes: true })
  .filter((e) => e.isDirectory() && existsSync(path.join(REPO_CITIES_DIR, e.name, 'city.json')))
  .map((e) => e.name)
  .sort();
const THAI = /[\u0E00-\u0E7F]/;

const packs = new Map<string, CityPack>();
beforeAll(async () => {
  for (const id of PACK_IDS) {
    const r = await loadCityPack(path.join(REPO_CITIES_DIR, id));
    if (!r.ok) throw new Error(`${id}: ${JSON.stringify(r.error, null, 2)}`);
    packs.set(id, r.value);
  }
});

it('the repository holds at least two city packs', () => {
  expect(PACK_IDS.length).toBeGreaterThanOrEqual(2);
});

it('station and device ids are unique across cities, each city with its own prefix', () => {
  const ids = [...packs.values()].flatMap((p) => [...p.stations.map((s) => s.id), ...p.devices.map((d) => d.id)]);
  expect(new Set(ids).size).toBe(ids.length);
  const prefixes = [...packs.values()].map((p) => new Set(p.stations.map((s) => s.id.split('-')[0])));
  for (const set of prefixes) expect(set.size).toBe(1);
  expect(new Set(prefixes.map((s) => [...s][0])).size).toBe(prefixes.length);
});

describe.each(PACK_IDS)('city pack %s', (id) => {
  const pack = () => packs.get(id)!;

  it('loads clean: its folder is its id and the only warnings are placeholder levels', () => {
    expect(pack().city.id).toBe(id);
    expect(new Set(pack().warnings.map((w) => w.code))).toEqual(
      new Set(pack().stations.some((s) => s.kind === 'canal') ? ['placeholder_levels'] : []),
    );
  });

  it('names the city, its stations, districts and waterways in Thai and English', () => {
    const { city, stations, districtById, waterways } = pack();
    expect(city.name.th).toMatch(THAI);
    expect(city.name.en).not.toMatch(THAI);
    for (const s of stations) expect([s.name.th, s.name.en], s.id).toEqual([expect.stringMatching(THAI), s.name.en]);
    for (const d of districtById.values()) expect(d.name.th, d.id).toMatch(THAI);
    for (const w of waterways.features) expect(w.properties.name_th, w.properties.id).toMatch(THAI);
  });

  it('says where its shapes and coordinates come from and under which licence', () => {
    const { city } = pack();
    const covered = new Set((city.sources ?? []).flatMap((s) => s.files));
    for (const f of ['districts.geojson', 'waterways.geojson', 'stations.json']) expect(covered, f).toContain(f);
    for (const s of city.sources ?? []) expect(s.licence).toMatch(/^[A-Za-z0-9.+-]+$/);
    expect(city.dataNotes).toMatch(/approximate/i);
    const note = (f: string) =>
      (JSON.parse(readFileSync(path.join(REPO_CITIES_DIR, id, f), 'utf8')) as { note?: string }).note;
    expect(note('districts.geojson')).toMatch(/hand/);
    expect(note('waterways.geojson')).toMatch(/hand/);
  });

  it('puts every station inside exactly one district, and districts never overlap', () => {
    const { districts, stations, city } = pack();
    const inside = (p: { lat: number; lon: number }) =>
      districts.features.filter((f) => pointInPolygon(p, f.geometry.coordinates)).map((f) => f.properties.id);
    for (const s of stations) expect(inside(s.location), s.id).toEqual([s.district]);
    // A 120 x 120 grid over the service area: no point lies in two districts.
    const [west, south, east, north] = city.bbox;
    let covered = 0;
    for (let i = 0; i <= 120; i++) {
      for (let j = 0; j <= 120; j++) {
        const p = { lon: west + ((east - west) * (i + 0.37)) / 121, lat: south + ((north - south) * (j + 0.41)) / 121 };
        const hits = inside(p);
        expect(hits.length, `${p.lat},${p.lon} in ${hits}`).toBeLessThanOrEqual(1);
        covered += hits.length;
      }
    }
    expect(covered).toBeGreaterThan(100);
  });

  it('gives every device a cadence and every station a device', () => {
    const { devices, stations } = pack();
    for (const d of devices) expect(d.intervalS, d.id).toBeGreaterThan(0);
    for (const s of stations)
      expect(
        devices.some((d) => d.stationId === s.id),
        s.id,
      ).toBe(true);
  });

  it('lists its water stations upstream to downstream along their waterway, and names their page', () => {
    const { stations, flowOrder, waterways, city } = pack();
    const canal = stations.filter((s) => s.kind === 'canal');
    if (canal.length === 0) return;
    expect(city.waterwayPage?.name.th).toMatch(THAI);
    expect(flowOrder.map((f) => f.stationId).sort()).toEqual(canal.map((s) => s.id).sort());
    for (const f of flowOrder) expect(f.waterway, f.stationId).not.toBeNull();
    // Independently: the distance along the line (drawn in the direction of flow) never decreases.
    const line = (wid: string) => waterways.features.find((w) => w.properties.id === wid)!.geometry.coordinates;
    const along = flowOrder.map((f) => locateOnLine(pack().stationById.get(f.stationId)!.location, line(f.waterway!)));
    for (const a of along) expect(a!.offsetM).toBeLessThan(300);
    for (let i = 1; i < along.length; i++) {
      if (flowOrder[i]!.waterway === flowOrder[i - 1]!.waterway)
        expect(along[i]!.alongM).toBeGreaterThan(along[i - 1]!.alongM);
    }
  });
});
