/** Every client method against the real API (ApiServer over a seeded SQLite file, on 127.0.0.1). */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiError, CnxApiClient, createClient, isApiError, type Reading } from '../src/index';
import { ADMIN_KEY, HOUR, type RunningApi, startApi } from './support';

let api: RunningApi;
let client: CnxApiClient;
beforeAll(async () => {
  api = await startApi();
  client = createClient({ baseUrl: api.url });
});
afterAll(async () => {
  await api?.stop();
});

/** Awaits a promise that must reject with an ApiError. */
async function apiError(p: Promise<unknown>): Promise<ApiError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof ApiError) return err;
    throw err;
  }
  throw new Error('expected an ApiError, the call succeeded');
}

describe('JSON operations', () => {
  it('getMeta: city, licence, metrics', async () => {
    const meta = await client.getMeta();
    expect(meta.city.id).toBe('chiang-mai');
    expect(meta.licence.id).toBe('CC-BY-4.0');
    expect(meta.metrics.map((m) => m.id)).toContain('pm25');
  });

  it('getHealth and getMetrics', async () => {
    const health = await client.getHealth();
    expect(health.status).toBe('ok');
    expect(health.checks.store.ok).toBe(true);
    const metrics = await client.getMetrics();
    expect(metrics).toMatch(/^# (HELP|TYPE) /m);
  });

  it('listStations with filters (arrays and tuples become comma lists) and getStation', async () => {
    const air = await client.listStations({ kind: 'air' });
    expect(air.data.length).toBe(22);
    expect(air.data.every((s) => s.kind === 'air')).toBe(true);
    const two = await client.listStations({ station: ['cm-air-oldcity-01', 'cm-air-nimman-01'] });
    expect(two.data.map((s) => s.id).sort()).toEqual(['cm-air-nimman-01', 'cm-air-oldcity-01']);
    const oldCity = await client.listStations({ district: 'old-city' });
    expect(oldCity.data.map((s) => s.id)).toContain('cm-air-oldcity-01');
    const boxed = await client.listStations({ bbox: [98.9, 18.7, 99.1, 18.9] });
    expect(boxed.data.length).toBeGreaterThan(0);

    const station = await client.getStation('cm-air-oldcity-01');
    expect(station.id).toBe('cm-air-oldcity-01');
    expect(station.status.online).toBe(true);
    expect(station.status.lastSeen).not.toBeNull();
  });

  it('listLatest and getStationLatest: AQI, NowCast and the rolling 24 h mean', async () => {
    const latest = await client.listLatest({ kind: 'air', station: ['cm-air-oldcity-01', 'cm-air-nimman-01'] });
    expect(latest.data.map((s) => s.station.id).sort()).toEqual(['cm-air-nimman-01', 'cm-air-oldcity-01']);
    const one = await client.getStationLatest('cm-air-oldcity-01');
    expect(one.station.id).toBe('cm-air-oldcity-01');
    expect(one.latest?.ts).toBe(new Date(api.now - 10 * 60_000).toISOString());
    expect(one.air?.pm25.rolling24h.valid).toBe(true);
    expect(one.air?.aqi.th?.value).toBeGreaterThan(0);
    expect(one.air?.aqi.th?.label.th).toMatch(/\S/);
  });

  it('getStationSeries: hourly buckets with coverage, Dates accepted for from/to', async () => {
    const to = new Date(Math.floor(api.now / HOUR) * HOUR);
    const from = new Date(to.getTime() - 12 * HOUR);
    const series = await client.getStationSeries('cm-air-oldcity-01', { metric: 'pm25', interval: '1h', from, to });
    expect(series.meta.interval).toBe('1h');
    expect(series.data.length).toBe(12);
    const bucket = series.data.find((b) => b.count > 0)!;
    expect(bucket.mean).toBeGreaterThan(0);
    expect(bucket.coverage).toMatchObject({ expectedCount: 60, percentComplete: 10 }); // every 10 min of 1/min
  });

  it('listStationReadings pages and stationReadingPages follows the cursor to the end', async () => {
    const from = new Date(api.now - 30 * HOUR);
    const to = new Date(api.now);
    const first = await client.listStationReadings('cm-air-oldcity-01', { from, to, limit: 50 });
    expect(first.data.length).toBe(50);
    expect(first.meta.nextCursor).toMatch(/\S/);
    const all: Reading[] = [];
    let pages = 0;
    for await (const page of client.stationReadingPages('cm-air-oldcity-01', { from, to, limit: 50 })) {
      pages++;
      all.push(...page.data);
    }
    expect(all.length).toBe(180); // 30 h at one reading per 10 min
    expect(pages).toBe(4);
    expect(new Set(all.map((r) => r.ts)).size).toBe(180);
    expect(all.map((r) => r.ts)).toEqual([...all.map((r) => r.ts)].sort());
  });

  it('listDistricts, getDistrict, listCanalStations, getCanalStation', async () => {
    const districts = await client.listDistricts();
    expect(districts.data.map((d) => d.district.id)).toContain('old-city');
    const oldCity = await client.getDistrict('old-city');
    expect(oldCity.data.summary.district.id).toBe('old-city');
    expect(oldCity.data.stations.map((s) => s.station.id)).toContain('cm-air-oldcity-01');
    const canal = await client.listCanalStations();
    expect(canal.data.map((c) => c.station.id)).toContain('cm-canal-sriphum');
    // One page, or every page (allPages until meta.found), as for stations.
    const page2 = await client.listDistricts({ limit: 2, page: 2 });
    expect(page2.meta).toMatchObject({ found: districts.meta.found, limit: 2, page: 2, count: 2 });
    expect(page2.data).toEqual(districts.data.slice(2, 4));
    expect((await client.allDistricts()).data).toEqual(districts.data);
    expect((await client.listCanalStations({ limit: 1 })).data).toEqual(canal.data.slice(0, 1));
    expect((await client.allCanalStations()).meta).toMatchObject({ found: canal.meta.found, count: canal.meta.found });
    const sriphum = await client.getCanalStation('cm-canal-sriphum');
    expect(sriphum.station.id).toBe('cm-canal-sriphum');
    expect(sriphum.level?.valueM).toBeGreaterThan(1);
    expect(sriphum.rise.mPerHour).toBeCloseTo(0.4, 1);
    // The rise with its uncertainty (typed: trend is a union, uncertaintyMPerHour number | null).
    expect(sriphum.rise.trend).toBe('rising_fast');
    expect(sriphum.rise.risingFast).toBe(true);
    expect(sriphum.rise.uncertaintyMPerHour).not.toBeNull();
    expect(sriphum.rise.samples).toBeGreaterThanOrEqual(10);
  });
});

describe('exports', () => {
  const range = () => ({ from: new Date(api.now - 2 * HOUR), to: new Date(api.now) });

  it('exportReadings returns the streamed Response (CSV: header first, licence in the headers)', async () => {
    const res = await client.exportReadings({ ...range(), station: 'cm-air-oldcity-01' });
    expect(res.headers.get('content-type')).toMatch(/^text\/csv/);
    const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
    let text = '';
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      text += value;
    }
    expect(res.headers.get('x-data-licence')).toBe('CC-BY-4.0');
    expect(text.startsWith('time,station,device,')).toBe(true);
    expect(text.trimEnd().split('\r\n')).toHaveLength(1 + 12);
  });

  it('exportReadings as NDJSON, and exportUrl gives a link that plain fetch can download', async () => {
    const nd = await (await client.exportReadings({ ...range(), format: 'ndjson', kind: 'canal' })).text();
    const lines = nd.trim().split('\n');
    expect(JSON.parse(lines[0]!)).toHaveProperty('meta');
    expect(lines.length).toBe(1 + 24); // meta + 2 h of canal readings every 5 min

    const url = client.exportUrl({ ...range(), station: ['cm-air-oldcity-01', 'cm-air-nimman-01'], format: 'csv' });
    expect(url.startsWith(`${api.url}/v1/exports/readings?`)).toBe(true);
    const res = await fetch(url);
    expect(res.status).toBe(200);
    expect((await res.text()).trimEnd().split('\r\n')).toHaveLength(1 + 24);
  });

  it('exportRollups as CSV asks for text/csv and gets the header first', async () => {
    const res = await client.exportRollups({ ...range(), interval: '1h', format: 'csv', metrics: 'pm25' });
    expect(res.headers.get('content-type')).toMatch(/^text\/csv/);
    expect(res.headers.get('x-data-licence')).toBe('CC-BY-4.0');
    const header = 'start,end,station,pm25_mean_ugm3,pm25_min_ugm3,pm25_max_ugm3,pm25_count,pm25_flagged,';
    expect((await res.text()).startsWith(header)).toBe(true);
  });

  it('a bad export throws before any body', async () => {
    const err = await apiError(client.exportReadings({ from: '2025-03-02', to: '2025-03-01' }));
    expect(err.status).toBe(400);
  });
});

