/**
 * Staff acknowledge and resolve through the public API (issue 6), against real components: Mosquitto,
 * the alerts service as its own process (apps/alerts/src/main.ts) raising real alerts from readings
 * published on the bus as the gateway does, and the API (ApiServer, listening) forwarding the staff
 * member's credential to it. Plus the failure modes: alerts service not configured, unreachable, slow.
 */
import { once } from 'node:events';
import { writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { SqliteReadingStore } from '@cnx/store';
import { type MosquittoHandle, makeTempDir, removeDir, startMosquitto } from '@cnx/testkit';
import { dereference } from '@readme/openapi-parser';
import mqtt, { type MqttClient } from 'mqtt';
import type { OpenAPIV3_1 } from 'openapi-types';
import pino from 'pino';
import { Compile } from 'typebox/compile';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AlertsProcess, busReading, publishBatch, startAlertsProcess } from '../../alerts/test/process';
import { loadApiConfig } from '../src/config';
import { ApiServer } from '../src/server';
import { testApp } from './helpers';

const SOMCHAI = 'somchai-staff-token-0123456789';
const MALEE = 'malee-staff-token-abcdefghijkl';
const MIN = 60_000;

let broker: MosquittoHandle;
let dir: string;
let alerts: AlertsProcess;
let api: ApiServer;
let pub: MqttClient;
let doc: OpenAPIV3_1.Document;
let staffHook: Server;
const staffHits: string[] = [];
const logLines: string[] = [];

const call = async (method: 'GET' | 'POST', path: string, token?: string, body?: unknown) => {
  const headers: Record<string, string> = {};
  if (token !== undefined) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(`${api.url}${path}`, {
    method,
    headers,
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  // biome-ignore lint/suspicious/noExplicitAny: bodies are checked field by field and against the schema
  return { status: res.status, headers: res.headers, body: (await res.json()) as any };
};

/** The body checked against the schema the OpenAPI document declares for this operation and status. */
function expectDeclared(path: string, method: 'get' | 'post', status: number, body: unknown): void {
  const op = doc.paths?.[path]?.[method] as OpenAPIV3_1.OperationObject;
  const declared = op.responses?.[String(status)] as OpenAPIV3_1.ResponseObject | undefined;
  expect(declared, `${method} ${path} declares ${status}`).toBeDefined();
  const media = declared?.content?.['application/json'];
  const check = Compile(media?.schema as never);
  expect([...check.Errors(body)].slice(0, 5), `${method} ${path} ${status}`).toEqual([]);
}

beforeAll(async () => {
  [broker, dir] = await Promise.all([startMosquitto(), makeTempDir('cnx-api-staff-')]);
  staffHook = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      staffHits.push(`${req.url} ${Buffer.concat(chunks).toString('utf8')}`);
      res.writeHead(200).end('{}');
    });
  });
  staffHook.listen(0, '127.0.0.1');
  await once(staffHook, 'listening');
  const hookUrl = `http://127.0.0.1:${(staffHook.address() as AddressInfo).port}`;
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
        address: `${hookUrl}/somchai`,
      },
      { id: 'malee', name: 'Malee Srisuk', token: MALEE, tier: 1, channel: 'webhook', address: `${hookUrl}/malee` },
    ]),
  );
  alerts = await startAlertsProcess({
    LOG_LEVEL: 'debug',
    // The episodes below replay hours of readings in seconds: readings up to 10 h old still step the
    // rules here (live-window behaviour itself: quality.integration.test.ts).
    ALERTS_LIVE_WINDOW_MIN: '600',
    CNX_DATA_DIR: dir,
    ALERTS_MQTT_URL: broker.url,
    ALERTS_STAFF_FILE: staffFile,
    ALERTS_DISPATCH_POLL_MS: '50',
  });

  // The API reads an (empty) SQLite store; the staff routes never touch it.
  const store = new SqliteReadingStore({ path: join(dir, 'cnx.sqlite') });
  await store.start();
  await store.stop();
  const sink = new Writable({
    write(chunk, _enc, cb) {
      logLines.push(String(chunk));
      cb();
    },
  });
  api = new ApiServer(
    loadApiConfig({
      API_MAX_EVENT_LOOP_DELAY_MS: '0',
      API_PORT: '0',
      CNX_DATA_DIR: dir,
      API_LIVE: 'false',
      API_ALERTS_URL: alerts.url,
    }),
    pino({ level: 'trace' }, sink),
  );
  await api.start();
  doc = (await dereference((await (await fetch(`${api.url}/openapi.json`)).json()) as never)) as never;

  // Smoke over two Old City stations: 1 h clean, then 2 h in the orange band (PCD 2023: 37.6 µg/m³),
  // ending now (so the offline rule stays quiet).
  pub = await mqtt.connectAsync(broker.url, { clientId: 'api-staff-test' });
  const t0 = Date.now() - 35 * 5 * MIN;
  for (const station of ['cm-air-oldcity-01', 'cm-air-oldcity-02']) {
    await publishBatch(
      pub,
      Array.from({ length: 36 }, (_, i) =>
        busReading(station, `${station}-pms`, 'air', 'old-city', t0 + i * 5 * MIN, {
          pm25: i < 12 ? 20 + (i % 3) : 60 + (i % 4),
        }),
      ),
    );
  }
});

