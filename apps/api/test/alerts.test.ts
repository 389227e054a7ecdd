/**
 * Public alerts and citizen subscriptions through the public API (issue 12), against real components:
 * Mosquitto, an SMTP server (smtp-server), the alerts service as its own process, and the API
 * (ApiServer, listening, following the bus). Abuse limits per client (here) and per address (in the
 * alerts service, seen through the API), no enumeration, manage, one-click unsubscribe, CORS for the
 * dashboard, GET /v1/alerts and `event: alert` on the live stream.
 */
import { join } from 'node:path';
import { SqliteReadingStore } from '@cnx/store';
import { freePort, type MosquittoHandle, makeTempDir, removeDir, startMosquitto } from '@cnx/testkit';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSmtp, waitFor } from '../../alerts/test/helpers';
import { type AlertsProcess, busReading, publishBatch, startAlertsProcess } from '../../alerts/test/process';
import { loadApiConfig } from '../src/config';
import { ApiServer } from '../src/server';
import { logger } from './helpers';
import { openSse } from './sse';

const MIN = 60_000;
const STATION = 'cm-air-oldcity-01';
let broker: MosquittoHandle;
let smtp: Awaited<ReturnType<typeof startSmtp>>;
let dir: string;
let alerts: AlertsProcess;
let api: ApiServer;
let pub: MqttClient;

beforeAll(async () => {
  [broker, smtp, dir] = await Promise.all([startMosquitto(), startSmtp(), makeTempDir('cnx-api-alerts-')]);
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
      API_SUBSCRIBE_RATE_LIMIT_MAX: '10',
    }),
    logger,
  );
  await api.start();
  alerts = await startAlertsProcess(
    {
      ALERTS_LIVE_WINDOW_MIN: '600',
      CNX_DATA_DIR: dir,
      ALERTS_MQTT_URL: broker.url,
      ALERTS_SMTP_URL: smtp.url,
      ALERTS_DISPATCH_POLL_MS: '50',
      ALERTS_PUBLIC_API_URL: api.url,
      ALERTS_DASHBOARD_URL: 'https://air.example.org',
    },
    alertsPort,
  );
  pub = await mqtt.connectAsync(broker.url, { clientId: 'api-alerts-test' });
});

afterAll(async () => {
  await pub?.endAsync();
  await api?.stop();
  await alerts?.proc.stop();
  await Promise.all([smtp?.close(), broker?.stop()]);
  if (dir) await removeDir(dir);
});

