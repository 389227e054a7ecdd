/**
 * Web Push end to end in the running service: real Mosquitto, the alerts service in-process, and a
 * local push service (test/pushservice.ts) that checks every request against RFC 8030 / 8291 / 8292
 * and decrypts it with the subscriber's own private key. Covers: confirmation and alert content,
 * headers, retries of 429/5xx with backoff (Retry-After honoured), and 404/410 ending a subscription.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { createLogger } from '@cnx/runtime';
import { type MosquittoHandle, makeTempDir, removeDir, startMosquitto } from '@cnx/testkit';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AlertsService, loadAlertsConfig } from '../src/index';
import { waitFor } from './helpers';
import { busReading, publishBatch } from './process';
import {
  checkVapid,
  decryptAes128gcm,
  newSubscriber,
  type PushRequest,
  type Subscriber,
  startPushService,
} from './pushservice';

const STAFF_TOKEN = 'push-staff-token-0123456789';
const STATION = 'cm-air-oldcity-01';
const RETRY_BASE_MS = 200;
const MIN = 60_000;

let broker: MosquittoHandle;
let push: Awaited<ReturnType<typeof startPushService>>;
let service: AlertsService;
let dir: string;
let pub: MqttClient;
let base: string;
let vapidKey: string;
const subscribers = new Map<string, Subscriber>();
const subs: Record<'ok' | 'flaky' | 'gone410' | 'gone404', { token: string }> = {} as never;

/** Answers of the push service per subscriber, for the alert pushes (the confirmation is always 201). */
function answer(p: string, n: number): { status: number; headers?: Record<string, string> } {
  if (n === 1) return { status: 201 }; // the confirmation
  if (p === '/push/flaky')
    return (
      [{ status: 429, headers: { 'retry-after': '1' } }, { status: 503 }, { status: 500 }, { status: 201 }][n - 2] ?? {
        status: 201,
      }
    );
  if (p === '/push/gone410') return { status: 410 };
  if (p === '/push/gone404') return { status: 404 };
  return { status: 201 };
}

const post = async (p: string, body: unknown) => {
  const res = await fetch(`${base}${p}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
};
const staffGet = async (p: string) =>
  // biome-ignore lint/suspicious/noExplicitAny: checked field by field
  (await (await fetch(`${base}${p}`, { headers: { authorization: `Bearer ${STAFF_TOKEN}` } })).json()) as any;
const pushesTo = (p: string, type?: string) =>
  push.requests.filter(
    (r) => r.path === p && (type === undefined || (r.payload?.data as { type?: string } | undefined)?.type === type),
  );

beforeAll(async () => {
  broker = await startMosquitto();
  push = await startPushService(subscribers, answer);
  for (const name of ['ok', 'flaky', 'gone410', 'gone404', 'staff'])
    subscribers.set(`/push/${name}`, newSubscriber(`${push.url}/push/${name}`));
  dir = await makeTempDir('cnx-alerts-push-');
  const staffFile = path.join(dir, 'staff.json');
  writeFileSync(
    staffFile,
    JSON.stringify([
      {
        id: 'ploy',
        name: 'Ploy',
        token: STAFF_TOKEN,
        tier: 0,
        channel: 'webpush',
        address: JSON.stringify(subscribers.get('/push/staff')!.subscription),
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
    ALERTS_STAFF_FILE: staffFile,
    ALERTS_WEBPUSH_ALLOW_HTTP: 'true',
    ALERTS_DISPATCH_POLL_MS: '20',
    ALERTS_TICK_MS: '3600000', // no offline alerts for the stations of this test
    ALERTS_RETRY_BASE_MS: String(RETRY_BASE_MS),
    ALERTS_VAPID_SUBJECT: 'mailto:alerts@chiangmai.example',
  });
  service = new AlertsService(cfg, createLogger('alerts-push-test', 'warn'));
  await service.start();
  base = `http://127.0.0.1:${service.port}`;
  cfg.publicApiUrl = base;
  vapidKey = ((await (await fetch(`${base}/v1/webpush/vapid-public-key`)).json()) as { publicKey: string }).publicKey;
  pub = await mqtt.connectAsync(broker.url, { clientId: 'push-it-pub' });
});