afterAll(async () => {
  await pub?.endAsync();
  await api?.stop();
  await alerts?.proc.stop();
  staffHook?.closeAllConnections();
  staffHook?.close();
  await broker?.stop();
  if (dir) await removeDir(dir);
});

async function activeAlerts(): Promise<{ id: number; subject: { id: string }; status: string }[]> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const res = await call('GET', '/v1/staff/alerts', SOMCHAI);
    if (res.status === 200 && res.body.alerts.length >= 2) return res.body.alerts;
    if (Date.now() > deadline) throw new Error(`no alerts raised: ${res.status} ${JSON.stringify(res.body)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('staff routes of the API, forwarded to the real alerts service', () => {
  it('refuse a missing or wrong credential with 401 (and WWW-Authenticate)', async () => {
    for (const token of [undefined, 'not-a-staff-token-xxxxxxxx', '']) {
      const res = await call('GET', '/v1/staff/alerts', token);
      expect(res.status, String(token)).toBe(401);
      expect(res.body.error.code).toBe('unauthorized');
      expect(res.headers.get('www-authenticate')).toBe('Bearer realm="cnx-staff"');
      expectDeclared('/v1/staff/alerts', 'get', 401, res.body);
      // The answer names the setting that configures staff tokens and how to send one (issue 11).
      expect(res.body.error.message).toContain('ALERTS_STAFF_FILE');
      expect(res.body.error.message).toContain('Authorization: Bearer <token>');
      expect(res.body.error.details).toEqual([
        expect.objectContaining({
          in: 'header',
          parameter: 'authorization',
          allowed: expect.stringContaining('Bearer'),
        }),
      ]);
      if (token) expect(JSON.stringify(res.body)).not.toContain(token); // never echoed
    }
    const missing = await call('GET', '/v1/staff/alerts');
    expect(missing.body.error.message).toMatch(
      /^a staff token is required: send it as 'Authorization: Bearer <token>'/,
    );
    const wrong = await call('GET', '/v1/staff/alerts', 'not-a-staff-token-xxxxxxxx');
    expect(wrong.body.error.message).toMatch(
      /^the staff token is not valid: use a member's token from ALERTS_STAFF_FILE/,
    );
    const basic = await fetch(`${api.url}/v1/staff/alerts`, { headers: { authorization: 'Basic c29tY2hhaTp4' } });
    expect(basic.status).toBe(401);
    expect(((await basic.json()) as { error: { message: string } }).error.message).toMatch(/not a Bearer token/);
    const ack = await call('POST', '/v1/staff/alerts/1/ack', 'wrong-token-0123456789abcdef', {});
    expect(ack.status).toBe(401);
  });

  it('list the active alerts with a staff credential, in the documented shape', async () => {
    const list = await activeAlerts();
    const res = await call('GET', '/v1/staff/alerts', MALEE);
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expectDeclared('/v1/staff/alerts', 'get', 200, res.body);
    expect(list.map((a) => a.subject.id).sort()).toEqual(['cm-air-oldcity-01', 'cm-air-oldcity-02']);
    expect(res.body.alerts[0]).toMatchObject({ rule: 'pm25-1h', status: 'firing', level: 'orange', ackedBy: null });
  });

  it('acknowledge and resolve in the name of the credential owner; the audit trail names them', async () => {
    const [first, second] = await activeAlerts();
    const ack = await call('POST', `/v1/staff/alerts/${first!.id}/ack`, SOMCHAI, { note: 'checking the sensor' });
    expect(ack.status).toBe(200);
    expectDeclared('/v1/staff/alerts/{alertId}/ack', 'post', 200, ack.body);
    expect(ack.body).toMatchObject({ id: first!.id, status: 'acknowledged', by: 'somchai' });

    // Twice: the alert is no longer firing.
    const again = await call('POST', `/v1/staff/alerts/${first!.id}/ack`, MALEE, {});
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('alert_conflict');
    expect(again.body.error.message).toContain('acknowledged');
    expectDeclared('/v1/staff/alerts/{alertId}/ack', 'post', 409, again.body);

    // No body at all (curl -X POST) is an action without a note.
    const resolved = await fetch(`${api.url}/v1/staff/alerts/${first!.id}/resolve`, {
      method: 'POST',
      headers: { authorization: `Bearer ${MALEE}` },
    });
    expect(resolved.status).toBe(200);
    expect(await resolved.json()).toMatchObject({ id: first!.id, status: 'resolved', by: 'malee' });
    expect((await call('POST', `/v1/staff/alerts/${first!.id}/resolve`, SOMCHAI, {})).status).toBe(409);

    const audit = await call('GET', `/v1/staff/alerts/${first!.id}/audit`, SOMCHAI);
    expect(audit.status).toBe(200);
    expectDeclared('/v1/staff/alerts/{alertId}/audit', 'get', 200, audit.body);
    const trail = audit.body.audit as { actor: string; actorName: string | null; action: string; detail: unknown }[];
    expect(trail.map((e) => `${e.actor}:${e.action}`)).toEqual([
      'system:raised',
      'somchai:acknowledged',
      'malee:resolved',
    ]);
    expect(trail[1]).toMatchObject({ actorName: 'Somchai Jaidee', detail: { note: 'checking the sensor' } });
    expect(trail[2]).toMatchObject({ actorName: 'Malee Srisuk', detail: null });
    expect(audit.body.alert).toMatchObject({ status: 'resolved', ackedBy: 'somchai', resolvedBy: 'malee' });
    // Tier 0 (somchai) was told of the raise, and nobody's contact details are in the answer.
    expect(audit.body.deliveries).toContainEqual(
      expect.objectContaining({ target: 'staff', staff: 'somchai', channel: 'webhook', event: 'raised' }),
    );
    expect(JSON.stringify(audit.body)).not.toContain('127.0.0.1');

    // The resolved alert left the active list; the other one is still firing.
    const left = (await call('GET', '/v1/staff/alerts', SOMCHAI)).body.alerts as { id: number; status: string }[];
    expect(left.map((a) => [a.id, a.status])).toEqual([[second!.id, 'firing']]);
  });

  it('answer 404 for an unknown alert and 400 for bad input, changing nothing', async () => {
    for (const [method, path] of [
      ['POST', '/v1/staff/alerts/999999/ack'],
      ['POST', '/v1/staff/alerts/999999/resolve'],
      ['GET', '/v1/staff/alerts/999999/audit'],
    ] as const) {
      const res = await call(method, path, SOMCHAI, method === 'POST' ? {} : undefined);
      expect(res.status, path).toBe(404);
      expect(res.body.error).toMatchObject({ code: 'alert_not_found', message: 'no alert 999999' });
    }
    const [second] = (await call('GET', '/v1/staff/alerts', SOMCHAI)).body.alerts as { id: number }[];
    const long = await call('POST', `/v1/staff/alerts/${second!.id}/ack`, SOMCHAI, { note: 'x'.repeat(501) });
    expect(long.status).toBe(400);
    expect(long.body.error.details[0]).toMatchObject({ in: 'body', parameter: 'note' });
    const extra = await call('POST', `/v1/staff/alerts/${second!.id}/ack`, SOMCHAI, { by: 'someone-else' });
    expect(extra.status).toBe(400);
    const badId = await call('POST', '/v1/staff/alerts/abc/ack', SOMCHAI, {});
    expect(badId.status).toBe(400);
    expect(badId.body.error.details[0]).toMatchObject({ in: 'path', parameter: 'alertId' });
    // None of these changed the alert.
    const still = (await call('GET', `/v1/staff/alerts/${second!.id}/audit`, SOMCHAI)).body;
    expect(still.alert.status).toBe('firing');
  });

  it('never logs a credential (API at trace level, alerts service at debug level)', () => {
    const apiLog = logLines.join('');
    expect(apiLog).toContain('/v1/staff/alerts'); // the requests were logged...
    for (const token of [SOMCHAI, MALEE]) {
      expect(apiLog).not.toContain(token); // ...without the credential
      expect(alerts.proc.output()).not.toContain(token);
    }
  });
});

describe('staff routes when the alerts service is missing, down, slow or has no staff', () => {
  it('name ALERTS_STAFF_FILE when the alerts service has no staff configured', async () => {
    const bare = await makeTempDir('cnx-api-nostaff-');
    const nobody = await startAlertsProcess({ CNX_DATA_DIR: bare, ALERTS_MQTT_URL: broker.url });
    const t = await testApp({ API_ALERTS_URL: nobody.url }, false);
    try {
      const res = await t.app.inject({ url: '/v1/staff/alerts', headers: { authorization: `Bearer ${SOMCHAI}` } });
      expect(res.statusCode).toBe(401);
      expect(res.headers['www-authenticate']).toBe('Bearer realm="cnx-staff"');
      expect(res.json().error.message).toMatch(
        /^no staff tokens are configured: ALERTS_STAFF_FILE of the alerts service names no staff members/,
      );
    } finally {
      await t.close();
      await nobody.proc.stop();
      await removeDir(bare);
    }
  });

  it('answer 503 with the reason when API_ALERTS_URL is not set', async () => {
    const t = await testApp({}, false);
    try {
      const res = await t.app.inject({ url: '/v1/staff/alerts', headers: { authorization: `Bearer ${SOMCHAI}` } });
      expect(res.statusCode).toBe(503);
      expect(res.json().error).toEqual({
        code: 'alerts_unavailable',
        message: 'staff routes are disabled: API_ALERTS_URL is not set on this API',
      });
    } finally {
      await t.close();
    }
  });

  it('answer 503 when it cannot be reached and 504 when it does not answer in time', async () => {
    const silent = createServer(() => undefined); // accepts, never answers
    silent.listen(0, '127.0.0.1');
    await once(silent, 'listening');
    const closed = createServer();
    closed.listen(0, '127.0.0.1');
    await once(closed, 'listening');
    const closedPort = (closed.address() as AddressInfo).port;
    await new Promise((r) => closed.close(r));
    const slow = await testApp(
      { API_ALERTS_URL: `http://127.0.0.1:${(silent.address() as AddressInfo).port}`, API_ALERTS_TIMEOUT_MS: '300' },
      false,
    );
    const down = await testApp({ API_ALERTS_URL: `http://127.0.0.1:${closedPort}` }, false);
    try {
      const headers = { authorization: `Bearer ${SOMCHAI}` };
      const timedOut = await slow.app.inject({ method: 'POST', url: '/v1/staff/alerts/1/ack', headers, payload: {} });
      expect(timedOut.statusCode).toBe(504);
      expect(timedOut.json().error.code).toBe('alerts_timeout');
      const unreachable = await down.app.inject({ url: '/v1/staff/alerts', headers });
      expect(unreachable.statusCode).toBe(503);
      expect(unreachable.json().error.code).toBe('alerts_unavailable');
      expect(unreachable.headers['retry-after']).toBe('5');
    } finally {
      await slow.close();
      await down.close();
      silent.closeAllConnections();
      silent.close();
    }
  });
});
