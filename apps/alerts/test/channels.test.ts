import { createECDH, randomBytes } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { ConfigError } from '@cnx/runtime';
import { describe, expect, it } from 'vitest';
import {
  httpResult,
  loadAlertsConfig,
  MAX_PUSH_PLAINTEXT,
  pushPayload,
  pushSubscriptionProblem,
  pushUrgency,
  retryAfterMs,
} from '../src/index';

const subscription = (endpoint: string) => {
  const ecdh = createECDH('prime256v1');
  ecdh.generateKeys();
  return {
    endpoint,
    keys: { p256dh: ecdh.getPublicKey().toString('base64url'), auth: randomBytes(16).toString('base64url') },
  };
};

describe('push subscriptions (RFC 8030 / RFC 8291)', () => {
  it('accepts a browser subscription on HTTPS and refuses plain HTTP unless allowed (tests)', () => {
    expect(pushSubscriptionProblem(subscription('https://fcm.googleapis.com/fcm/send/abc'))).toBeUndefined();
    expect(pushSubscriptionProblem(subscription('http://127.0.0.1:9/push'))).toMatch(/https/);
    expect(pushSubscriptionProblem(subscription('http://127.0.0.1:9/push'), true)).toBeUndefined();
  });
  it('refuses keys of the wrong size or kind, credentials in the URL and non-objects', () => {
    const s = subscription('https://push.example/x');
    expect(pushSubscriptionProblem({ ...s, keys: { ...s.keys, auth: randomBytes(8).toString('base64url') } })).toMatch(
      /auth/,
    );
    const compressed = Buffer.concat([Buffer.from([2]), randomBytes(32)]).toString('base64url');
    expect(pushSubscriptionProblem({ ...s, keys: { ...s.keys, p256dh: compressed } })).toMatch(/p256dh/);
    expect(pushSubscriptionProblem({ ...s, endpoint: 'https://u:p@push.example/x' })).toMatch(/credentials/);
    expect(pushSubscriptionProblem('not a subscription')).toMatch(/PushSubscription/);
    expect(pushSubscriptionProblem({ ...s, endpoint: 'nope' })).toMatch(/URL/);
  });
});

describe('push payload and urgency', () => {
  const msg = {
    retryKey: 'k',
    address: '',
    subject: 'Subject',
    text: 'Body',
    html: '',
    payload: { type: 'raised' },
  };
  it('carries title, body and the event; fits one 4096-octet record even with long Thai text', () => {
    expect(JSON.parse(pushPayload(msg))).toEqual({ title: 'Subject', body: 'Body', data: { type: 'raised' } });
    const long = pushPayload({ ...msg, text: 'ฝุ่น PM2.5 '.repeat(800) });
    expect(Buffer.byteLength(long)).toBeLessThanOrEqual(MAX_PUSH_PLAINTEXT);
    expect(JSON.parse(long).title).toBe('Subject');
    expect(JSON.parse(long).body).toMatch(/^ฝุ่น PM2\.5 .*…$/s);
  });
  it('is urgent (RFC 8030 §5.3 high) for warnings and critical levels as they start or worsen', () => {
    expect(pushUrgency('raised', 'critical')).toBe('high');
    expect(pushUrgency('escalated', 'warning')).toBe('high');
    expect(pushUrgency('renotify', 'warning')).toBe('high');
    expect(pushUrgency('raised', 'info')).toBe('normal');
    expect(pushUrgency('cleared', 'critical')).toBe('normal');
    expect(pushUrgency('deescalated', 'warning')).toBe('normal');
  });
});

describe('HTTP answers of channels', () => {
  it('retries 408, 429 and 5xx; reads Retry-After as seconds or an HTTP date', () => {
    expect(httpResult(201, '')).toEqual({ ok: true, detail: 'HTTP 201' });
    expect(httpResult(429, 'slow down', '7')).toMatchObject({ ok: false, retryable: true, retryAfterMs: 7000 });
    expect(httpResult(503, '')).toMatchObject({ ok: false, retryable: true });
    expect(httpResult(400, 'bad')).toMatchObject({ ok: false, retryable: false });
    expect(httpResult(404, '')).not.toHaveProperty('gone'); // only Web Push (and a webhook's 410) end a subscription
    const now = Date.parse('2025-03-10T00:00:00Z');
    expect(retryAfterMs('Mon, 10 Mar 2025 00:00:30 GMT', now)).toBe(30_000);
    expect(retryAfterMs('soon', now)).toBeUndefined();
    expect(retryAfterMs(null, now)).toBeUndefined();
  });
});

describe('staff file', () => {
  it('lists every problem: short or shared tokens, duplicate ids, bad channels and contacts', () => {
    const file = path.join(tmpdir(), `cnx-staff-${process.pid}.json`);
    const token = 'a-token-of-sixteen-chars';
    writeFileSync(
      file,
      JSON.stringify([
        { id: 'a', name: 'A', token, tier: 0, channel: 'webhook', address: 'ftp://x' },
        { id: 'a', name: 'A2', token, tier: -1, channel: 'webpush', address: '{"endpoint":"http://x"}' },
        { id: 'b', name: 'B', token: 'short', tier: 0, channel: 'sms', address: '+66' },
      ]),
    );
    try {
      loadAlertsConfig({ ALERTS_STAFF_FILE: file });
      expect.unreachable();
    } catch (e) {
      const problems = (e as ConfigError).problems.join('\n');
      for (const p of [
        'entry 0: address must be an http(s) URL',
        'entry 1: tier must be an integer',
        'entry 1: address must be a PushSubscription',
        'entry 2 needs an id and a token of at least 16 characters',
        'entry 2: bad channel',
        'staff ids must be unique',
        'every staff member needs their own token',
      ])
        expect(problems).toContain(p);
    } finally {
      rmSync(file, { force: true });
    }
  });
});
