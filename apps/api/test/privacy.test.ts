/**
 * A person's own data (Thailand's PDPA) through the public API, against real components: Mosquitto,
 * an SMTP server, the alerts service as its own process, and the API forwarding to it. Export with the
 * token of a manage link returns all and only that contact's data; erase removes every subscription of
 * the contact and the tokens stop working; unknown tokens get the one 404; CORS lets the dashboard call
 * both; the token never reaches the API's log.
 */
import { join } from 'node:path';
import { createLogger } from '@cnx/runtime';
import { SqliteReadingStore } from '@cnx/store';
import { freePort, type MosquittoHandle, makeTempDir, removeDir, startMosquitto } from '@cnx/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSmtp, waitFor } from '../../alerts/test/helpers';
import { type AlertsProcess, startAlertsProcess } from '../../alerts/test/process';
import { loadApiConfig } from '../src/config';
import { ApiServer } from '../src/server';

let broker: MosquittoHandle;
let smtp: Awaited<ReturnType<typeof startSmtp>>;
let dir: string;
let alerts: AlertsProcess;
let api: ApiServer;
const logLines: string[] = [];

beforeAll(async () => {
  [broker, smtp, dir] = await Promise.all([startMosquitto(), startSmtp(), makeTempDir('cnx-api-privacy-')]);
  const store = new SqliteReadingStore({ path: join(dir, 'cnx.sqlite') });
  await store.start();
  await store.stop();
  const alertsPort = await freePort();
  const logger = createLogger('api-privacy-test', 'debug', {
    write: (line: string) => {
      logLines.push(line);
    },
  });
  api = new ApiServer(
    loadApiConfig({
      API_MAX_EVENT_LOOP_DELAY_MS: '0',
      API_PORT: '0',
      CNX_DATA_DIR: dir,
      API_MQTT_URL: broker.url,
      API_ALERTS_URL: `http://127.0.0.1:${alertsPort}`,
    }),
    logger,
  );
  await api.start();
  alerts = await startAlertsProcess(
    {
      CNX_DATA_DIR: dir,
      ALERTS_MQTT_URL: broker.url,
      ALERTS_SMTP_URL: smtp.url,
      ALERTS_DISPATCH_POLL_MS: '50',
      ALERTS_PUBLIC_API_URL: api.url,
      ALERTS_DASHBOARD_URL: 'https://air.example.org',
    },
    alertsPort,
  );
});

afterAll(async () => {
  await api?.stop();
  await alerts?.proc.stop();
  await Promise.all([smtp?.close(), broker?.stop()]);
  if (dir) await removeDir(dir);
});

const call = async (method: string, path: string, body?: unknown, token?: string) => {
  const res = await fetch(`${api.url}${path}`, {
    method,
    headers: {
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  // biome-ignore lint/suspicious/noExplicitAny: answers are checked field by field
  return { status: res.status, headers: res.headers, body: (await res.json()) as any };
};
const mailsTo = (to: string) => smtp.mails.filter((m) => m.to === to);
const subscribe = async (address: string, where: Record<string, string>) => {
  const n = mailsTo(address).length;
  expect((await call('POST', '/v1/subscriptions', { channel: 'email', address, ...where })).status).toBe(202);
  const mail = await waitFor(() => mailsTo(address)[n], `confirmation to ${address}`);
  return /alerts\/confirm\?token=([\w-]+)/.exec(mail.text)![1]!;
};

describe('export and erase through the public API', () => {
  it('exports all and only the contact of the token, erases all of it, and answers unknown tokens alike', async () => {
    const a = await subscribe('fon@example.org', { district: 'old-city' });
    expect((await call('POST', '/v1/subscriptions/confirm', { token: a })).status).toBe(200);
    const b = await subscribe('fon@example.org', { station: 'cm-air-nimman-01' });
    const other = await subscribe('mek@example.org', { district: 'old-city' });
    expect((await call('POST', '/v1/subscriptions/confirm', { token: other })).status).toBe(200);

    const exported = await call('GET', '/v1/subscription/data', undefined, a);
    expect(exported.status).toBe(200);
    expect(exported.headers.get('cache-control')).toBe('no-store');
    expect(exported.body.contact).toEqual({ channel: 'email', address: 'fon@example.org', webhookSecretHeld: false });
    expect(exported.body.subscriptions).toMatchObject([
      { ref: 1, thisLink: true, status: 'active', scope: { type: 'district', id: 'old-city' } },
      { ref: 2, thisLink: false, status: 'pending', scope: { type: 'station', id: 'cm-air-nimman-01' } },
    ]);
    expect(exported.body.deliveries.map((d: { subscription: number; kind: string }) => d.kind)).toEqual([
      'confirm',
      'confirm',
    ]);
    expect(JSON.stringify(exported.body)).not.toMatch(new RegExp(`mek@|${a}|${b}|${other}`));

    const unknown = await call('GET', '/v1/subscription/data', undefined, 'u'.repeat(40));
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.code).toBe('subscription_not_found');
    expect((await call('DELETE', '/v1/subscription/data', undefined, 'u'.repeat(40))).body).toEqual(unknown.body);

    const erased = await call('DELETE', '/v1/subscription/data', undefined, b);
    expect(erased).toMatchObject({ status: 200, body: { status: 'erased' } });
    for (const t of [a, b]) {
      expect((await call('GET', '/v1/subscription/data', undefined, t)).body).toEqual(unknown.body);
      expect((await call('GET', '/v1/subscription', undefined, t)).body).toEqual(unknown.body);
    }
    // The other person's subscription is untouched, and answers an erasure with the same words.
    expect((await call('GET', '/v1/subscription', undefined, other)).status).toBe(200);
    expect((await call('DELETE', '/v1/subscription/data', undefined, other)).body).toEqual(erased.body);
    // The tokens never reach the API's log.
    expect(logLines.some((l) => l.includes('/v1/subscription/data'))).toBe(true);
    for (const t of [a, b, other]) expect(logLines.join('\n')).not.toContain(t);
  });

  it('CORS lets the dashboard read and erase with the token', async () => {
    for (const method of ['GET', 'DELETE']) {
      const res = await fetch(`${api.url}/v1/subscription/data`, {
        method: 'OPTIONS',
        headers: {
          origin: 'https://air.example.org',
          'access-control-request-method': method,
          'access-control-request-headers': 'authorization',
        },
      });
      expect(res.headers.get('access-control-allow-methods')).toContain(method);
      expect(res.headers.get('access-control-allow-headers')).toContain('authorization');
    }
  });
});