describe('typed errors', () => {
  it('404 unknown station / district -> ApiError with the code, message and request id', async () => {
    const err = await apiError(client.getStation('cm-air-nowhere', { headers: { 'x-request-id': 'client-test-404' } }));
    expect(err).toBeInstanceOf(Error);
    expect(err.name).toBe('ApiError');
    expect(err.status).toBe(404);
    expect(err.code).toBe('station_not_found');
    expect(err.message).toMatch(/cm-air-nowhere/);
    expect(err.operation).toBe('getStation');
    expect(err.requestId).toBe('client-test-404');
    expect(isApiError(err, 'station_not_found')).toBe(true);
    expect((await apiError(client.getDistrict('atlantis'))).code).toBe('district_not_found');
  });

  it('400 bad parameter -> invalid_request with details naming the parameter and what is allowed', async () => {
    const err = await apiError(client.listStationReadings('cm-air-oldcity-01', { limit: 20_000 }));
    expect(err.status).toBe(400);
    expect(err.code).toBe('invalid_request');
    expect(err.details[0]).toMatchObject({ in: 'query', parameter: 'limit', problem: 'must be <= 10000' });
    expect(err.details[0]?.value).toContain('20000');
    expect(err.details[0]?.allowed).toMatch(/\S/);
    // A value the types forbid, sent anyway (plain JavaScript callers).
    const bad = await apiError(client.listStations({ kind: 'ocean' as 'air' }));
    expect(bad.code).toBe('invalid_request');
    expect(bad.details.map((d) => d.parameter)).toEqual(['kind']);
  });

  it('400 range_too_large, and a malformed time', async () => {
    const tooLarge = await apiError(
      client.getStationSeries('cm-air-oldcity-01', { interval: '5m', from: '2020-01-01', to: '2025-01-01' }),
    );
    expect(tooLarge.code).toBe('range_too_large');
    const time = await apiError(client.getStationSeries('cm-air-oldcity-01', { from: 'yesterday' }));
    expect(time.status).toBe(400);
    expect(time.details.map((d) => d.parameter)).toEqual(['from']);
  });

  it('admin operations need the key: 401 unauthorized without it, data with it', async () => {
    const err = await apiError(client.flushCache());
    expect(err.status).toBe(401);
    expect(err.code).toBe('unauthorized');
    const admin = createClient({ baseUrl: api.url, apiKey: ADMIN_KEY });
    expect((await admin.flushCache()).flushed).toBeGreaterThanOrEqual(0);
    const config = await admin.getConfig();
    expect(config).toBeTypeOf('object');
    expect(JSON.stringify(config)).not.toContain(ADMIN_KEY);
  });

  it('staff operations send the staff token and a JSON body (this API has no alerts service: 503)', async () => {
    const sent: { url: string; init: RequestInit }[] = [];
    const staff = createClient({
      baseUrl: api.url,
      apiKey: ADMIN_KEY,
      staffToken: 'staff-token-0123456789abc',
      fetch: (url, init) => {
        sent.push({ url: String(url), init: init ?? {} });
        return fetch(url, init);
      },
    });
    const err = await apiError(staff.acknowledgeAlert(3, { note: 'on my way' }));
    expect(err.status).toBe(503);
    expect(err.code).toBe('alerts_unavailable');
    expect(err.message).toContain('API_ALERTS_URL');
    expect(sent[0]!.url).toBe(`${api.url}/v1/staff/alerts/3/ack`);
    expect(sent[0]!.init.method).toBe('POST');
    expect(sent[0]!.init.headers).toMatchObject({
      authorization: 'Bearer staff-token-0123456789abc',
      'content-type': 'application/json',
    });
    expect(JSON.parse(String(sent[0]!.init.body))).toEqual({ note: 'on my way' });
    // Each credential goes only where it belongs: the admin key to /admin, the staff token to /v1/staff.
    await staff.flushCache();
    expect((sent[1]!.init.headers as Record<string, string>).authorization).toBe(`Bearer ${ADMIN_KEY}`);
    await staff.getMeta();
    expect((sent[2]!.init.headers as Record<string, string>).authorization).toBeUndefined();
  });

  it('429 rate_limited carries Retry-After', async () => {
    const limited = await startApi({ API_RATE_LIMIT_MAX: '2' });
    try {
      const c = createClient({ baseUrl: limited.url });
      await c.getMeta();
      await c.getMeta();
      const err = await apiError(c.getMeta());
      expect(err.status).toBe(429);
      expect(err.code).toBe('rate_limited');
      expect(err.retryAfterSeconds).toBeGreaterThan(0);
    } finally {
      await limited.stop();
    }
  });

  it('answers that are not the API error shape: http_error and unexpected_response', async () => {
    const html = (status: number) =>
      (async () =>
        new Response('<html>bad gateway</html>', { status, headers: { 'content-type': 'text/html' } })) as typeof fetch;
    const gw = await apiError(createClient({ baseUrl: 'http://x.test', fetch: html(502) }).getMeta());
    expect(gw).toMatchObject({ status: 502, code: 'http_error', details: [] });
    expect(gw.message).toMatch(/HTTP 502.*bad gateway/);
    const ok = await apiError(createClient({ baseUrl: 'http://x.test', fetch: html(200) }).getMeta());
    expect(ok.code).toBe('unexpected_response');
  });
});