const call = async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
  const res = await fetch(`${api.url}${path}`, {
    method,
    headers: { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  // biome-ignore lint/suspicious/noExplicitAny: answers are checked field by field
  return { status: res.status, headers: res.headers, body: (await res.json()) as any };
};
const subscribe = (address: string) =>
  call('POST', '/v1/subscriptions', { channel: 'email', address, station: STATION, lang: 'en', rules: ['pm25-1h'] });
const mailsTo = (to: string) => smtp.mails.filter((m) => m.to === to);
const confirmToken = (text: string) => /alerts\/confirm\?token=([\w-]+)/.exec(text)![1]!;

describe('subscriptions and public alerts through the public API', () => {
  let token = '';

  it('subscribe, confirm and manage through the API; the same answer for a known and an unknown address', async () => {
    const first = await subscribe('dao@example.org');
    expect(first.status).toBe(202);
    expect(first.headers.get('cache-control')).toBe('no-store');
    const mail = await waitFor(() => mailsTo('dao@example.org')[0], 'confirmation mail');
    expect(mail.text).toContain('https://air.example.org/alerts/confirm?token=');
    token = confirmToken(mail.text);
    const confirmed = await call('POST', '/v1/subscriptions/confirm', { token });
    expect(confirmed.body).toMatchObject({ status: 'active', address: 'd***@example.org', channel: 'email' });
    const again = await subscribe('dao@example.org');
    const unknown = await subscribe('nobody@example.org');
    expect(again.body).toEqual(first.body);
    expect(unknown.body).toEqual(first.body);
    const auth = { authorization: `Bearer ${token}` };
    expect((await call('GET', '/v1/subscription', undefined, auth)).body.scope).toMatchObject({ id: STATION });
    const changed = await call('PATCH', '/v1/subscription', { pm25Threshold: 40 }, auth);
    expect(changed.body.pm25Threshold).toBe(40);
    for (const bad of [{ authorization: 'Bearer nope-nope-nope-nope' }, {}] as Record<string, string>[]) {
      const res = await call('GET', '/v1/subscription', undefined, bad);
      expect(res.status).toBe(404);
      expect(res.body.error.code).toBe('subscription_not_found');
    }
    // Schema errors never reach the alerts service; its own errors come back in the API's catalogue.
    expect((await call('POST', '/v1/subscriptions', { channel: 'fax', address: 'x' })).body.error.code).toBe(
      'invalid_request',
    );
    const line = await call('POST', '/v1/subscriptions', { channel: 'line', address: `U${'a'.repeat(32)}` });
    expect(line.body.error.code).toBe('channel_unavailable');
  });

  it('CORS lets a dashboard on another origin write to the subscription routes only', async () => {
    const preflight = (path: string, method: string) =>
      fetch(`${api.url}${path}`, {
        method: 'OPTIONS',
        headers: {
          origin: 'https://air.example.org',
          'access-control-request-method': method,
          'access-control-request-headers': 'content-type,authorization',
        },
      });
    for (const [path, method] of [
      ['/v1/subscriptions', 'POST'],
      ['/v1/subscription', 'PATCH'],
      ['/v1/subscription', 'DELETE'],
      ['/v1/unsubscribe?token=x', 'POST'],
    ] as const) {
      const res = await preflight(path, method);
      expect(res.headers.get('access-control-allow-methods'), path).toContain(method);
      expect(res.headers.get('access-control-allow-headers'), path).toContain('authorization');
    }
    expect((await preflight('/admin/cache/flush', 'POST')).headers.get('access-control-allow-methods')).not.toContain(
      'POST',
    );
  });

  it('an alert: in GET /v1/alerts with its stations, as `event: alert` on the stream, by email with one-click unsubscribe', async () => {
    const sse = await openSse(`${api.url}/v1/stream?station=${STATION}`);
    const other = await openSse(`${api.url}/v1/stream?station=cm-canal-sriphum`);
    const t0 = Date.now() - 35 * 5 * MIN;
    await publishBatch(
      pub,
      Array.from({ length: 36 }, (_, i) =>
        busReading(STATION, `${STATION}-pms`, 'air', 'old-city', t0 + i * 5 * MIN, { pm25: i < 12 ? 20 : 62 }),
      ),
    );
    await sse.waitFor((events) => events.some((e) => e.event === 'alert'), 20_000);
    const event = JSON.parse(sse.events.find((e) => e.event === 'alert')!.data);
    expect(event).toMatchObject({
      transition: 'raised',
      alert: {
        rule: 'pm25-1h',
        status: 'active',
        level: 'orange',
        subject: { type: 'station', id: STATION },
        stations: [STATION],
        districts: ['old-city'],
      },
    });
    expect(event.alert.since).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(event.alert.text.th.title).toContain('PM2.5');
    const list = await call('GET', '/v1/alerts');
    expect(list.status).toBe(200);
    expect(list.body.current).toContainEqual(expect.objectContaining({ id: event.alert.id, stations: [STATION] }));
    expect(JSON.stringify(list.body)).not.toMatch(/example\.org|token/);
    expect(other.events.filter((e) => e.event === 'alert')).toEqual([]);
    sse.close();
    other.close();

    const alertMail = await waitFor(
      () => mailsTo('dao@example.org').find((m) => /PM2\.5/.test(m.subject)),
      'alert mail',
    );
    const oneClick = /List-Unsubscribe: <([^>]+)>/.exec(alertMail.headers)![1]!;
    expect(oneClick.startsWith(`${api.url}/v1/unsubscribe?token=`)).toBe(true);
    const res = await fetch(oneClick, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'List-Unsubscribe=One-Click',
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'unsubscribed' });
    expect((await call('GET', '/v1/subscription', undefined, { authorization: `Bearer ${token}` })).status).toBe(404);
  });

  it('per address: at most 3 confirmations a day; per client: 429 past API_SUBSCRIBE_RATE_LIMIT_MAX', async () => {
    // 5 requests so far from this client; the victim gets 3 confirmations out of 5 requests.
    for (let i = 0; i < 5; i++) expect((await subscribe('victim@example.org')).status).toBe(202);
    const limited = await subscribe('victim@example.org');
    expect(limited.status).toBe(429);
    expect(limited.body.error.code).toBe('rate_limited');
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    await waitFor(() => mailsTo('victim@example.org').length >= 3, 'three confirmations');
    await waitFor(
      async () => /alerts_outbox_pending 0\b/.test(await (await fetch(`${alerts.url}/metrics`)).text()),
      'the outbox drained',
    );
    expect(mailsTo('victim@example.org')).toHaveLength(3);
  });
});
