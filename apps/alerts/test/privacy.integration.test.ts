/**
 * Personal data (Thailand's PDPA) against real components (Mosquitto, an SMTP server, the service
 * in-process with its SQLite file, its HTTP API on a port) and an injected clock: the scheduled purge
 * deletes exactly the unconfirmed and long-unsubscribed subscriptions, keeps active ones and keeps the
 * delivery counts; export returns all and only one contact's data; erase removes all of it.
 */
import { createLogger } from '@cnx/runtime';
import { type MosquittoHandle, makeTempDir, removeDir, startMosquitto } from '@cnx/testkit';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AlertsService, loadAlertsConfig } from '../src/index';
import { startSmtp, waitFor } from './helpers';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
let clock = Date.UTC(2026, 0, 5, 3, 0);
let broker: MosquittoHandle;
let smtp: Awaited<ReturnType<typeof startSmtp>>;
let service: AlertsService;
let dir: string;
let base: string;
let db: Database.Database;

beforeAll(async () => {
  [broker, smtp, dir] = await Promise.all([startMosquitto(), startSmtp(), makeTempDir('cnx-alerts-privacy-')]);
  const cfg = loadAlertsConfig({
    CNX_DATA_DIR: dir,
    ALERTS_MQTT_URL: broker.url,
    ALERTS_HTTP_PORT: '0',
    ALERTS_SMTP_URL: smtp.url,
    ALERTS_DISPATCH_POLL_MS: '20',
    ALERTS_TICK_MS: '3600000', // the test runs the tick itself, after moving the clock
    ALERTS_DASHBOARD_URL: 'https://air.example.org',
    ALERTS_CONFIRM_TTL_H: '48',
    ALERTS_UNSUBSCRIBED_RETENTION_D: '30',
  });
  service = new AlertsService(cfg, createLogger('alerts-privacy-test', 'warn'), () => clock);
  await service.start();
  base = `http://127.0.0.1:${service.port}`;
  db = new Database(cfg.dbFile, { readonly: true });
});

