/**
 * Citizens' subscriptions against real components (Mosquitto, an SMTP server, the service in-process):
 * no enumeration, the per-address confirmation limit, the per-client rate limit, manage, delete,
 * unsubscribe, a newer confirmed subscription replacing an older one, and refused webhook targets.
 */
import { createLogger } from '@cnx/runtime';
import { type MosquittoHandle, makeTempDir, removeDir, startMosquitto } from '@cnx/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AlertsService, loadAlertsConfig } from '../src/index';
import { startSmtp, waitFor } from './helpers';

let broker: MosquittoHandle;
let smtp: Awaited<ReturnType<typeof startSmtp>>;
let service: AlertsService;
let dir: string;
let base: string;

beforeAll(async () => {
  [broker, smtp, dir] = await Promise.all([startMosquitto(), startSmtp(), makeTempDir('cnx-alerts-subs-')]);
  const cfg = loadAlertsConfig({
    CNX_DATA_DIR: dir,
    ALERTS_MQTT_URL: broker.url,
    ALERTS_HTTP_PORT: '0',
    ALERTS_SMTP_URL: smtp.url,
    ALERTS_DISPATCH_POLL_MS: '20',
    ALERTS_DASHBOARD_URL: 'https://air.example.org',
    ALERTS_SUBSCRIBE_RATE_LIMIT_MAX: '14',
  });
  service = new AlertsService(cfg, createLogger('alerts-subs-test', 'warn'));
  await service.start();
  base = `http://127.0.0.1:${service.port}`;
});

afterAll(async () => {
  await service?.stop();
  await Promise.all([smtp?.close(), broker?.stop()]);
  if (dir) await removeDir(dir);
});

const call = async (method: string, p: string, body?: unknown, token?: string) => {
  const headers: Record<string, string> = {};
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (token) headers.authorization = `Bearer ${token}`;
  const res = await fetch(`${base}${p}`, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  // biome-ignore lint/suspicious/noExplicitAny: answers are checked field by field
  return { status: res.status, headers: res.headers, body: (await res.json()) as any };
};
const subscribe = (address: string, extra: Record<string, unknown> = {}) =>
  call('POST', '/v1/subscriptions', { channel: 'email', address, district: 'old-city', ...extra });
const mailsTo = (to: string) => smtp.mails.filter((m) => m.to === to);
const tokenOf = (text: string) => /alerts\/confirm\?token=([\w-]+)/.exec(text)![1]!;

describe('subscriptions: abuse limits, no enumeration, manage, unsubscribe', () => {
  let token = '';

  it('answers the same whether or not the address is subscribed, and confirms by the token only', async () => {
    const first = await subscribe('ploy@example.org');
    await waitFor(() => mailsTo('ploy@example.org')[0], 'first confirmation');
    token = tokenOf(mailsTo('ploy@example.org')[0]!.text);
    expect((await call('POST', '/v1/subscriptions/confirm', { token })).body).toMatchObject({
      status: 'active',
      address: 'p***@example.org',
      scope: { type: 'district', id: 'old-city' },
    });
    // Subscribed now: asking again (the same or another person) gets exactly the same answer.
    const again = await subscribe('ploy@example.org');
    const stranger = await subscribe('nobody-here@example.org');
    expect([first.status, again.status, stranger.status]).toEqual([202, 202, 202]);
    expect(again.body).toEqual(first.body);
    expect(stranger.body).toEqual(first.body);
    expect(JSON.stringify(first.body)).not.toMatch(/ploy|token|id/);
    // Unknown, made-up and ended tokens: one answer.
    for (const t of ['x'.repeat(32), `${token}A`])
      expect((await call('GET', '/v1/subscription', undefined, t)).body.error.code).toBe('subscription_not_found');
  });

  it('sends at most 3 confirmations to one address a day, whoever asks; the answer does not change', async () => {
    const victim = 'victim@example.org';
    const answers = [];
    for (let i = 0; i < 6; i++) answers.push((await subscribe(victim, { lang: i % 2 ? 'en' : 'th' })).body);
    await waitFor(() => mailsTo(victim).length >= 3 && mailsTo(victim), 'three confirmations');
    // Case and spaces do not make another address.
    expect((await subscribe('  VICTIM@Example.org ')).status).toBe(202);
    await waitFor(() => mailsTo('ploy@example.org').length >= 2, 'the second confirmation to ploy (control)');
    expect(mailsTo(victim)).toHaveLength(3);
    expect(new Set(answers.map((a) => JSON.stringify(a))).size).toBe(1);
  });

  it('manage: a newer confirmed subscription replaces the old one; change and delete with the token', async () => {
    // The second confirmation sent to ploy (a repeat request): confirming it replaces the first.
    const second = tokenOf(mailsTo('ploy@example.org')[1]!.text);
    expect(second).not.toBe(token);
    expect((await call('POST', '/v1/subscriptions/confirm', { token: second })).status).toBe(200);
    expect((await call('GET', '/v1/subscription', undefined, token)).status).toBe(404);
    token = second;
    const changed = await call(
      'PATCH',
      '/v1/subscription',
      {
        scope: 'station',
        station: 'cm-air-oldcity-01',
        lang: 'en',
        pm25Threshold: 50,
        quietHours: { start: '22:00', end: '06:30' },
      },
      token,
    );
    expect(changed.body).toMatchObject({
      scope: { type: 'station', id: 'cm-air-oldcity-01' },
      lang: 'en',
      pm25Threshold: 50,
      quietHours: { start: '22:00', end: '06:30' },
    });
    const bad = await call('PATCH', '/v1/subscription', { scope: 'station' }, token);
    expect(bad.body.error).toMatchObject({ code: 'invalid_request', message: expect.stringMatching(/station/) });
    expect((await call('DELETE', '/v1/subscription', undefined, token)).body).toEqual({ status: 'deleted' });
    expect((await call('GET', '/v1/subscription', undefined, token)).status).toBe(404);
  });

  it('unsubscribe with the one-click link', async () => {
    const to = 'kai@example.org';
    await subscribe(to);
    const t = tokenOf((await waitFor(() => mailsTo(to)[0], 'kai confirmation')).text);
    await call('POST', '/v1/subscriptions/confirm', { token: t });
    const res = await fetch(`${base}/v1/unsubscribe?token=${t}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'List-Unsubscribe=One-Click',
    });
    expect(res.status).toBe(200);
    expect((await call('GET', '/v1/subscription', undefined, t)).status).toBe(404);
  });

  it('limits new subscriptions per client (429 with Retry-After), and refuses private webhook targets', async () => {
    const hook = await call('POST', '/v1/subscriptions', { channel: 'webhook', address: 'http://127.0.0.1:9/x' });
    expect(hook.body.error).toMatchObject({ code: 'invalid_request' });
    const inner = await call('POST', '/v1/subscriptions', { channel: 'webhook', address: 'https://10.1.2.3/x' });
    expect(inner.body.error.message).toMatch(/private network/);
    let last = await subscribe('someone@example.org');
    for (let i = 0; i < 20 && last.status !== 429; i++) last = await subscribe(`someone${i}@example.org`);
    expect(last.status).toBe(429);
    expect(last.body.error.code).toBe('rate_limited');
    expect(Number(last.headers.get('retry-after'))).toBeGreaterThan(0);
  });
});
