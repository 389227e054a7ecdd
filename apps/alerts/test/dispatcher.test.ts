/**
 * The outbox worker on its own (in-memory SQLite, a fake channel): a channel whose send never settles
 * does not hold the outbox; its delivery is retried like any failure; a Retry-After is honoured.
 */
import { alertEventValidator } from '@cnx/protocol';
import { createLogger } from '@cnx/runtime';
import { afterEach, describe, expect, it } from 'vitest';
import type { Channel, SendResult } from '../src/channels/types';
import { Dispatcher, eventPayload } from '../src/dispatcher';
import type { Evaluator } from '../src/evaluator';
import { AlertStore, loadAlertsConfig } from '../src/index';
import { loadRuleSet } from '../src/rules.config';
import { waitFor } from './helpers';

const stores: AlertStore[] = [];
afterEach(() => {
  for (const s of stores.splice(0)) s.close();
});

function setup(send: (n: number) => Promise<SendResult>, env: Record<string, string> = {}) {
  const store = new AlertStore(':memory:');
  stores.push(store);
  const cfg = loadAlertsConfig({ ALERTS_SEND_TIMEOUT_MS: '100', ALERTS_RETRY_BASE_MS: '10', ...env });
  let calls = 0;
  const channel: Channel = { name: 'webhook', send: () => send(++calls) };
  const dispatcher = new Dispatcher(
    store,
    {} as Evaluator, // confirmation messages do not need the rules
    new Map([['webhook', channel]]),
    cfg,
    createLogger('dispatcher-test', 'silent'),
  );
  const sub = (address: string) =>
    store.tx(() => {
      const id = store.subs.insert({
        token: `t-${address}`,
        channel: 'webhook',
        address: JSON.stringify({ address, secret: 's' }),
        scope_type: 'city',
        scope_id: 'chiang-mai',
        threshold: null,
        quiet_start: null,
        quiet_end: null,
        lang: 'th',
        daily_cap: 10,
        rules: null,
        status: 'pending',
        confirm_code: '',
        address_key: `k-${address}`,
        created_at: Date.now(),
      });
      return store.enqueue({
        event_id: null,
        kind: 'confirm',
        channel: 'webhook',
        target_kind: 'subscriber',
        target_id: String(id),
        retry_key: `k-${address}`,
        status: 'pending',
        next_attempt_at: Date.now(),
        created_at: Date.now(),
      });
    });
  const row = (id: number) =>
    store.db.prepare('SELECT status, attempts, last_error, next_attempt_at FROM outbox WHERE id = ?').get(id) as {
      status: string;
      attempts: number;
      last_error: string | null;
      next_attempt_at: number;
    };
  return { store, dispatcher, sub, row, calls: () => calls };
}

describe('dispatcher', () => {
  it('a send that never settles is cut off after 2 × ALERTS_SEND_TIMEOUT_MS and retried', async () => {
    const t = setup((n) =>
      n === 1 ? new Promise<SendResult>(() => undefined) : Promise.resolve({ ok: true, detail: 'HTTP 200' }),
    );
    const id = t.sub('http://hook.example/a');
    t.dispatcher.start();
    try {
      const done = await waitFor(() => t.row(id).status === 'sent' && t.row(id), 'sent on the retry', 5000);
      expect(done.attempts).toBe(2);
      const attempts = t.store.db
        .prepare('SELECT ok, detail FROM delivery_attempts WHERE outbox_id = ? ORDER BY id')
        .all(id);
      expect(attempts).toEqual([
        { ok: 0, detail: 'no answer within 200 ms' },
        { ok: 1, detail: 'HTTP 200' },
      ]);
    } finally {
      await t.dispatcher.stop();
    }
  });

  it('waits at least the Retry-After the server gave (capped by ALERTS_RETRY_MAX_MS)', async () => {
    const t = setup(async () => ({ ok: false, retryable: true, detail: 'HTTP 429', retryAfterMs: 3_600_000 }), {
      ALERTS_RETRY_MAX_MS: '600000',
    });
    const id = t.sub('http://hook.example/b');
    const before = Date.now();
    t.dispatcher.start();
    try {
      const r = await waitFor(() => t.row(id).attempts === 1 && t.row(id), 'first attempt recorded', 5000);
      expect(r.status).toBe('pending');
      expect(r.next_attempt_at - before).toBeGreaterThanOrEqual(600_000); // the cap, not 10 ms of backoff
      expect(r.next_attempt_at - Date.now()).toBeLessThanOrEqual(600_000);
    } finally {
      await t.dispatcher.stop();
    }
  });

  it('a 404/410 from a push service ends the subscription', async () => {
    const t = setup(async () => ({ ok: false, retryable: false, gone: true, detail: 'HTTP 410' }));
    const id = t.sub('http://hook.example/c');
    t.dispatcher.start();
    try {
      await waitFor(() => t.row(id).status === 'failed', 'failed', 5000);
      expect(t.store.subs.get(1)?.status).toBe('unsubscribed');
      expect(t.calls()).toBe(1);
    } finally {
      await t.dispatcher.stop();
    }
  });
});

describe('the alert event on the bus', () => {
  it('is what the bus contract (@cnx/protocol AlertEventPayload) describes, raised and cleared', () => {
    const cfg = loadAlertsConfig({});
    const rules = loadRuleSet(cfg.rulesFile, 'chiang-mai');
    if (!rules.ok) throw new Error('rules invalid');
    const rule = rules.value.rules.find((r) => r.id === 'pm25-1h')!;
    const ev = {
      alert_id: 7,
      type: 'raised',
      rule_id: rule.id,
      subject_type: 'station',
      subject_id: 'cm-air-oldcity-01',
      level: 1,
      previous_level: 0,
      value: 61.5,
      ts: 1_742_000_000_000,
    };
    const name = { th: 'เมืองเก่า', en: 'Old City' };
    for (const e of [ev, { ...ev, type: 'cleared', level: -1, previous_level: 1, value: null }]) {
      const payload = eventPayload('chiang-mai', e, rule, name, ev.ts, {
        name: { th: 'เชียงใหม่', en: 'Chiang Mai' },
        timeZone: 'Asia/Bangkok',
      });
      expect([...alertEventValidator.Errors(payload)]).toEqual([]);
    }
  });
});