afterAll(async () => {
  db?.close();
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
const mailsTo = (to: string) => smtp.mails.filter((m) => m.to === to);
/** Subscribe and return the token of the confirmation message (the n-th to that address). */
const subscribe = async (address: string, extra: Record<string, unknown> = {}) => {
  const n = mailsTo(address).length;
  expect(
    (await call('POST', '/v1/subscriptions', { channel: 'email', address, district: 'old-city', ...extra })).status,
  ).toBe(202);
  const mail = await waitFor(() => mailsTo(address)[n], `confirmation to ${address}`);
  return /alerts\/confirm\?token=([\w-]+)/.exec(mail.text)![1]!;
};
const confirm = async (token: string) =>
  expect((await call('POST', '/v1/subscriptions/confirm', { token })).status).toBe(200);
/** Every value of every row of every table, as text: where an address could be left. */
const everything = () =>
  (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as { name: string }[])
    .map((t) => JSON.stringify(db.prepare(`SELECT * FROM "${t.name}"`).all()))
    .join('\n');
const subRows = () =>
  db.prepare('SELECT id, status, address, address_key FROM subscriptions ORDER BY id').all() as {
    id: number;
    status: string;
    address: string;
  }[];
const settled = () =>
  waitFor(
    () => (db.prepare("SELECT COUNT(*) AS n FROM outbox WHERE status = 'pending'").get() as { n: number }).n === 0,
    'outbox settled',
  );
const metric = async (reason: string) => {
  const text = await (await fetch(`${base}/metrics`)).text();
  return Number(new RegExp(`^alerts_subscriptions_purged_total\\{reason="${reason}"\\} (\\d+)$`, 'm').exec(text)?.[1]);
};

describe('purge: unconfirmed after 48 h, unsubscribed after 30 days, active kept', () => {
  it('deletes exactly the expired ones, with the link from their deliveries', async () => {
    const t0 = clock;
    await confirm(await subscribe('keep@example.org'));
    await subscribe('never@example.org'); // never confirmed
    const leaving = await subscribe('leave@example.org');
    await confirm(leaving);
    await settled();
    clock = t0 + HOUR;
    expect((await call('POST', `/v1/unsubscribe?token=${leaving}`, {})).status).toBe(200);
    // Unsubscribed: the contact details are erased at once, the row stays (settings, the address's HMAC).
    expect(everything()).not.toContain('leave@example.org');
    expect(subRows()).toHaveLength(3);
    const outboxBefore = (db.prepare('SELECT COUNT(*) AS n FROM outbox').get() as { n: number }).n;

    clock = t0 + 47 * HOUR;
    service.tick();
    expect(subRows().map((r) => r.status)).toEqual(['active', 'pending', 'unsubscribed']);
    clock = t0 + 49 * HOUR;
    service.tick();
    expect(subRows().map((r) => r.status)).toEqual(['active', 'unsubscribed']);
    expect(everything()).not.toContain('never@example.org');

    clock = t0 + HOUR + 30 * DAY - HOUR;
    service.tick();
    expect(subRows().map((r) => r.status)).toEqual(['active', 'unsubscribed']);
    clock = t0 + HOUR + 30 * DAY + HOUR;
    service.tick();
    expect(subRows()).toEqual([
      expect.objectContaining({ status: 'active', address: expect.stringContaining('keep@') }),
    ]);

    // Deliveries are counted still (confirmations sent), linked to nobody, without the channel's texts.
    const outbox = db.prepare('SELECT id, target_id, status, kind FROM outbox ORDER BY id').all() as {
      id: number;
      target_id: string;
      status: string;
    }[];
    expect(outbox).toHaveLength(outboxBefore);
    expect(outbox.filter((o) => o.target_id === 'erased').map((o) => o.status)).toEqual(['sent', 'sent']);
    const erasedIds = outbox.filter((o) => o.target_id === 'erased').map((o) => o.id);
    const details = db
      .prepare(`SELECT detail FROM delivery_attempts WHERE outbox_id IN (${erasedIds.join(',')})`)
      .all() as { detail: string | null }[];
    expect(details.length).toBeGreaterThan(0);
    expect(details.every((d) => d.detail === null)).toBe(true);
    expect(await metric('unconfirmed')).toBe(1);
    expect(await metric('unsubscribed')).toBe(1);
    // The active subscription works as before.
    expect(subRows()[0]!.status).toBe('active');
  });
});

describe('export and erase with the token of a manage link', () => {
  it('exports all and only the data of that contact', async () => {
    const a = await subscribe('nok@example.org');
    await confirm(a);
    const b = await subscribe('nok@example.org', { district: undefined, lang: 'en', dailyCap: 3 }); // city-wide, pending
    const other = await subscribe('other@example.org');
    await confirm(other);
    await settled();
    const res = await call('GET', '/v1/subscription/data', undefined, b);
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    const doc = res.body;
    expect(doc.contact).toEqual({ channel: 'email', address: 'nok@example.org', webhookSecretHeld: false });
    expect(doc.subscriptions).toMatchObject([
      { ref: 1, thisLink: false, status: 'active', scope: { type: 'district', id: 'old-city' }, lang: 'th' },
      { ref: 2, thisLink: true, status: 'pending', scope: { type: 'city' }, lang: 'en', dailyCap: 3 },
    ]);
    expect(doc.deliveries).toMatchObject([
      { subscription: 1, kind: 'confirm', channel: 'email', status: 'sent', alert: null },
      { subscription: 2, kind: 'confirm', channel: 'email', status: 'sent', alert: null },
    ]);
    expect(doc.confirmationsLast24h).toBe(2);
    const text = JSON.stringify(doc);
    for (const absent of ['other@example.org', 'keep@example.org', a, b, other]) expect(text).not.toContain(absent);
  });

  it('erases every subscription of the contact at once; the tokens stop working; the same answers for all', async () => {
    const a = await subscribe('dao@example.org');
    await confirm(a);
    const b = await subscribe('dao@example.org', { district: 'nimman' });
    const solo = await subscribe('solo@example.org');
    await confirm(solo);
    await settled();
    const unknown = 'x'.repeat(32);
    const notFound = await call('GET', '/v1/subscription/data', undefined, unknown);
    expect(notFound.status).toBe(404);
    expect((await call('DELETE', '/v1/subscription/data', undefined, unknown)).body).toEqual(notFound.body);
    expect((await call('DELETE', '/v1/subscription/data')).body).toMatchObject({
      error: { code: 'subscription_not_found' },
    });

    const outboxBefore = (db.prepare('SELECT COUNT(*) AS n FROM outbox').get() as { n: number }).n;
    const erased = await call('DELETE', '/v1/subscription/data', undefined, a);
    const erasedSolo = await call('DELETE', '/v1/subscription/data', undefined, solo);
    // Two subscriptions or one: the same answer.
    expect([erased.status, erasedSolo.status]).toEqual([200, 200]);
    expect(erased.body).toEqual({ status: 'erased' });
    expect(erasedSolo.body).toEqual(erased.body);
    for (const t of [a, b, solo])
      for (const [m, p] of [
        ['GET', '/v1/subscription/data'],
        ['DELETE', '/v1/subscription/data'],
        ['GET', '/v1/subscription'],
      ] as const)
        expect((await call(m, p, undefined, t)).body).toEqual(notFound.body);
    const all = everything();
    for (const gone of ['dao@example.org', 'solo@example.org', a, b, solo]) expect(all).not.toContain(gone);
    expect((db.prepare('SELECT COUNT(*) AS n FROM outbox').get() as { n: number }).n).toBe(outboxBefore);
    expect(await metric('erased')).toBe(3);
    // Someone else's subscription is untouched.
    expect(all).toContain('nok@example.org');
  });
});

describe('citizen reports: no account, no client address', () => {
  it('stores nothing that names the client: its address is used by the in-memory rate limit only', async () => {
    const client = '203.0.113.77';
    const res = await fetch(`${base}/v1/reports`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-forwarded-for': client },
      body: JSON.stringify({ lat: 18.79, lon: 98.99, category: 'smoke', text: 'Smoke by the moat' }),
    });
    expect(res.status).toBe(202);
    // The limit counted this client (the address reached the service) ...
    expect(Number(res.headers.get('x-ratelimit-remaining'))).toBeGreaterThanOrEqual(0);
    // ... and no table holds it, nor has a column for a client identifier.
    const all = everything();
    expect(all).toContain('Smoke by the moat');
    expect(all).not.toContain(client);
    const columns = (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as { name: string }[])
      .flatMap((t) => (db.prepare(`PRAGMA table_info("${t.name}")`).all() as { name: string }[]).map((c) => c.name))
      .filter((c) => /ip|client|agent|ua_|fingerprint/i.test(c));
    expect(columns).toEqual([]);
  });
});