afterAll(async () => {
  await pub?.endAsync();
  await service?.stop();
  await Promise.all([push?.close(), broker?.stop()]);
  if (dir) await removeDir(dir);
});

/** Every request the push service saw for `p` was a valid RFC 8030/8291/8292 request. */
function expectValid(reqs: PushRequest[]): void {
  expect(reqs.length).toBeGreaterThan(0);
  for (const r of reqs) {
    expect(r.problems, r.path).toEqual([]);
    expect(r.method).toBe('POST');
    expect(r.headers['content-encoding']).toBe('aes128gcm');
    expect(r.headers.ttl).toBe('3600');
    expect(r.key).toBe(vapidKey);
    expect(r.claims).toMatchObject({ aud: push.url, sub: 'mailto:alerts@chiangmai.example' });
  }
}

describe('Web Push through a local push service that checks the RFCs', () => {
  it('refuses a push subscription that is not one (bad keys, non-HTTPS elsewhere)', async () => {
    const s = newSubscriber(`${push.url}/push/bad`).subscription;
    const bad = await post('/v1/subscriptions', {
      channel: 'webpush',
      address: { ...s, keys: { p256dh: s.keys.p256dh.slice(0, 40), auth: 'AAAA' } },
      station: STATION,
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error).toMatchObject({ code: 'invalid_request', message: expect.stringMatching(/p256dh/) });
  });

  it('sends the confirmation as an encrypted, VAPID-signed push; the token from it activates the subscription', async () => {
    for (const name of ['ok', 'flaky', 'gone410', 'gone404'] as const) {
      const res = await post('/v1/subscriptions', {
        channel: 'webpush',
        address: subscribers.get(`/push/${name}`)!.subscription,
        station: STATION,
        lang: 'en',
        rules: ['pm25-1h'],
      });
      expect(res.status).toBe(202);
      const confirm = await waitFor(() => pushesTo(`/push/${name}`, 'subscription.confirm')[0], `confirm ${name}`);
      expectValid([confirm]);
      expect(confirm.headers.urgency).toBe('normal');
      const data = confirm.payload!.data as { confirmUrl: string; token: string };
      expect(confirm.payload!.title).toBe('ยืนยันการรับการแจ้งเตือน / Confirm your alert subscription');
      expect(new URL(data.confirmUrl).searchParams.get('token')).toBe(data.token);
      const ok = await post('/v1/subscriptions/confirm', { token: data.token });
      expect(ok.status).toBe(200);
      subs[name] = { token: data.token };
    }
  });

  it('pushes the alert with its content, Urgency high and a per-alert Topic; retries 429/5xx; 404/410 unsubscribe', async () => {
    const t0 = Date.now() - 4 * 60 * MIN;
    await publishBatch(
      pub,
      Array.from({ length: 36 }, (_, i) =>
        busReading(STATION, `${STATION}-pms`, 'air', 'old-city', t0 + i * 5 * MIN, {
          pm25: i < 12 ? 20 + (i % 3) : 55 + (i % 8),
        }),
      ),
    );
    const alert = await waitFor(() => pushesTo('/push/ok', 'raised')[0], 'alert push');
    const staff = await waitFor(() => pushesTo('/push/staff', 'raised')[0], 'staff alert push');
    expectValid([alert, staff]);
    const { alerts } = await staffGet('/v1/staff/alerts');
    const id = alerts[0].id as number;
    expect(alert.headers.urgency).toBe('high'); // a warning level starting: time-sensitive (RFC 8030 §5.3)
    expect(alert.headers.topic).toBe(`cnx-alert-${id}`);
    expect(alert.payload!.title).toBe(
      '[Alert] PM2.5 1-hour mean – Starts to affect health (orange) – Three Kings Monument',
    );
    expect(alert.payload!.body).toMatch(/Measured: \d+\.\d\d µg\/m³/);
    expect(alert.payload!.body).toContain('ค่าที่วัดได้'); // both languages
    expect(alert.payload!.unsubscribeUrl).toBe(`${base}/v1/unsubscribe?token=${subs.ok.token}`);
    expect(alert.payload!.data).toMatchObject({ type: 'raised', rule: 'pm25-1h', level: 'orange', alertId: id });

    // 429 (Retry-After: 1), 503, 500, then 201: four valid requests, the same message, sent once.
    const flaky = await waitFor(() => {
      const r = pushesTo('/push/flaky', 'raised');
      return r.length >= 4 && r;
    }, 'flaky push delivered');
    expectValid(flaky);
    expect(flaky.map((r) => r.status)).toEqual([429, 503, 500, 201]);
    expect(new Set(flaky.map((r) => r.payload!.title)).size).toBe(1);
    // Never sooner than asked: Retry-After 1 s, then the backoff (base × 2^(n−1), −20 % jitter).
    const gaps = flaky.slice(1).map((r, i) => r.at - flaky[i]!.at);
    expect(gaps[0]).toBeGreaterThanOrEqual(1000);
    expect(gaps[1]).toBeGreaterThanOrEqual(0.8 * RETRY_BASE_MS * 2);
    expect(gaps[2]).toBeGreaterThanOrEqual(0.8 * RETRY_BASE_MS * 4);

    // 410 and 404: one attempt each, and the subscription is over (confirming it again: not found).
    await waitFor(() => pushesTo('/push/gone410', 'raised')[0], '410 push');
    await waitFor(() => pushesTo('/push/gone404', 'raised')[0], '404 push');
    const audit = await waitFor(async () => {
      const a = await staffGet(`/v1/staff/alerts/${id}/audit`);
      const subsDone = a.deliveries.filter(
        (d: { target: string; status: string }) => d.target === 'subscriber' && d.status !== 'pending',
      );
      return subsDone.length === 4 && a;
    }, 'deliveries settled');
    const bySub = (audit.deliveries as { target: string; status: string; attempts: number; lastError: string }[])
      .filter((d) => d.target === 'subscriber')
      .map((d) => `${d.status}/${d.attempts}/${d.lastError?.slice(0, 8) ?? ''}`)
      .sort();
    expect(bySub).toEqual(['failed/1/HTTP 404', 'failed/1/HTTP 410', 'sent/1/', 'sent/4/']);
    for (const name of ['gone410', 'gone404'] as const)
      expect((await post('/v1/subscriptions/confirm', { token: subs[name].token })).status).toBe(404);
    expect((await post('/v1/subscriptions/confirm', { token: subs.ok.token })).status).toBe(200);

    // The alert escalates to red: the live subscriptions hear it, the gone ones are never pushed again.
    const t1 = t0 + 36 * 5 * MIN;
    await publishBatch(
      pub,
      Array.from({ length: 12 }, (_, i) =>
        busReading(STATION, `${STATION}-pms`, 'air', 'old-city', t1 + i * 5 * MIN, { pm25: 160 }),
      ),
    );
    await waitFor(() => pushesTo('/push/ok', 'escalated')[0], 'escalation push');
    await waitFor(() => pushesTo('/push/flaky', 'escalated').find((r) => r.status === 201), 'escalation to flaky');
    expect(pushesTo('/push/gone410')).toHaveLength(2); // the confirmation and the one 410
    expect(pushesTo('/push/gone404')).toHaveLength(2);
    expect(push.requests.every((r) => r.problems.length === 0)).toBe(true);

    // The checks bite: the same request fails with another subscriber's keys, another origin or key.
    const other = newSubscriber(`${push.url}/push/other`);
    expect(() => decryptAes128gcm(alert.body, other)).toThrow();
    const auth = String(alert.headers.authorization);
    const nowS = Math.floor(alert.at / 1000);
    expect(checkVapid(auth, push.url, nowS).problems).toEqual([]);
    expect(checkVapid(auth, 'https://fcm.googleapis.com', nowS).problems.join()).toMatch(/aud/);
    expect(checkVapid(auth, push.url, nowS + 2 * 86_400).problems.join()).toMatch(/exp/);
    const otherKey = other.publicKey.toString('base64url');
    expect(checkVapid(auth.replace(/k=.*$/, `k=${otherKey}`), push.url, nowS).problems.join()).toMatch(/signature/);
  });
});
