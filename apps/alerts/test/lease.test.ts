/**
 * The sender lease on one SQLite file shared by two "processes" (two connections, as two services on
 * one store): one leads, the other waits; a leader frozen past its expiry and replaced can neither
 * claim nor settle an outbox row, and steps down. The real-process failover (SIGKILL, SIGSTOP) is
 * test/e2e/alerts.failover.e2e.test.ts.
 */
import path from 'node:path';
import { makeTempDir, removeDir } from '@cnx/testkit';
import { pino } from 'pino';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { LeaseLostError, SenderLease } from '../src/lease';
import { AlertStore } from '../src/store';

let dir: string;
let stores: AlertStore[] = [];
let leases: SenderLease[] = [];
let clock = 1_000_000;
const TTL = 3000;

beforeEach(async () => {
  dir = await makeTempDir('cnx-lease-');
  clock = 1_000_000;
});
afterEach(async () => {
  for (const l of leases) l.stop();
  for (const s of stores) s.close();
  leases = [];
  stores = [];
  await removeDir(dir);
});

function member(holder: string) {
  const store = new AlertStore(path.join(dir, 'alerts.sqlite'));
  const events: string[] = [];
  // renewMs is long: the test moves the clock and calls check() itself.
  const lease = new SenderLease(
    store.db,
    { holder, ttlMs: TTL, renewMs: 600_000 },
    pino({ level: 'silent' }),
    {
      lead: async (epoch) => void events.push(`lead ${epoch}`),
      stepDown: (reason) => void events.push(`down: ${reason}`),
    },
    () => clock,
  );
  stores.push(store);
  leases.push(lease);
  return { store, lease, events };
}

function pendingRow(store: AlertStore): number {
  return store.enqueue({
    event_id: null,
    kind: 'confirm',
    channel: 'line',
    target_kind: 'subscriber',
    target_id: '1',
    retry_key: crypto.randomUUID(),
    status: 'pending',
    next_attempt_at: 0,
    created_at: 0,
  });
}

it('one process leads, the other is a standby until the lease expires', async () => {
  const a = member('a');
  const b = member('b');
  await a.lease.start();
  await b.lease.start();
  expect(a.events).toEqual(['lead 1']);
  expect(b.events).toEqual([]);
  expect(a.lease.state()).toMatchObject({ role: 'leader', holder: 'a', epoch: 1 });
  expect(b.lease.state()).toMatchObject({ role: 'standby', holder: 'a', epoch: 1 });
  expect(() => b.lease.fenced(() => 1)).toThrow(LeaseLostError);
  // renewed in time: still a's
  clock += TTL - 1;
  await a.lease.check();
  clock += TTL - 1;
  await b.lease.check();
  expect(b.events).toEqual([]);
  expect(a.lease.isLeader()).toBe(true);
});

it('a leader frozen past its expiry is replaced and can neither claim nor settle a row', async () => {
  const a = member('a');
  const b = member('b');
  await a.lease.start();
  await b.lease.start();
  const row = pendingRow(a.store);
  // a claims the row (a send is now on its way), then freezes past its lease
  expect(a.lease.fenced((epoch) => a.store.claim(row, 0, epoch), { live: true })).toBe(true);
  clock += TTL;
  await b.lease.check();
  expect(b.events).toEqual(['lead 2']);
  expect(b.lease.state()).toMatchObject({ role: 'leader', epoch: 2, tookOverFrom: { holder: 'a', epoch: 1 } });
  // a wakes up: marking its send done fails, and so does a new claim; it steps down once
  expect(() => a.lease.fenced(() => a.store.recordAttempt(row, clock, true, 'ok', { status: 'sent' }))).toThrow(
    /epoch 2 is held by b/,
  );
  expect(a.events).toEqual(['lead 1', 'down: epoch 2 is held by b']);
  expect(a.lease.isLeader()).toBe(false);
  expect(() => a.lease.fenced((epoch) => a.store.claim(row, 0, epoch), { live: true })).toThrow(LeaseLostError);
  // the row is still pending for the new sender, which claims it with its own epoch
  expect(b.store.dueOutbox(clock, 10).map((r) => r.id)).toEqual([row]);
  expect(b.lease.fenced((epoch) => b.store.claim(row, 0, epoch), { live: true })).toBe(true);
  expect(b.store.db.prepare('SELECT claim_epoch FROM outbox WHERE id = ?').pluck().get(row)).toBe(2);
  // a's renewal finds the lease gone too (had it woken on its timer first)
  await a.lease.check();
  expect(a.lease.state().role).toBe('standby');
});

it('a claim needs a live lease: expired but not yet replaced is not enough', async () => {
  const a = member('a');
  await a.lease.start();
  const row = pendingRow(a.store);
  clock += TTL;
  expect(() => a.lease.fenced((epoch) => a.store.claim(row, 0, epoch), { live: true })).toThrow(/expired unrenewed/);
  expect(a.events).toEqual(['lead 1', 'down: the lease expired unrenewed']);
  // it takes the lease again with a new epoch on its next check
  await a.lease.check();
  expect(a.events.at(-1)).toBe('lead 2');
});

it('a graceful stop releases the lease: the standby takes over on its next check', async () => {
  const a = member('a');
  const b = member('b');
  await a.lease.start();
  await b.lease.start();
  a.lease.stop();
  await b.lease.check();
  expect(b.events).toEqual(['lead 2']);
  expect(b.lease.state().tookOverFrom).toBeNull(); // released, not a failover
});
