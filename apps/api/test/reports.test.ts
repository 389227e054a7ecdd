/**
 * Citizen reports through the public API (issue 12 item 3), against real components: Mosquitto, the
 * alerts service as its own process (its SQLite file holds the reports, photos and audit), and the API
 * (ApiServer, listening, following the bus). A resident reports with a phone photo carrying GPS EXIF;
 * staff see it with the sensor alert near it, approve, reject, merge; every action audited; the approved
 * report is in the GeoJSON (no personal data, photo without metadata) and on the live stream. Abuse:
 * photo types by their bytes, sizes, text bounds, the city's bounds, the per-client limit.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadCityPackById } from '@cnx/city-pack';
import { SqliteReadingStore } from '@cnx/store';
import { freePort, type MosquittoHandle, makeTempDir, removeDir, startMosquitto } from '@cnx/testkit';
import { dereference } from '@readme/openapi-parser';
import exifReader from 'exif-reader';
import mqtt, { type MqttClient } from 'mqtt';
import type { OpenAPIV3_1 } from 'openapi-types';
import sharp from 'sharp';
import { Compile } from 'typebox/compile';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../../alerts/test/helpers';
import { type AlertsProcess, busReading, publishBatch, startAlertsProcess } from '../../alerts/test/process';
import { loadApiConfig } from '../src/config';
import { ApiServer } from '../src/server';
import { logger } from './helpers';
import { openSse } from './sse';

const SOMCHAI = 'somchai-staff-token-0123456789';
const MALEE = 'malee-staff-token-abcdefghijkl';
const STATION = 'cm-air-oldcity-01';
const MIN = 60_000;
const REPORT_LIMIT = 14;

let broker: MosquittoHandle;
let dir: string;
let alerts: AlertsProcess;
let api: ApiServer;
let pub: MqttClient;
let doc: OpenAPIV3_1.Document;
let here: { lat: number; lon: number };

const call = async (method: string, path: string, body?: unknown, token?: string) => {
  const headers: Record<string, string> = {};
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (token) headers.authorization = `Bearer ${token}`;
  const res = await fetch(`${api.url}${path}`, {
    method,
    headers,
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  // biome-ignore lint/suspicious/noExplicitAny: answers are checked field by field and against the schema
  return { status: res.status, headers: res.headers, body: (await res.json()) as any };
};

/** The body checked against the schema the OpenAPI document declares for this operation and status. */
function expectDeclared(
  path: string,
  method: 'get' | 'post',
  status: number,
  body: unknown,
  media = 'application/json',
) {
  const op = doc.paths?.[path]?.[method] as OpenAPIV3_1.OperationObject;
  const declared = op.responses?.[String(status)] as OpenAPIV3_1.ResponseObject | undefined;
  expect(declared, `${method} ${path} declares ${status}`).toBeDefined();
  const check = Compile(declared?.content?.[media]?.schema as never);
  expect([...check.Errors(body)].slice(0, 5), `${method} ${path} ${status}`).toEqual([]);
}

/** A phone photo: JPEG with the camera's GPS position in its EXIF. */
const phonePhoto = () =>
  sharp({ create: { width: 2400, height: 1800, channels: 3, background: { r: 90, g: 90, b: 100 } } })
    .jpeg()
    .withExif({
      IFD0: { Make: 'PhoneMaker', Model: 'Phone 12' },
      IFD3: { GPSLatitudeRef: 'N', GPSLatitude: '18/1 47/1 19/1', GPSLongitudeRef: 'E', GPSLongitude: '98/1 59/1 3/1' },
    })
    .toBuffer();

