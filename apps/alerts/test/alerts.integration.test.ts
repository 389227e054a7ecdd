/**
 * Integration against real components: Mosquitto (testkit), an SMTP server (smtp-server), local
 * HTTP endpoints for LINE and the webhook. The alerts service runs in-process on a temp database.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { createLogger } from '@cnx/runtime';
import { type MosquittoHandle, makeTempDir, removeDir, startMosquitto } from '@cnx/testkit';
import mqtt, { type MqttClient } from 'mqtt';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AlertsService, loadAlertsConfig } from '../src/index';
import { type Hit, type Mail, p95, reading, startEndpoint, startSmtp, waitFor } from './helpers';

const STAFF_TOKEN = 'staff-token-aaaaaaaaaaaaaaaa';
const LINE_USER = `U${'a'.repeat(32)}`;
let broker: MosquittoHandle;
let smtp: Awaited<ReturnType<typeof startSmtp>>;
let line: Awaited<ReturnType<typeof startEndpoint>>;
let hook: Awaited<ReturnType<typeof startEndpoint>>;
let service: AlertsService;
let dir: string;
let pub: MqttClient;
let base: string;
const alertMsgs: { topic: string; body: Record<string, unknown> }[] = [];

beforeAll(async () => {
  broker = await startMosquitto();
  smtp = await startSmtp();
  line = await startEndpoint();
  hook = await startEndpoint();
  dir = await makeTempDir('cnx-alerts-it-');
  const staffFile = path.join(dir, 'staff.json');
  writeFileSync(
    staffFile,
    JSON.stringify([
      {
        id: 'somchai',
        name: 'Somchai',
        token: STAFF_TOKEN,
        tier: 0,
        channel: 'webhook',
        address: `${hook.url}/staff`,
        secret: 'staff-secret',
      },
    ]),
  );
  const cfg = loadAlertsConfig({
    CNX_DATA_DIR: dir,
    // The episodes below replay hours of readings in seconds: readings up to 10 h old still step the
    // rules here (live-window behaviour itself: quality.integration.test.ts).
    ALERTS_LIVE_WINDOW_MIN: '600',
    ALERTS_MQTT_URL: broker.url,
    ALERTS_HTTP_PORT: '0',
    ALERTS_SMTP_URL: smtp.url,
    ALERTS_LINE_BASE_URL: line.url,
    ALERTS_LINE_TOKEN: 'test-channel-token',
    ALERTS_STAFF_FILE: staffFile,
    ALERTS_DISPATCH_POLL_MS: '50',
    ALERTS_RETRY_BASE_MS: '50',
    ALERTS_WEBHOOK_ALLOW_PRIVATE: 'true',
    ALERTS_DASHBOARD_URL: 'http://dashboard.test',
  });
  service = new AlertsService(cfg, createLogger('alerts-test', 'warn'));
  await service.start();
  base = `http://127.0.0.1:${service.port}`;
  cfg.publicApiUrl = base;
  pub = await mqtt.connectAsync(broker.url, { clientId: 'it-pub' });
  await pub.subscribeAsync('cnx/v1/chiang-mai/alerts/#', { qos: 1 });
  pub.on('message', (topic, payload) => alertMsgs.push({ topic, body: JSON.parse(payload.toString()) }));
});

afterAll(async () => {
  await pub?.endAsync();
  await service?.stop();
  await Promise.all([smtp?.close(), line?.close(), hook?.close(), broker?.stop()]);
  if (dir) await removeDir(dir);
});

const post = async (p: string, body: unknown, headers: Record<string, string> = {}) => {
  const res = await fetch(`${base}${p}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
};
const publish = (readings: unknown[]) =>
  pub.publishAsync('cnx/v1/chiang-mai/readings', JSON.stringify({ v: 1, readings }), { qos: 1 });
const mailsTo = (to: string, kind: RegExp) => smtp.mails.filter((m) => m.to === to && kind.test(m.subject));
/** Verified with the Standard Webhooks library itself, as a receiver would (a raw secret for staff). */
const verifySig = (h: Hit, secret: string) => {
  const wh = secret.startsWith('whsec_') ? new Webhook(secret) : new Webhook(secret, { format: 'raw' });
  try {
    wh.verify(h.body, h.headers as Record<string, string>);
    return true;
  } catch {
    return false;
  }
};
const tokenIn = (text: string) => /alerts\/confirm\?token=([\w-]+)/.exec(text)![1]!;