describe('options', () => {
  it('injected fetch sees every request; base URL trailing slashes and extra headers are handled', async () => {
    const seen: { url: string; headers: Headers }[] = [];
    const c = new CnxApiClient({
      baseUrl: `${api.url}//`,
      headers: { 'x-request-id': 'from-client-options' },
      fetch: (input, init) => {
        seen.push({ url: String(input), headers: new Headers(init?.headers) });
        return fetch(input, init);
      },
    });
    await c.getStation('cm-air-oldcity-01');
    expect(seen[0]?.url).toBe(`${api.url}/v1/stations/cm-air-oldcity-01`);
    expect(seen[0]?.headers.get('accept')).toBe('application/json');
    expect(seen[0]?.headers.get('x-request-id')).toBe('from-client-options');
    expect(seen[0]?.headers.get('authorization')).toBeNull();
  });

  it('path parameters are encoded, and a missing one is refused before any request', async () => {
    expect(client.url('getStation', { path: { stationId: 'a/b?c' } })).toBe(`${api.url}/v1/stations/a%2Fb%3Fc`);
    expect(() => client.url('getStation')).toThrow(/stationId is missing/);
    const err = await apiError(client.getStation('../latest'));
    expect(err.status).toBe(400);
  });

  it('AbortSignal aborts the request', async () => {
    const ac = new AbortController();
    ac.abort();
    await expect(client.getMeta({ signal: ac.signal })).rejects.toMatchObject({ name: 'AbortError' });
    await expect(client.listLatest({}, { signal: AbortSignal.timeout(1) })).rejects.toBeDefined();
  });

  it('etagCache sends If-None-Match and returns the remembered body on 304', async () => {
    const statuses: number[] = [];
    const sentEtags: (string | null)[] = [];
    const c = createClient({
      baseUrl: api.url,
      etagCache: 10,
      fetch: async (input, init) => {
        sentEtags.push(new Headers(init?.headers).get('if-none-match'));
        const res = await fetch(input, init);
        statuses.push(res.status);
        return res;
      },
    });
    const a = await c.getMeta();
    const b = await c.getMeta();
    expect(statuses).toEqual([200, 304]);
    expect(sentEtags[0]).toBeNull();
    expect(sentEtags[1]).toMatch(/^W\/"/);
    expect(b).toEqual(a);
    c.clearEtagCache();
    await c.getMeta();
    expect(statuses).toEqual([200, 304, 200]);
  });

  it('call() gives status, ETag and notModified for explicit conditional requests', async () => {
    const first = await client.call('getStation', { path: { stationId: 'cm-air-nimman-01' } });
    expect(first.status).toBe(200);
    expect(first.data?.id).toBe('cm-air-nimman-01');
    expect(first.etag).toMatch(/^(W\/)?".+"$/);
    expect(first.response.headers.get('x-ratelimit-limit')).toBe('100000');
    const again = await client.call(
      'getStation',
      { path: { stationId: 'cm-air-nimman-01' } },
      { ifNoneMatch: first.etag! },
    );
    expect(again).toMatchObject({ status: 304, notModified: true, data: undefined });
    const err = await apiError(client.call('getStation', { path: { stationId: 'cm-air-ghost' } }));
    expect(err.code).toBe('station_not_found');
  });
});
