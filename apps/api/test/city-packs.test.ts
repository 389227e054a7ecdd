/**
 * The public routes over a seeded store, for every city pack in cities/ (issue 12: another city is
 * another folder of data): names, districts, the time zone, the water stations and their order all
 * come from the pack, and no answer names another city.
 */
import { readdirSync } from 'node:fs';
import { type CityPack, REPO_CITIES_DIR } from '@cnx/city-pack';
import { type Reading, timeZoneOffsetMs } from '@cnx/domain';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cityPack, HOUR, MIN, NOW, type TestApp, testApp } from './helpers';

const PACK_IDS = readdirSync(REPO_CITIES_DIR, { withFileTypes: true })
  .filter((e) => e.isDirectory())
  .map((e) => e.name)
  .sort();

/** 30 h of air readings at the pack's first three air stations; 2 h of a level rising 0.2 m/h at its most upstream water station. */
function seed(pack: CityPack): Reading[] {
  const out: Reading[] = [];
  const deviceOf = (stationId: string) => pack.devices.find((d) => d.stationId === stationId)!.id;
  const air = pack.stations.filter((s) => s.kind === 'air').slice(0, 3);
  for (const [i, s] of air.entries()) {
    for (let t = NOW - 30 * HOUR; t < NOW; t += 10 * MIN) {
      const pm25 = 20 + 10 * i + (NOW - t) / HOUR;
      out.push({
        city: pack.city.id,
        stationId: s.id,
        deviceId: deviceOf(s.id),
        ts: t,
        seq: out.length,
        values: { pm1: pm25 * 0.7, pm25, pm10: pm25 * 1.4, temperature: 30, humidity: 60 },
        corrections: [],
        qc: [],
      });
    }
  }
  const water = pack.flowOrder[0];
  if (water) {
    const levels = pack.stationById.get(water.stationId)!.canal!;
    for (let t = NOW - 2 * HOUR; t < NOW; t += 5 * MIN) {
      const level = levels.warningLevelM - 0.35 + ((t - (NOW - 2 * HOUR)) / HOUR) * 0.2; // ends just above warning
      out.push({
        city: pack.city.id,
        stationId: water.stationId,
        deviceId: deviceOf(water.stationId),
        ts: t,
        seq: out.length,
        values: { water_level: Math.round(level * 1000) / 1000, do: 3.5, ph: 7.2 },
        corrections: [],
        qc: [],
      });
    }
  }
  return out;
}

describe.each(PACK_IDS)('the API over the %s city pack', (id) => {
  let t: TestApp;
  let pack: CityPack;
  let others: string[];
  const bodies: string[] = [];
  // biome-ignore lint/suspicious/noExplicitAny: response bodies are checked field by field
  const get = async (url: string): Promise<any> => {
    const res = await t.app.inject({ url });
    expect(res.statusCode, url).toBe(200);
    bodies.push(res.body);
    return res.json();
  };

  beforeAll(async () => {
    t = await testApp({}, true, () => undefined, { id, seed });
    pack = t.pack;
    const all = await Promise.all(PACK_IDS.filter((x) => x !== id).map(cityPack));
    others = all.flatMap((p) => [
      p.city.name.th,
      p.city.name.en,
      ...p.waterways.features.flatMap((w) => [w.properties.name_th, w.properties.name_en]),
    ]);
  });
  afterAll(async () => {
    await t?.close();
  });

  it("describes the pack's city: name, time zone, licence line", async () => {
    const meta = await get('/v1/meta');
    expect(meta.city).toMatchObject({ id, name: pack.city.name, timezone: pack.city.timezone });
    expect(meta.licence.attribution).toBe(pack.city.attribution);
  });

  it('lists exactly the stations and districts of the pack, with their names', async () => {
    const stations = await get('/v1/stations');
    expect(stations.data.map((s: { id: string }) => s.id).sort()).toEqual(pack.stations.map((s) => s.id).sort());
    for (const s of stations.data) expect(s.name).toEqual(pack.stationById.get(s.id)!.name);
    const districts = await get('/v1/districts');
    expect(districts.data.map((d: { district: { id: string } }) => d.district.id).sort()).toEqual(
      [...pack.districtById.keys()].sort(),
    );
    for (const d of districts.data) expect(d.district.name).toEqual(pack.districtById.get(d.district.id)!.name);
  });

  it('computes the AQI of the seeded stations and leaves the others without data', async () => {
    const latest = await get('/v1/latest');
    const seeded = pack.stations.filter((s) => s.kind === 'air').slice(0, 3);
    for (const s of seeded) {
      const row = latest.data.find((x: { station: { id: string } }) => x.station.id === s.id);
      expect(row.air.aqi.th, s.id).not.toBeNull();
    }
  });

  it('lists the water stations upstream to downstream, against their own levels', async () => {
    const canal = await get('/v1/canal');
    expect(canal.data.map((c: { station: { id: string } }) => c.station.id)).toEqual(
      pack.flowOrder.map((f) => f.stationId),
    );
    for (const c of canal.data) {
      const levels = pack.stationById.get(c.station.id)!.canal!;
      expect(c.levels).toMatchObject(levels);
    }
    expect(canal.data[0].level.state).toBe('warning');
    expect(canal.data[0].rise.mPerHour).toBeCloseTo(0.2, 2);
  });

  it("buckets days at the city's local midnight", async () => {
    const s = pack.stations.find((x) => x.kind === 'air')!;
    const days = await get(`/v1/stations/${s.id}/series?from=2025-03-08T00:00:00Z&to=2025-03-11T00:00:00Z&interval=1d`);
    const offset = timeZoneOffsetMs(pack.city.timezone, NOW);
    expect(days.data.length).toBeGreaterThan(0);
    for (const b of days.data) expect((Date.parse(b.start) + offset) % (24 * HOUR), b.start).toBe(0);
  });

  it("exports the pack's stations as GeoJSON", async () => {
    const geo = await get('/v1/exports/readings?from=2025-03-09T00:00:00Z&to=2025-03-10T05:00:00Z&format=geojson');
    const ids = new Set<string>(geo.features.map((f: { properties: { station: string } }) => f.properties.station));
    for (const sid of ids) expect(pack.stationById.has(sid), sid).toBe(true);
    for (const f of geo.features) {
      const { lon, lat } = pack.stationById.get(f.properties.station)!.location;
      expect(f.geometry.coordinates).toEqual([lon, lat]);
    }
    expect(ids.size).toBeGreaterThan(0);
  });

  it('names no other city in any answer', () => {
    const all = bodies.join('\n');
    for (const word of others) expect(all, word).not.toContain(word);
  });
});