beforeAll(async () => {
  [broker, dir] = await Promise.all([startMosquitto(), makeTempDir('cnx-api-reports-')]);
  const pack = await loadCityPackById('chiang-mai');
  if (!pack.ok) throw new Error('city pack');
  const station = pack.value.stations.find((s) => s.id === STATION)!;
  // ~300 m north-east of the station.
  const round6 = (x: number) => Math.round(x * 1e6) / 1e6;
  here = { lat: round6(station.location.lat + 0.002), lon: round6(station.location.lon + 0.002) };
  const staffFile = join(dir, 'staff.json');
  writeFileSync(
    staffFile,
    JSON.stringify([
      {
        id: 'somchai',
        name: 'Somchai Jaidee',
        token: SOMCHAI,
        tier: 0,
        channel: 'webhook',
        address: 'http://127.0.0.1:9/x',
      },
      { id: 'malee', name: 'Malee Srisuk', token: MALEE, tier: 1, channel: 'webhook', address: 'http://127.0.0.1:9/y' },
    ]),
  );
  const store = new SqliteReadingStore({ path: join(dir, 'cnx.sqlite') });
  await store.start();
  await store.stop();
  const alertsPort = await freePort();
  api = new ApiServer(
    loadApiConfig({
      API_MAX_EVENT_LOOP_DELAY_MS: '0',
      API_PORT: '0',
      CNX_DATA_DIR: dir,
      API_MQTT_URL: broker.url,
      API_ALERTS_URL: `http://127.0.0.1:${alertsPort}`,
      API_REPORT_RATE_LIMIT_MAX: String(REPORT_LIMIT),
    }),
    logger,
  );
  await api.start();
  alerts = await startAlertsProcess(
    {
      ALERTS_LIVE_WINDOW_MIN: '600',
      CNX_DATA_DIR: dir,
      ALERTS_MQTT_URL: broker.url,
      ALERTS_STAFF_FILE: staffFile,
      ALERTS_DISPATCH_POLL_MS: '50',
    },
    alertsPort,
  );
  doc = (await dereference((await (await fetch(`${api.url}/openapi.json`)).json()) as never)) as never;
  // Smoke at the station for the last 2 hours: a PM2.5 alert near where the resident will report.
  pub = await mqtt.connectAsync(broker.url, { clientId: 'api-reports-test' });
  const t0 = Date.now() - 35 * 5 * MIN;
  await publishBatch(
    pub,
    Array.from({ length: 36 }, (_, i) =>
      busReading(STATION, `${STATION}-pms`, 'air', 'old-city', t0 + i * 5 * MIN, { pm25: i < 12 ? 20 : 60 + (i % 4) }),
    ),
  );
  await waitFor(async () => (await call('GET', '/v1/alerts')).body.current?.length > 0, 'an alert raised', 30_000);
});

afterAll(async () => {
  await pub?.endAsync();
  await api?.stop();
  await alerts?.proc.stop();
  await broker?.stop();
  if (dir) await removeDir(dir);
});

