import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HOUR, MIN, NOW, type TestApp, testApp } from './helpers';

let t: TestApp;
beforeAll(async () => {
  t = await testApp({ API_RATE_LIMIT_MAX: '100000' });
});
afterAll(async () => {
  await t?.close();
});

const get = async (url: string) => {
  const res = await t.app.inject({ url });
  return { status: res.statusCode, body: res.json() };
};

/** Great-circle distance, metres, written out here so the test does not trust the code it checks. */
function haversine(a: { lat: number; lon: number }, b: { lat: number; lon: number }): number {
  const r = Math.PI / 180;
  const s =
    Math.sin(((b.lat - a.lat) * r) / 2) ** 2 +
    Math.cos(a.lat * r) * Math.cos(b.lat * r) * Math.sin(((b.lon - a.lon) * r) / 2) ** 2;
  return 2 * 6_371_008.8 * Math.asin(Math.sqrt(s));
}

/** Issue 14 item 5: the metadata and list parameters users of OpenAQ expect. */
describe('open-data metadata', () => {
  it('every station names its provider, owner and instrument, and its first and last reading from the store', async () => {
    const { body } = await get('/v1/stations');
    expect(body.data).toHaveLength(t.pack.stations.length);
    for (const s of body.data) {
      expect(s.provider.name).toBe('cnx-sense');
      expect(s.owner.name).toBe('Chiang Mai City Municipality');
      expect(['reference', 'low-cost']).toContain(s.instrument.grade);
    }
    const air = body.data.find((s: { id: string }) => s.id === 'cm-air-oldcity-01');
    expect(air.instrument).toEqual({ grade: 'low-cost', manufacturer: 'Plantower', model: 'PMS5003' });
    // seedReadings: every 10 minutes from 30 h before NOW up to NOW.
    expect(air.firstReading).toBe(new Date(NOW - 30 * HOUR).toISOString());
    expect(air.lastReading).toBe(new Date(NOW - 10 * MIN).toISOString());
    const canal = (await get('/v1/stations/cm-canal-sriphum')).body;
    expect(canal.firstReading).toBe(new Date(NOW - 2 * HOUR).toISOString());
    expect(canal.lastReading).toBe(new Date(NOW - 5 * MIN).toISOString());
    const silent = body.data.find((s: { id: string }) => s.id === 'cm-air-cmu-01');
    expect(silent).toMatchObject({ firstReading: null, lastReading: null });
  });

  it('pages lists with limit and page, and counts every match in meta.found (OpenAQ v3)', async () => {
    const all = (await get('/v1/stations')).body;
    expect(all.meta).toMatchObject({ found: 27, limit: 100, page: 1, count: 27 });
    const ids = all.data.map((s: { id: string }) => s.id);
    const p2 = (await get('/v1/stations?limit=5&page=2')).body;
    expect(p2.meta).toMatchObject({ city: 'chiang-mai', found: 27, limit: 5, page: 2, count: 5 });
    expect(p2.data.map((s: { id: string }) => s.id)).toEqual(ids.slice(5, 10));
    const last = (await get('/v1/stations?limit=5&page=6')).body;
    expect(last.meta).toMatchObject({ found: 27, count: 2 });
    const beyond = (await get('/v1/stations?limit=5&page=7')).body;
    expect(beyond).toMatchObject({ meta: { found: 27, count: 0 }, data: [] });
    const latest = (await get('/v1/latest?kind=air&limit=4&page=1')).body;
    expect(latest.meta).toMatchObject({ found: 22, limit: 4, page: 1, count: 4 });
    expect(latest.data).toHaveLength(4);
    for (const bad of ['limit=0', 'limit=1001', 'page=0', 'limit=2.5']) {
      const res = await get(`/v1/stations?${bad}`);
      expect(res.status, bad).toBe(400);
      expect(res.body.error.code).toBe('invalid_request');
      expect(res.body.error.details[0].parameter).toBe(bad.split('=')[0]);
    }
  });

  it('pages the district and canal lists as it pages stations (limit, page, meta.found)', async () => {
    const lists: [string, number, (x: Record<string, { id: string }>) => string][] = [
      ['/v1/districts', t.pack.districtById.size, (d) => d.district!.id],
      ['/v1/canal', t.pack.stations.filter((s) => s.kind === 'canal').length, (c) => c.station!.id],
    ];
    for (const [url, found, id] of lists) {
      expect(found, url).toBeGreaterThan(4);
      const all = (await get(url)).body;
      expect(all.meta, url).toMatchObject({ city: 'chiang-mai', found, limit: 100, page: 1, count: found });
      expect(all.data).toHaveLength(found);
      const p2 = (await get(`${url}?limit=2&page=2`)).body;
      expect(p2.meta, url).toMatchObject({ found, limit: 2, page: 2, count: 2 });
      expect(p2.data.map(id)).toEqual(all.data.slice(2, 4).map(id));
      const last = Math.ceil(found / 2);
      const end = (await get(`${url}?limit=2&page=${last}`)).body;
      expect(end.data.map(id)).toEqual(all.data.slice((last - 1) * 2).map(id));
      expect((await get(`${url}?limit=2&page=${last + 1}`)).body).toMatchObject({
        meta: { found, count: 0 },
        data: [],
      });
      for (const bad of ['limit=0', 'limit=1001', 'page=0', 'limit=2.5', 'kind=air']) {
        const res = await get(`${url}?${bad}`);
        expect([res.status, res.body.error.code, res.body.error.details[0].parameter], `${url}?${bad}`).toEqual([
          400,
          'invalid_request',
          bad.split('=')[0],
        ]);
      }
    }
  });

  it('finds the stations within a radius of a point, nearest first, with their distance', async () => {
    const centre = { lat: 18.7904, lon: 98.9874 }; // cm-air-oldcity-01
    for (const radius of [1, 800, 2500, 25_000]) {
      const { status, body } = await get(`/v1/stations?coordinates=${centre.lat},${centre.lon}&radius=${radius}`);
      expect(status).toBe(200);
      const expected = t.pack.stations
        .map((s) => ({ id: s.id, d: haversine(centre, s.location) }))
        .filter((s) => s.d <= radius)
        .sort((a, b) => a.d - b.d);
      expect(body.data.map((s: { id: string }) => s.id)).toEqual(expected.map((s) => s.id));
      expect(body.data.map((s: { distanceM: number }) => s.distanceM)).toEqual(expected.map((s) => Math.round(s.d)));
      expect(body.meta.found).toBe(expected.length);
    }
    const near = (await get(`/v1/stations?coordinates=${centre.lat},${centre.lon}&radius=800`)).body;
    expect(near.data[0]).toMatchObject({ id: 'cm-air-oldcity-01', distanceM: 0 });
    expect(near.data.length).toBeGreaterThan(1);
    expect(near.data.length).toBeLessThan(27);
    const latest = (await get(`/v1/latest?coordinates=${centre.lat},${centre.lon}&radius=800`)).body;
    expect(latest.data.map((s: { station: { id: string } }) => s.station.id)).toEqual(
      near.data.map((s: { id: string }) => s.id),
    );
    // Without a radius search, no distance.
    expect((await get('/v1/stations?limit=1')).body.data[0].distanceM).toBeUndefined();
  });

  it('refuses a bad radius search with the parameter named', async () => {
    const cases: [string, string][] = [
      ['coordinates=18.79,98.98&radius=25001', 'radius'],
      ['coordinates=18.79,98.98&radius=0', 'radius'],
      ['radius=500', 'coordinates'],
      ['coordinates=18.79,98.98', 'radius'],
      ['coordinates=95,98.98&radius=500', 'coordinates'],
      ['coordinates=18.79&radius=500', 'coordinates'],
      ['coordinates=18.79,98.98&radius=500&bbox=98.95,18.77,99.01,18.81', 'bbox'],
    ];
    for (const [q, parameter] of cases) {
      const res = await get(`/v1/stations?${q}`);
      expect(res.status, q).toBe(400);
      expect(res.body.error.code, q).toBe('invalid_request');
      expect(res.body.error.details[0].parameter, q).toBe(parameter);
    }
  });

  it('states the limits in GET /v1/meta', async () => {
    const { body } = await get('/v1/meta');
    expect(body.limits).toMatchObject({ maxPageLimit: 1000, maxRadiusM: 25_000 });
    expect(body.licence).toMatchObject({
      id: 'CC-BY-4.0',
      attribution: 'cnx-sense contributors, Chiang Mai city pack',
    });
  });
});
