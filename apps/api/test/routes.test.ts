import { hourStart, nowcastAt, overallAqi, rolling24hMean, roundMetric } from '@cnx/domain';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_KEY, HOUR, MIN, NOW, seedReadings, type TestApp, testApp } from './helpers';

let t: TestApp;
beforeAll(async () => {
  t = await testApp();
});
afterAll(async () => {
  await t?.close();
});

const get = async (url: string, headers: Record<string, string> = {}) => {
  const res = await t.app.inject({ url, headers });
  // biome-ignore lint/suspicious/noExplicitAny: response bodies are checked field by field below
  const body: any = String(res.headers['content-type'] ?? '').includes('json') ? res.json() : res.body;
  return { res, body };
};

describe('stations', () => {
  it('lists every station with status, and filters by kind, district, bbox and ids', async () => {
    const { res, body } = await get('/v1/stations');
    expect(res.statusCode).toBe(200);
    expect(body.meta.count).toBe(t.pack.stations.length);
    const old1 = body.data.find((s: { id: string }) => s.id === 'cm-air-oldcity-01');
    expect(old1.status).toMatchObject({ lastSeen: '2025-03-10T05:20:00.000Z', online: true, ageSeconds: 600 });
    // 144 readings in 24 h (every 10 min), one flagged spike and one humidity: only the spike is
    // excluded (humidity annotates: docs/qc.md).
    expect(old1.status.qc).toEqual({
      windowHours: 24,
      readings: 144,
      flagged: 2,
      flaggedShare: 0.0139, // 2 / 144 at DECIMALS.share (issue 14)
      excluded: 1,
      excludedShare: 0.0069, // 1 / 144
    });
    expect(old1.devices).toEqual([{ id: 'cm-air-oldcity-01-pms', model: 'pms5003', transport: 'mqtt' }]);
    const silent = body.data.find((s: { id: string }) => s.id === 'cm-air-cmu-01');
    expect(silent.status).toMatchObject({ lastSeen: null, online: false });

    const canal = (await get('/v1/stations?kind=canal')).body;
    expect(canal.data.every((s: { kind: string }) => s.kind === 'canal')).toBe(true);
    expect(canal.data[0].canal).toMatchObject({ source: 'placeholder' });
    const oldCity = (await get('/v1/stations?district=old-city')).body;
    expect(oldCity.data.map((s: { id: string }) => s.id)).toEqual([
      'cm-air-oldcity-01',
      'cm-air-oldcity-02',
      'cm-air-oldcity-03',
      'cm-air-oldcity-04',
    ]);
    // A box around the old city (inside the moat).
    const boxed = (await get('/v1/stations?bbox=98.978,18.783,98.9935,18.797')).body;
    expect(boxed.data.map((s: { id: string }) => s.id)).toContain('cm-air-oldcity-01');
    expect(boxed.data.every((s: { location: { lon: number } }) => s.location.lon <= 98.9935)).toBe(true);
    const ids = (await get('/v1/stations?station=cm-canal-sriphum,cm-air-nimman-01')).body;
    expect(ids.data.map((s: { id: string }) => s.id)).toEqual(['cm-air-nimman-01', 'cm-canal-sriphum']);
  });

  it('answers 404 for unknown stations and districts, 400 for a bad bbox', async () => {
    expect((await get('/v1/stations/cm-air-nowhere-01')).res.statusCode).toBe(404);
    const { res, body } = await get('/v1/stations?district=atlantis');
    expect(res.statusCode).toBe(404);
    expect(body.error).toMatchObject({ code: 'district_not_found' });
    expect(body.error.details[0]).toMatchObject({ in: 'query', parameter: 'district' });
    const bad = await get('/v1/stations?bbox=99,18,98,19');
    expect(bad.res.statusCode).toBe(400);
    expect(bad.body.error.details[0]).toMatchObject({ parameter: 'bbox' });
    expect((await get('/v1/stations/cm-air-oldcity-01')).body.id).toBe('cm-air-oldcity-01');
  });

  it('sends ETag and Cache-Control, and 304 for a matching If-None-Match', async () => {
    const first = await get('/v1/stations?kind=air');
    expect(first.res.headers['cache-control']).toBe('public, max-age=30');
    const tag = first.res.headers.etag as string;
    expect(tag).toMatch(/^W\//);
    const again = await t.app.inject({ url: '/v1/stations?kind=air', headers: { 'if-none-match': tag } });
    expect(again.statusCode).toBe(304);
    expect(again.body).toBe('');
  });
});

describe('latest readings with AQI', () => {
  it('gives hour1, rolling24h and NowCast from corrected PM2.5, and both AQIs', async () => {
    const { body } = await get('/v1/stations/cm-air-oldcity-01/latest');
    expect(body.latest.ts).toBe('2025-03-10T05:20:00.000Z');
    const air = body.air;
    expect(air.pm25.basis).toBe('pm25_corrected');
    // Expected values from the domain functions over the same hourly means (spike-flagged reading left out).
    const readings = seedReadings(t.pack).filter(
      (r) => r.stationId === 'cm-air-oldcity-01' && r.ts >= hourStart(NOW) - 23 * HOUR && !r.qc.includes('spike'),
    );
    const hours = new Map<number, number[]>();
    for (const r of readings) {
      const h = hourStart(r.ts);
      hours.set(h, [...(hours.get(h) ?? []), r.corrections[0]!.value]);
    }
    const hourly = [...hours].map(([h, v]) => ({ hourStart: h, mean: v.reduce((a, b) => a + b) / v.length }));
    const rolling = rolling24hMean(hourly, NOW);
    const nc = nowcastAt(hourly, NOW, 'pm25')!;
    // Shown at PM2.5's precision (issue 14: one decimal), computed from the unrounded hourly means.
    expect(air.pm25.rolling24h.value).toBe(roundMetric('pm25', rolling.value!));
    expect(air.pm25.rolling24h).toMatchObject({
      valid: true,
      hoursObserved: 24,
      windowEnd: '2025-03-10T06:00:00.000Z',
    });
    expect(air.pm25.nowcast.value).toBe(nc.value);
    expect(air.pm25.hour1).toMatchObject({ hourStart: '2025-03-10T05:00:00.000Z', count: 3 });
    const th = overallAqi('th-pcd-2023', { pm25: rolling.value!, pm10: air.pm10.rolling24h.value })!;
    expect(air.aqi.th).toMatchObject({ scheme: 'th-pcd-2023', value: th.overall.value, averaging: 'rolling24h' });
    expect(air.aqi.th.label.th.length).toBeGreaterThan(0);
    expect(air.aqi.us).toMatchObject({ scheme: 'us-epa-2024', averaging: 'nowcast', convention: 'standard' });
    expect(air.aqi.us.advice.general.en.length).toBeGreaterThan(0);
  });

  it('lists latest for all stations (filterable); silent stations have no AQI values', async () => {
    const { body } = await get('/v1/latest?kind=air');
    expect(body.meta.qcExcluded).toEqual(['range', 'spike', 'stuck', 'future', 'stale', 'seq_duplicate']);
    const silent = body.data.find((d: { station: { id: string } }) => d.station.id === 'cm-air-cmu-01');
    expect(silent.latest).toBeNull();
    expect(silent.air.aqi).toEqual({ th: null, us: null, now: null, band: null });
    expect(silent.air.pm25.rolling24h).toMatchObject({ value: null, valid: false, hoursObserved: 0 });
    const canal = (await get('/v1/latest?kind=canal')).body.data[0];
    expect(canal.air).toBeUndefined();
  });
});

describe('series and raw readings', () => {
  const base = '/v1/stations/cm-air-oldcity-01';

  it('aggregates hourly with coverage and QC counts; usable/exclude/include/only-flagged differ as they should', async () => {
    const q = 'from=2025-03-10T02:00:00Z&to=2025-03-10T05:00:00Z&interval=1h';
    // The default is the quality policy: the humidity-flagged reading stays, the spike goes.
    const usable = (await get(`${base}/series?${q}`)).body;
    expect(usable.meta).toMatchObject({ interval: '1h', qc: 'usable', metric: 'pm25', unit: 'ug/m3', count: 3 });
    expect(usable.data.map((b: { count: number; flagged: number }) => [b.count, b.flagged])).toEqual([
      [6, 0],
      [5, 1],
      [6, 0],
    ]);
    // Coverage counts the device at its cadence in the city pack (60 s): 6 of 60 an hour.
    expect(usable.meta.expectedIntervalSeconds).toBe(60);
    const excl = (await get(`${base}/series?${q}&qc=exclude-flagged`)).body;
    expect(excl.meta).toMatchObject({ qc: 'exclude-flagged', count: 3 });
    expect(excl.data.map((b: { start: string }) => b.start)).toEqual([
      '2025-03-10T02:00:00.000Z',
      '2025-03-10T03:00:00.000Z',
      '2025-03-10T04:00:00.000Z',
    ]);
    // 02:30 (3 h before now) is humidity-flagged, 03:30 spike-flagged: each bucket keeps 5 of 6.
    expect(excl.data.map((b: { count: number; flagged: number }) => [b.count, b.flagged])).toEqual([
      [5, 1],
      [5, 1],
      [6, 0],
    ]);
    expect(excl.data[2].coverage).toEqual({ expectedCount: 60, observedCount: 6, percentComplete: 10 });
    const incl = (await get(`${base}/series?${q}&qc=include`)).body;
    expect(incl.data.map((b: { count: number }) => b.count)).toEqual([6, 6, 6]);
    // include keeps everything; flagged counts what the policy would leave out (the spike, not humidity).
    expect(incl.data.map((b: { flagged: number }) => b.flagged)).toEqual([0, 1, 0]);
    const only = (await get(`${base}/series?${q}&qc=only-flagged`)).body;
    expect(only.data.map((b: { count: number }) => b.count)).toEqual([1, 1]);
    const corrected = (await get(`${base}/series?${q}&metric=pm25_corrected&qc=include`)).body;
    expect(corrected.meta.metric).toBe('pm25_corrected');
    expect(corrected.data[2].mean).toBeCloseTo(incl.data[2].mean * 0.6, 0);
  });

  it('picks the finest interval that fits (auto) and daily buckets are local (Asia/Bangkok) days', async () => {
    const day = (await get(`${base}/series?from=2025-03-09T00:00:00Z&to=2025-03-10T05:00:00Z`)).body;
    expect(day.meta.interval).toBe('5m');
    const days = (await get(`${base}/series?from=2025-03-08&to=2025-03-11&interval=1d&qc=include`)).body;
    expect(days.data.map((b: { start: string }) => b.start)).toEqual([
      '2025-03-08T17:00:00.000Z',
      '2025-03-09T17:00:00.000Z',
    ]);
    const year = (await get(`${base}/series?from=2024-03-01&to=2025-03-01`)).body;
    expect(year.meta.interval).toBe('1h');
  });

  it('refuses an interval that would exceed the point limit, saying what is allowed', async () => {
    const { res, body } = await get(`${base}/series?from=2024-01-01&to=2025-01-01&interval=5m`);
    expect(res.statusCode).toBe(400);
    expect(body.error.code).toBe('range_too_large');
    expect(body.error.details[0]).toMatchObject({ parameter: 'interval' });
    expect(body.error.details[0].allowed).toMatch(/interval=1h or 1d/);
    expect(body.error.message).toMatch(/10000/);
  });

  it('pages raw readings with a cursor and returns each reading once', async () => {
    const q = 'from=2025-03-10T00:00:00Z&to=2025-03-10T05:30:00Z&limit=7';
    const seen: string[] = [];
    let url: string | null = `${base}/readings?${q}`;
    let pages = 0;
    while (url) {
      const page: { data: { ts: string }[]; meta: { next: string | null } } = (await get(url)).body;
      seen.push(...page.data.map((r) => r.ts));
      url = page.meta.next;
      pages++;
    }
    expect(seen).toHaveLength(33);
    expect(new Set(seen).size).toBe(33);
    expect(pages).toBe(5);
    const flagged = (await get(`${base}/readings?${q.replace('limit=7', 'limit=100')}&qc=only-flagged`)).body;
    expect(flagged.data.map((r: { qc: string[] }) => r.qc)).toEqual([['humidity'], ['spike']]);
    const projected = (await get(`${base}/readings?${q}&metrics=pm25`)).body;
    expect(Object.keys(projected.data[0].values)).toEqual(['pm25']);
  });

  it('rejects cursors it did not issue and raw ranges over the limit', async () => {
    const forged = Buffer.from(JSON.stringify([NOW, 'chiang-mai', 'cm-air-oldcity-02', 'x'])).toString('base64url');
    const { res, body } = await get(`${base}/readings?cursor=${forged}`);
    expect(res.statusCode).toBe(400);
    expect(body.error.code).toBe('invalid_cursor');
    expect((await get(`${base}/readings?cursor=AAAA`)).body.error.code).toBe('invalid_cursor');
    const long = await get(`${base}/readings?from=2025-01-01&to=2025-03-01`);
    expect(long.res.statusCode).toBe(400);
    expect(long.body.error.code).toBe('range_too_large');
    expect(long.body.error.details[0].allowed).toMatch(/at most 31 days/);
  });

  it('caches past series longer than recent ones', async () => {
    const past = await get(`${base}/series?from=2025-03-09&to=2025-03-10`);
    expect(past.res.headers['cache-control']).toBe('public, max-age=3600');
    expect(past.res.headers.link).toContain('rel="license"');
    const recent = await get(`${base}/series`);
    expect(recent.res.headers['cache-control']).toBe('public, max-age=60');
  });
});

describe('districts and canal', () => {
  it('summarises districts with worst station, AQI and trend', async () => {
    const { body } = await get('/v1/districts');
    const old = body.data.find((d: { district: { id: string } }) => d.district.id === 'old-city');
    expect(old.stations).toEqual({ air: 4, canal: 0, online: 2 });
    expect(old.worstStation.id).toBe('cm-air-oldcity-02'); // seeded 10 µg/m³ dirtier than -01
    expect(old.aqi.th.value).toBe(old.worstStation.aqi);
    // The seed falls by 1 µg/m³ per hour raw (0.6 corrected): below the ±2 dead band.
    expect(old.trend.direction).toBe('steady');
    expect(old.trend.ratePerHour).toBeLessThan(0);
    const thaPhae = body.data.find((d: { district: { id: string } }) => d.district.id === 'tha-phae');
    expect(thaPhae.canal).toEqual({ worstState: 'warning', stationId: 'cm-canal-sriphum' });
    const detail = (await get('/v1/districts/old-city')).body;
    expect(detail.data.stations).toHaveLength(4);
    expect((await get('/v1/districts/nowhere')).res.statusCode).toBe(404);
  });

  it('gives canal level state, rate of rise and a partial water-quality class', async () => {
    const { body } = await get('/v1/canal/cm-canal-sriphum');
    expect(body.level.state).toBe('warning');
    expect(body.rise.mPerHour).toBeCloseTo(0.4, 2);
    expect(body.rise.risingFast).toBe(true);
    // estimateRise: 12 five-minute readings over 55 minutes of the hour, rounded to the millimetre.
    expect(body.rise).toMatchObject({
      trend: 'rising_fast',
      reason: null,
      samples: 12,
      spanMinutes: 55,
      windowMinutes: 60,
      warningMPerHour: 0.3,
    });
    expect(body.rise.uncertaintyMPerHour).toBeGreaterThanOrEqual(0);
    expect(body.rise.uncertaintyMPerHour).toBeLessThan(0.01);
    expect(body.waterQuality).toMatchObject({ class: 4, partial: true, limitedBy: ['do'], basis: ['do', 'ph'] });
    expect(body.levels.source).toBe('placeholder');
    const all = (await get('/v1/canal')).body;
    expect(all.meta.count).toBe(5);
    const padaet = all.data.find((c: { station: { id: string } }) => c.station.id === 'cm-canal-padaet');
    expect(padaet.level).toBeNull();
    // No readings: no rate (not a bare slope of whatever there is), and never "rising fast".
    expect(padaet.rise).toEqual({
      mPerHour: null,
      uncertaintyMPerHour: null,
      trend: 'unknown',
      reason: 'too_few_samples',
      samples: 0,
      spanMinutes: 0,
      windowMinutes: 60,
      warningMPerHour: 0.3,
      risingFast: false,
    });
    expect((await get('/v1/canal/cm-air-oldcity-01')).res.statusCode).toBe(404);
  });
});

describe('meta, admin keys, CORS, request ids', () => {
  it('serves meta with licence and limits', async () => {
    const { body } = await get('/v1/meta');
    expect(body.licence).toEqual({
      id: 'CC-BY-4.0',
      url: 'https://creativecommons.org/licenses/by/4.0/',
      attribution: 'cnx-sense contributors, Chiang Mai city pack',
    });
    expect(body.limits.maxPoints).toBe(10_000);
    expect(body.aqiSchemes['th-pcd-2023']).toHaveLength(5);
  });

  it('requires an admin key for admin routes, in either header', async () => {
    const none = await t.app.inject({ method: 'POST', url: '/admin/cache/flush' });
    expect(none.statusCode).toBe(401);
    expect(none.headers['www-authenticate']).toMatch(/Bearer/);
    expect(none.json().error.code).toBe('unauthorized');
    const wrong = await t.app.inject({ method: 'GET', url: '/admin/config', headers: { 'x-api-key': 'nope' } });
    expect(wrong.statusCode).toBe(401);
    const ok = await t.app.inject({
      method: 'POST',
      url: '/admin/cache/flush',
      headers: { authorization: `Bearer ${ADMIN_KEY}` },
    });
    expect(ok.statusCode).toBe(200);
    expect(ok.json()).toEqual({ flushed: expect.any(Number) });
    const cfg = await t.app.inject({ url: '/admin/config', headers: { 'x-api-key': ADMIN_KEY } });
    expect(cfg.statusCode).toBe(200);
    expect(JSON.stringify(cfg.json())).not.toContain(ADMIN_KEY);
  });

  it('allows cross-origin reads but not cross-origin admin calls', async () => {
    const read = await t.app.inject({ url: '/v1/meta', headers: { origin: 'https://example.org' } });
    expect(read.headers['access-control-allow-origin']).toBe('*');
    expect(read.headers['access-control-expose-headers']).toContain('x-ratelimit-remaining');
    const preflight = await t.app.inject({
      method: 'OPTIONS',
      url: '/admin/cache/flush',
      headers: { origin: 'https://example.org', 'access-control-request-method': 'POST' },
    });
    expect(preflight.headers['access-control-allow-methods']).not.toContain('POST');
  });

  it('echoes a safe X-Request-Id and makes one up otherwise', async () => {
    const mine = await t.app.inject({ url: '/health', headers: { 'x-request-id': 'abc-123' } });
    expect(mine.headers['x-request-id']).toBe('abc-123');
    const hostile = await t.app.inject({ url: '/health', headers: { 'x-request-id': 'a b"<script>' } });
    expect(hostile.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('answers unknown routes with the error shape', async () => {
    const { res, body } = await get('/v1/nothing/here');
    expect(res.statusCode).toBe(404);
    expect(body.error.code).toBe('not_found');
    expect(body.error.message).toMatch(/openapi/);
  });

  it('exposes Prometheus metrics and health', async () => {
    const m = await get('/metrics');
    expect(m.res.headers['content-type']).toMatch(/^text\/plain/);
    expect(m.body).toMatch(/api_http_requests_total\{method="GET",route="\/v1\/stations",status="200"\} \d+/);
    const h = await get('/health');
    expect(h.body).toMatchObject({ status: 'ok', checks: { store: { ok: true }, bus: { ok: true } } });
  });
});

export { MIN };