describe('citizen reports through the public API', () => {
  const ids: number[] = [];

  it('a resident reports with a photo; staff see it with the alert near it; the photo has no location', async () => {
    const photo = await phonePhoto();
    expect(exifReader((await sharp(photo).metadata()).exif!).GPSInfo?.GPSLatitude).toEqual([18, 47, 19]);
    const sent = await call('POST', '/v1/reports', {
      ...here,
      category: 'smoke',
      text: 'ควันหนาจากการเผาขยะหลังตลาด',
      photo: photo.toString('base64'),
    });
    expect(sent.status).toBe(202);
    expectDeclared('/v1/reports', 'post', 202, sent.body);
    expect(sent.body).toMatchObject({ status: 'pending', id: expect.any(Number) });
    ids.push(sent.body.id);

    // Not public yet: neither in the GeoJSON nor its photo.
    expect((await call('GET', '/v1/reports')).body.features).toEqual([]);
    expect((await fetch(`${api.url}/v1/reports/${sent.body.id}/photo`)).status).toBe(404);

    // Staff only, with their own credential.
    for (const token of [undefined, 'not-a-staff-token-xxxxxxxxx']) {
      const res = await call('GET', '/v1/staff/reports', undefined, token);
      expect(res.status).toBe(401);
      expect(res.body.error.code).toBe('unauthorized');
    }
    const list = await call('GET', '/v1/staff/reports?status=pending', undefined, SOMCHAI);
    expectDeclared('/v1/staff/reports', 'get', 200, list.body);
    expect(list.body.reports).toEqual([
      expect.objectContaining({ id: sent.body.id, status: 'pending', category: 'smoke', photo: true, ...here }),
    ]);
    const detail = await call('GET', `/v1/staff/reports/${sent.body.id}`, undefined, SOMCHAI);
    expectDeclared('/v1/staff/reports/{reportId}', 'get', 200, detail.body);
    expect(detail.body.nearby).toMatchObject({ radiusM: 3000, hoursBefore: 6, hoursAfter: 6 });
    const near = detail.body.nearby.alerts.find((a: { subject: { id: string } }) => a.subject.id === STATION);
    expect(near).toMatchObject({ rule: 'pm25-1h', status: 'firing' });
    // ~300 m: 0.002° of latitude is 222 m, of longitude at 18.8° N 210 m.
    expect(near.distanceM).toBeGreaterThan(250);
    expect(near.distanceM).toBeLessThan(350);
    expect(detail.body.audit).toEqual([expect.objectContaining({ actor: 'system', action: 'submitted' })]);

    // The kept photo: re-encoded JPEG, 1600 px, no EXIF at all (so no GPS), no camera tags in the bytes.
    const res = await fetch(`${api.url}/v1/staff/reports/${sent.body.id}/photo`, {
      headers: { authorization: `Bearer ${SOMCHAI}` },
    });
    expect(res.headers.get('content-type')).toBe('image/jpeg');
    expect(res.headers.get('cache-control')).toBe('no-store');
    const kept = Buffer.from(await res.arrayBuffer());
    const meta = await sharp(kept).metadata();
    expect({ format: meta.format, width: meta.width, exif: meta.exif, xmp: meta.xmp }).toEqual({
      format: 'jpeg',
      width: 1600,
      exif: undefined,
      xmp: undefined,
    });
    expect(kept.toString('latin1')).not.toContain('PhoneMaker');
  });

  it('approve: audited, in the GeoJSON without personal data, `event: report` on the live stream', async () => {
    const sse = await openSse(`${api.url}/v1/stream?station=${STATION}`);
    const id = ids[0]!;
    const approved = await call('POST', `/v1/staff/reports/${id}/approve`, { note: 'seen from the office' }, MALEE);
    expect(approved.status).toBe(200);
    expectDeclared('/v1/staff/reports/{reportId}/approve', 'post', 200, approved.body);
    expect(approved.body).toMatchObject({ id, status: 'approved', by: 'malee' });
    const again = await call('POST', `/v1/staff/reports/${id}/approve`, {}, SOMCHAI);
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('report_conflict');

    await sse.waitFor((events) => events.some((e) => e.event === 'report'), 20_000);
    const event = sse.events.find((e) => e.event === 'report')!;
    expect(event.id).toBe(`report-${id}`);
    expect(JSON.parse(event.data)).toMatchObject({ type: 'Feature', id, properties: { category: 'smoke' } });
    sse.close();

    const geo = await fetch(`${api.url}/v1/reports`);
    expect(geo.headers.get('content-type')).toContain('application/geo+json');
    const fc = (await geo.json()) as { type: string; features: { geometry: { coordinates: number[] } }[] };
    expectDeclared('/v1/reports', 'get', 200, fc, 'application/geo+json');
    expect(fc.features).toHaveLength(1);
    const f = fc.features[0]!;
    expect(f).toMatchObject({
      type: 'Feature',
      id,
      properties: {
        category: 'smoke',
        categoryName: { th: 'ควัน', en: 'Smoke' },
        text: 'ควันหนาจากการเผาขยะหลังตลาด',
        photoUrl: `/v1/reports/${id}/photo`,
        duplicates: 0,
      },
    });
    expect(f.geometry.coordinates).toEqual([Math.round(here.lon * 1e4) / 1e4, Math.round(here.lat * 1e4) / 1e4]);
    // Nothing about who reported or who moderated: only these properties.
    expect(Object.keys((f as unknown as { properties: object }).properties).sort()).toEqual(
      ['approvedAt', 'category', 'categoryName', 'duplicates', 'id', 'photoUrl', 'reportedAt', 'text'].sort(),
    );
    const photo = await fetch(`${api.url}/v1/reports/${id}/photo`);
    expect(photo.status).toBe(200);
    expect(photo.headers.get('content-type')).toBe('image/jpeg');
    expect((await sharp(Buffer.from(await photo.arrayBuffer())).metadata()).exif).toBeUndefined();

    const audit = (await call('GET', `/v1/staff/reports/${id}`, undefined, SOMCHAI)).body.audit;
    expect(audit.at(-1)).toMatchObject({
      actor: 'malee',
      actorName: 'Malee Srisuk',
      action: 'approved',
      detail: { note: 'seen from the office' },
    });
    expect(Date.parse(audit.at(-1).at)).toBeGreaterThan(Date.now() - 60_000);
  });

  it('reject with a reason (photo deleted), merge a duplicate (counted on the one it joins)', async () => {
    const png = await sharp({ create: { width: 8, height: 8, channels: 3, background: '#000' } })
      .png()
      .toBuffer();
    const a = await call('POST', '/v1/reports', {
      ...here,
      category: 'open_burning',
      text: 'spam',
      photo: png.toString('base64'),
    });
    const b = await call('POST', '/v1/reports', { ...here, category: 'smoke', text: 'smoke again near the market' });
    expect([a.status, b.status]).toEqual([202, 202]);
    const noReason = await call('POST', `/v1/staff/reports/${a.body.id}/reject`, {}, SOMCHAI);
    expect(noReason.status).toBe(400);
    const rejected = await call('POST', `/v1/staff/reports/${a.body.id}/reject`, { reason: 'advertising' }, SOMCHAI);
    expect(rejected.body).toMatchObject({ status: 'rejected', by: 'somchai' });
    const staffPhoto = await fetch(`${api.url}/v1/staff/reports/${a.body.id}/photo`, {
      headers: { authorization: `Bearer ${SOMCHAI}` },
    });
    expect(staffPhoto.status).toBe(404);

    const detail = (await call('GET', `/v1/staff/reports/${b.body.id}`, undefined, SOMCHAI)).body;
    expect(detail.nearby.reports.map((r: { id: number }) => r.id)).toEqual(expect.arrayContaining([ids[0], a.body.id]));
    const self = await call('POST', `/v1/staff/reports/${b.body.id}/merge`, { into: b.body.id }, SOMCHAI);
    expect(self.status).toBe(409);
    const intoRejected = await call('POST', `/v1/staff/reports/${b.body.id}/merge`, { into: a.body.id }, SOMCHAI);
    expect(intoRejected.body.error.code).toBe('report_conflict');
    const merged = await call('POST', `/v1/staff/reports/${b.body.id}/merge`, { into: ids[0] }, SOMCHAI);
    expect(merged.body).toMatchObject({ status: 'merged', mergedInto: ids[0] });
    expectDeclared('/v1/staff/reports/{reportId}/merge', 'post', 200, merged.body);
    const missing = await call('POST', '/v1/staff/reports/999999/approve', {}, SOMCHAI);
    expect([missing.status, missing.body.error.code]).toEqual([404, 'report_not_found']);

    const fc = (await call('GET', '/v1/reports')).body;
    expect(fc.features.map((f: { id: number }) => f.id)).toEqual([ids[0]]);
    expect(fc.features[0].properties.duplicates).toBe(1);
    const target = (await call('GET', `/v1/staff/reports/${ids[0]}`, undefined, SOMCHAI)).body;
    expect(target.audit.at(-1)).toMatchObject({
      actor: 'somchai',
      action: 'duplicate_merged',
      detail: { from: b.body.id },
    });
    const rejectedAudit = (await call('GET', `/v1/staff/reports/${a.body.id}`, undefined, SOMCHAI)).body.audit;
    expect(rejectedAudit.at(-1)).toMatchObject({ action: 'rejected', detail: { reason: 'advertising' } });
  });

  it('lists the open data in pages counted back from the newest approval', async () => {
    const c = await call('POST', '/v1/reports', { ...here, category: 'canal_flooding', text: 'water over the path' });
    expect(c.status).toBe(202);
    expect((await call('POST', `/v1/staff/reports/${c.body.id}/approve`, {}, MALEE)).status).toBe(200);

    const all = (await call('GET', '/v1/reports')).body;
    expectDeclared('/v1/reports', 'get', 200, all, 'application/geo+json');
    expect(all.features.map((f: { id: number }) => f.id)).toEqual([ids[0], c.body.id]);
    expect(all.meta).toEqual({ found: 2, limit: 1000, page: 1, count: 2 });
    const newest = (await call('GET', '/v1/reports?limit=1')).body;
    expect([newest.features.map((f: { id: number }) => f.id), newest.meta]).toEqual([
      [c.body.id],
      { found: 2, limit: 1, page: 1, count: 1 },
    ]);
    const before = (await call('GET', '/v1/reports?limit=1&page=2')).body;
    expect(before.features.map((f: { id: number }) => f.id)).toEqual([ids[0]]);
    const past = (await call('GET', '/v1/reports?limit=1&page=3')).body;
    expect([past.features, past.meta.found]).toEqual([[], 2]);
    for (const q of ['limit=0', 'limit=1001', 'page=0', 'size=5']) {
      const bad = await call('GET', `/v1/reports?${q}`);
      expect([q, bad.status, bad.body.error.code]).toEqual([q, 400, 'invalid_request']);
    }
  });

  it('refuses photos by their bytes, oversize bodies, long texts, points outside the city; limits per client', async () => {
    const base = { ...here, category: 'polluted_water', text: 'black water in the canal' };
    const gif = await sharp({ create: { width: 8, height: 8, channels: 3, background: '#000' } })
      .gif()
      .toBuffer();
    const asGif = await call('POST', '/v1/reports', { ...base, photo: gif.toString('base64') });
    expect([asGif.status, asGif.body.error.code]).toEqual([415, 'photo_unsupported']);
    expectDeclared('/v1/reports', 'post', 415, asGif.body);
    const html = Buffer.from('<html><script>alert(1)</script></html>').toString('base64');
    expect((await call('POST', '/v1/reports', { ...base, photo: html })).status).toBe(415);
    // 4 MiB + 1 byte of JPEG-looking bytes: 413 before any decoding.
    const big = Buffer.alloc(4 * 1024 * 1024 + 1, 0xff).toString('base64');
    const tooBig = await call('POST', '/v1/reports', { ...base, photo: big });
    expect([tooBig.status, tooBig.body.error.code]).toEqual([413, 'photo_too_large']);
    const long = await call('POST', '/v1/reports', { ...base, text: 'x'.repeat(501) });
    expect([long.status, long.body.error.code]).toEqual([400, 'invalid_request']);
    const far = await call('POST', '/v1/reports', { ...base, lat: 13.75, lon: 100.5 });
    expect(far.status).toBe(400);
    expect(far.body.error.message).toContain('outside the city');
    const odd = await call('POST', '/v1/reports', { ...base, category: 'noise' });
    expect(odd.status).toBe(400);

    // The per-client limit counts every attempt of the hour: the ones above, then new ones until 429.
    let last = 0;
    for (let i = 0; i < REPORT_LIMIT && last !== 429; i++)
      last = (await call('POST', '/v1/reports', { ...base, text: `report ${i}` })).status;
    expect(last).toBe(429);
    const limited = await call('POST', '/v1/reports', base);
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBeTruthy();
  });

  it('CORS lets the dashboard send reports and staff moderate from the browser; staff alert writes stay closed', async () => {
    const preflight = (path: string) =>
      fetch(`${api.url}${path}`, {
        method: 'OPTIONS',
        headers: {
          origin: 'https://air.example.org',
          'access-control-request-method': 'POST',
          'access-control-request-headers': 'content-type,authorization',
        },
      });
    for (const path of [
      '/v1/reports',
      '/v1/staff/reports/1/approve',
      '/v1/staff/reports/1/reject',
      '/v1/staff/reports/1/merge',
    ])
      expect((await preflight(path)).headers.get('access-control-allow-methods'), path).toContain('POST');
    expect((await preflight('/v1/staff/alerts/1/ack')).headers.get('access-control-allow-methods')).not.toContain(
      'POST',
    );
  });
});