describe('alerts service, real broker + SMTP + HTTP endpoints', () => {
  let webhookSecret = '';
  const latencies: number[] = [];

  it('double opt-in: subscriptions become active only after confirmation', async () => {
    const rules = ['pm25-1h'];
    const a = await post('/v1/subscriptions', {
      channel: 'email',
      address: 'nok@example.org',
      station: 'cm-air-oldcity-01',
      lang: 'th',
      rules,
    });
    const b = await post('/v1/subscriptions', {
      channel: 'email',
      address: 'tom@example.org',
      district: 'old-city',
      lang: 'en',
      rules,
    });
    const c = await post('/v1/subscriptions', {
      channel: 'webhook',
      address: `${hook.url}/app`,
      station: 'cm-air-oldcity-01',
      rules,
    });
    const d = await post('/v1/subscriptions', {
      channel: 'line',
      address: LINE_USER,
      station: 'cm-air-oldcity-01',
      rules,
    });
    await post('/v1/subscriptions', {
      channel: 'email',
      address: 'never@example.org',
      station: 'cm-air-oldcity-01',
      rules,
    });
    expect([a.status, b.status, c.status, d.status]).toEqual([202, 202, 202, 202]);
    expect(JSON.stringify(a.body)).not.toContain('nok@');
    webhookSecret = String(c.body.webhookSecret);
    expect(webhookSecret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    const bad = await post('/v1/subscriptions', { channel: 'email', address: 'x', station: 'nope' });
    expect(bad.status).toBe(400);
    expect(bad.body.error).toMatchObject({ code: 'invalid_request' });

    for (const to of ['nok@example.org', 'tom@example.org']) {
      const m = await waitFor(() => smtp.mails.find((x) => x.to === to), `confirmation to ${to}`);
      // The link opens the dashboard's confirm page; its button posts the token (a bare GET never confirms).
      expect(m.text).toContain('http://dashboard.test/alerts/confirm?token=');
      expect((await post('/v1/subscriptions/confirm', { token: tokenIn(m.text) })).status).toBe(200);
    }
    const hookConfirm = await waitFor(() => hook.hits.find((h) => h.path === '/app'), 'webhook confirmation');
    expect(verifySig(hookConfirm, webhookSecret)).toBe(true);
    const hc = JSON.parse(hookConfirm.body) as { type: string; data: { token: string; confirmApi: string } };
    expect(hc.type).toBe('subscription.confirm');
    expect(hc.data.confirmApi).toBe(`${base}/v1/subscriptions/confirm`);
    expect((await post('/v1/subscriptions/confirm', { token: hc.data.token })).status).toBe(200);
    const lineConfirm = await waitFor(() => line.hits[0], 'LINE confirmation');
    const lt = JSON.parse(lineConfirm.body).messages[0].text as string;
    const wrong = await post('/v1/subscriptions/confirm', { token: `${tokenIn(lt)}x` });
    expect(wrong).toMatchObject({ status: 404, body: { error: { code: 'subscription_not_found' } } });
    expect((await post('/v1/subscriptions/confirm', { token: tokenIn(lt) })).status).toBe(200);
  });

  it('a haze episode gives exactly one alert per subscriber with the right content, signed webhook, exact LINE request', async () => {
    const t0 = Date.now() - 4 * 3_600_000;
    const publishedAt = new Map<number, number>();
    // 1 h clean (20 µg/m³), then smoke at 55–62 µg/m³ (orange band) for 2 h: 5-minute readings.
    for (let i = 0; i < 36; i++) {
      const ts = t0 + i * 300_000;
      const pm25 = i < 12 ? 20 + (i % 3) : 55 + (i % 8);
      publishedAt.set(ts, Date.now());
      await publish([reading('cm-air-oldcity-01', 'air', 'old-city', ts, { pm25, humidity: 70 })]);
      await new Promise((r) => setTimeout(r, 15));
    }
    const isAlert = /PM2\.5/;
    const nok = await waitFor(() => mailsTo('nok@example.org', isAlert)[0], 'alert mail (th)');
    const tom = await waitFor(() => mailsTo('tom@example.org', isAlert)[0], 'alert mail (en)');
    const app = await waitFor(
      () => hook.hits.find((h) => h.path === '/app' && h.body.includes('"raised"')),
      'webhook alert',
    );
    const lineHit = await waitFor(() => line.hits.find((h) => h.body.includes('PM2.5')), 'LINE alert');
    const staff = await waitFor(
      () => hook.hits.find((h) => h.path === '/staff' && h.body.includes('"raised"')),
      'staff alert',
    );
    await new Promise((r) => setTimeout(r, 500));

    expect(mailsTo('nok@example.org', isAlert)).toHaveLength(1);
    expect(mailsTo('tom@example.org', isAlert)).toHaveLength(1);
    expect(smtp.mails.filter((m) => m.to === 'never@example.org' && isAlert.test(m.subject))).toHaveLength(0);
    expect(hook.hits.filter((h) => h.path === '/app' && h.body.includes('"raised"'))).toHaveLength(1);
    expect(line.hits.filter((h) => h.body.includes('PM2.5'))).toHaveLength(1);

    // content: Thai first for nok, English first for tom, both languages in each
    expect(nok.subject).toBe('[แจ้งเตือน] ฝุ่น PM2.5 เฉลี่ย 1 ชั่วโมง – เริ่มมีผลกระทบต่อสุขภาพ (ส้ม) – อนุสาวรีย์สามกษัตริย์');
    expect(tom.subject).toBe('[Alert] PM2.5 1-hour mean – Starts to affect health (orange) – Three Kings Monument');
    expect(nok.text).toMatch(/ค่าที่วัดได้: \d+\.\d\d µg\/m³/);
    expect(nok.text).toContain('Measured:');
    expect(tom.html).toContain('<h2>[Alert] PM2.5 1-hour mean');
    expect(tom.headers).toMatch(/List-Unsubscribe: <http:\/\/127\.0\.0\.1:\d+\/v1\/unsubscribe\?token=/);
    expect(tom.headers).toContain('List-Unsubscribe-Post: List-Unsubscribe=One-Click');
    expect(tom.text).toContain('http://dashboard.test/alerts/unsubscribe?token=');
    expect(tom.text).toContain('http://dashboard.test/alerts/manage?token=');

    // webhook: correctly signed, no personal data
    expect(verifySig(app, webhookSecret)).toBe(true);
    expect(verifySig(app, 'wrong-secret')).toBe(false);
    const body = JSON.parse(app.body) as {
      type: string;
      timestamp: string;
      data: { type: string; rule: string; level: string; ts: number; unsubscribeUrl: string };
    };
    const ev = body.data;
    expect(body.type).toBe('alert.raised');
    expect(ev).toMatchObject({ type: 'raised', rule: 'pm25-1h', level: 'orange' });
    expect(ev.unsubscribeUrl).toMatch(/\/v1\/unsubscribe\?token=/);
    expect(app.headers['webhook-id']).toMatch(/^[0-9a-f-]{36}$/);
    expect(app.body).not.toContain('@example.org');
    expect(verifySig(staff, 'staff-secret')).toBe(true);

    // LINE: the documented Messaging API request, exactly
    expect(lineHit.method).toBe('POST');
    expect(lineHit.path).toBe('/v2/bot/message/push');
    expect(lineHit.headers.authorization).toBe('Bearer test-channel-token');
    expect(lineHit.headers['content-type']).toBe('application/json');
    expect(lineHit.headers['x-line-retry-key']).toMatch(
      /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    );
    const lb = JSON.parse(lineHit.body);
    expect(Object.keys(lb).sort()).toEqual(['messages', 'to']);
    expect(lb.to).toBe(LINE_USER);
    expect(lb.messages).toHaveLength(1);
    expect(Object.keys(lb.messages[0]).sort()).toEqual(['text', 'type']);
    expect(lb.messages[0].type).toBe('text');

    // latency: publish of the reading that triggered → notification received
    const pubAt = publishedAt.get(ev.ts)!;
    for (const at of [nok.at, tom.at, app.at, lineHit.at, staff.at]) latencies.push(at - pubAt);
    // A figure for the CI log, not a pass mark: a busy machine is slower (speed lives in bench/).
    console.info(
      `alerts publish-to-notification latency: p95 ${p95(latencies)} ms over ${latencies.length} deliveries`,
    );

    // MQTT alert topic (retained, for the API live stream)
    const m = await waitFor(
      () => alertMsgs.find((x) => x.topic === 'cnx/v1/chiang-mai/alerts/pm25-1h/cm-air-oldcity-01'),
      'mqtt alert',
    );
    expect(m.body).toMatchObject({ type: 'raised', level: 'orange' });
  });

  it('one-click unsubscribe (RFC 8058): no more mail after the POST', async () => {
    const nok = mailsTo('nok@example.org', /PM2\.5/)[0] as Mail;
    const url = /List-Unsubscribe: <([^>]+)>/.exec(nok.headers)![1]!;
    // What a mail provider does for List-Unsubscribe-Post: a form POST, no cookies, no page.
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'List-Unsubscribe=One-Click',
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'unsubscribed' });
    // The same link again: the one answer for every unknown token.
    expect((await fetch(url, { method: 'POST' })).status).toBe(404);
    // Escalate to red: tom (still subscribed) hears it, nok does not.
    const t = Date.now() - 60 * 60_000;
    for (let i = 0; i < 12; i++)
      await publish([reading('cm-air-oldcity-01', 'air', 'old-city', t + i * 300_000, { pm25: 150 })]);
    await waitFor(() => mailsTo('tom@example.org', /แดง|red/i)[0], 'red mail to tom');
    await new Promise((r) => setTimeout(r, 300));
    expect(mailsTo('nok@example.org', /PM2\.5/)).toHaveLength(1);
  });

  it('a canal flood raises warning, then critical, then clears once, in order', async () => {
    const t0 = Date.now() - 4 * 3_600_000;
    const levels = [
      1.0, 1.2, 1.45, 1.5, 1.55, 1.6, 1.7, 1.85, 1.9, 1.95, 1.9, 1.7, 1.5, 1.3, 1.2, 1.1, 1.0, 1.0, 0.9, 0.9,
    ];
    await publish(
      levels.map((water_level, i) =>
        reading('cm-canal-changphueak', 'canal', 'chang-phueak', t0 + i * 300_000, { water_level, do: 4 }),
      ),
    );
    const topic = 'cnx/v1/chiang-mai/alerts/canal-level/cm-canal-changphueak';
    await waitFor(() => alertMsgs.some((x) => x.topic === topic && x.body.type === 'cleared'), 'canal cleared');
    await new Promise((r) => setTimeout(r, 300));
    const seq = alertMsgs.filter((x) => x.topic === topic).map((x) => `${x.body.type}:${x.body.level ?? '-'}`);
    // Falling from 1.7 to 1.5 leaves the warning band's hysteresis too (1.4 − 0.1): one clear, no de-escalation.
    expect(seq).toEqual(['raised:warning', 'escalated:critical', 'cleared:-']);
  });

  it('staff acknowledge and resolve with credentials, with an audit trail', async () => {
    expect((await fetch(`${base}/v1/staff/alerts`)).status).toBe(401);
    const auth = { authorization: `Bearer ${STAFF_TOKEN}` };
    const list = (await (await fetch(`${base}/v1/staff/alerts`, { headers: auth })).json()) as {
      alerts: { id: number; rule: string }[];
    };
    const pmAlert = list.alerts.find((a) => a.rule === 'pm25-1h')!;
    expect((await post(`/v1/staff/alerts/${pmAlert.id}/ack`, { note: 'checking' }, auth)).status).toBe(200);
    expect((await post(`/v1/staff/alerts/${pmAlert.id}/ack`, {}, auth)).status).toBe(409);
    expect((await post(`/v1/staff/alerts/${pmAlert.id}/resolve`, {}, { authorization: 'Bearer wrong' })).status).toBe(
      401,
    );
    expect((await post(`/v1/staff/alerts/${pmAlert.id}/resolve`, { note: 'haze over' }, auth)).status).toBe(200);
    // The red escalation's deliveries may still be in flight (a mail is seen before the SMTP reply).
    const audit = await waitFor(async () => {
      const a = (await (await fetch(`${base}/v1/staff/alerts/${pmAlert.id}/audit`, { headers: auth })).json()) as {
        audit: { actor: string; action: string }[];
        deliveries: { status: string }[];
      };
      return a.deliveries.every((d) => d.status !== 'pending') && a;
    }, 'every delivery of the alert settled');
    expect(audit.audit.map((a) => `${a.actor}:${a.action}`)).toEqual([
      'system:raised',
      'system:escalated',
      'somchai:acknowledged',
      'somchai:resolved',
    ]);
    expect(audit.deliveries.every((d) => d.status === 'sent' || d.status === 'suppressed')).toBe(true);
    // public list: no contact details anywhere
    const pub = await (await fetch(`${base}/v1/alerts`)).text();
    expect(pub).not.toMatch(/@example\.org|U{1}a{32}|hook|staff-secret/);
    const ended = (JSON.parse(pub) as { recent: { id: number; status: string; endedAt: string }[] }).recent;
    expect(ended.find((a) => a.id === pmAlert.id)).toMatchObject({ status: 'ended' });
  });

  it('exposes health and metrics', async () => {
    const h = (await (await fetch(`${base}/health`)).json()) as { status: string };
    expect(h.status).toBe('ok');
    const m = await (await fetch(`${base}/metrics`)).text();
    expect(m).toMatch(/alerts_deliveries_sent_total \d+/);
  });
});
