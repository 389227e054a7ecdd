/**
 * The sender lease: of the alerts processes sharing one SQLite store, exactly one — the holder of
 * this lease — evaluates readings, runs the tick and sends (drains the outbox). The others answer
 * HTTP from the same file (standby) and take the lease over once it has expired.
 *
 * One row in `sender_lease`: holder (ALERTS_INSTANCE_ID), epoch (the fencing token: +1 at every
 * acquisition) and expiry. It is taken and renewed in `BEGIN IMMEDIATE` transactions (SQLite's write
 * lock: two processes cannot both see it free). Every write that acts as the sender — an outbox
 * claim before a send, marking a row sent, an evaluation — runs through `fenced()`: in one
 * IMMEDIATE transaction it first checks that the row still names this holder and epoch, so a
 * leader that was paused (SIGSTOP, a VM freeze, a long GC) past its expiry and was replaced cannot
 * claim or send anything after it wakes: its write fails, it logs `sender lease lost` and steps
 * down. What fencing cannot reach: a request already on the wire when the process froze. The new
 * leader re-sends that row with the SAME idempotency key (LINE X-Line-Retry-Key, Standard Webhooks
 * id, email Message-ID), exactly as after a crash (README, delivery guarantees).
 *
 * The lease clock is the wall clock of the host (processes on one store share it); never the
 * service's injectable alert clock.
 */
import type { Logger } from '@cnx/runtime';
import type Database from 'better-sqlite3';

export class LeaseLostError extends Error {
  constructor(readonly reason: string) {
    super(`sender lease lost: ${reason}`);
    this.name = 'LeaseLostError';
  }
}

export interface LeaseRow {
  holder: string;
  epoch: number;
  expires_at: number;
  acquired_at: number;
}

/** What the dispatcher and the evaluation need: may I send, and a write that only the sender can make. */
export interface SenderFence {
  isLeader(): boolean;
  /**
   * Runs `fn` in one BEGIN IMMEDIATE transaction after checking that this process still holds the
   * lease (same holder and epoch; `live`: and not expired). Throws LeaseLostError (and steps down)
   * otherwise: nothing of `fn` is written.
   */
  fenced<T>(fn: (epoch: number) => T, opts?: { live?: boolean }): T;
}

/** No lease (unit tests that drive a Dispatcher alone): always the sender. */
export const UNFENCED: SenderFence = { isLeader: () => true, fenced: (fn) => fn(0) };

export interface LeaseOptions {
  /** This process in the lease row and the logs (ALERTS_INSTANCE_ID). */
  holder: string;
  ttlMs: number;
  renewMs: number;
}

export interface LeaseHooks {
  /** This process became the sender, with a new epoch. */
  lead(epoch: number): Promise<void>;
  /** It no longer is (replaced while paused, or unable to renew in time): stop sending at once. */
  stepDown(reason: string): void;
}

export interface LeaseState {
  role: 'leader' | 'standby';
  instance: string;
  /** The lease as this process last read it: who sends, with which epoch, until when. */
  holder: string | null;
  epoch: number | null;
  expiresAt: string | null;
  /** The lease this process took over last (a failover: the previous holder had not released it). */
  tookOverFrom: { holder: string; epoch: number; expiredAt: string; acquiredAt: string } | null;
}

const SCHEMA = `CREATE TABLE IF NOT EXISTS sender_lease (id INTEGER PRIMARY KEY CHECK (id = 1), holder TEXT NOT NULL,
  epoch INTEGER NOT NULL, expires_at INTEGER NOT NULL, acquired_at INTEGER NOT NULL)`;

export class SenderLease implements SenderFence {
  private epoch = 0;
  /** This process's own view of its expiry (taken before the renewing transaction: never late). */
  private localExpiry = 0;
  private seen: LeaseRow | undefined;
  private tookOver: LeaseState['tookOverFrom'] = null;
  private timer?: NodeJS.Timeout;
  private stopped = true;
  /** Acquisitions by this process (each a new epoch): alerts_sender_takeovers_total. */
  takeovers = 0;

  constructor(
    private readonly db: Database.Database,
    private readonly opts: LeaseOptions,
    private readonly logger: Logger,
    private readonly hooks: LeaseHooks,
    private readonly clock: () => number = Date.now,
  ) {
    db.exec(SCHEMA);
  }

  /** True while this process holds an unexpired lease (by its own clock, without asking the store). */
  isLeader(): boolean {
    return this.epoch > 0 && this.clock() < this.localExpiry;
  }

  state(): LeaseState {
    const iso = (t: number) => new Date(t).toISOString();
    return {
      role: this.epoch > 0 ? 'leader' : 'standby',
      instance: this.opts.holder,
      holder: this.seen?.holder ?? null,
      epoch: this.seen?.epoch ?? null,
      expiresAt: this.seen ? iso(this.seen.expires_at) : null,
      tookOverFrom: this.tookOver,
    };
  }

  /** Tries at once (a process alone on its store leads right away: resolves once it leads), then keeps checking. */
  async start(): Promise<void> {
    this.stopped = false;
    await this.check();
  }

  /** Graceful stop: the lease is released, so a standby takes over within one renew interval. */
  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    if (!this.epoch) return;
    try {
      this.db
        .prepare('UPDATE sender_lease SET expires_at = 0 WHERE id = 1 AND holder = ? AND epoch = ?')
        .run(this.opts.holder, this.epoch);
      this.logger.info({ epoch: this.epoch }, 'sender lease released');
    } catch (e) {
      this.logger.warn({ err: e }, 'sender lease not released');
    }
    this.epoch = 0;
  }

  fenced<T>(fn: (epoch: number) => T, opts: { live?: boolean } = {}): T {
    const epoch = this.epoch;
    if (!epoch) throw new LeaseLostError('this process is a standby');
    try {
      return this.db
        .transaction(() => {
          const row = this.read();
          if (!row || row.holder !== this.opts.holder || row.epoch !== epoch)
            throw new LeaseLostError(row ? `epoch ${row.epoch} is held by ${row.holder}` : 'no lease row');
          if (opts.live && row.expires_at <= this.clock()) throw new LeaseLostError('the lease expired unrenewed');
          return fn(epoch);
        })
        .immediate();
    } catch (e) {
      if (e instanceof LeaseLostError) this.lose(e.reason);
      throw e;
    }
  }

  private read(): LeaseRow | undefined {
    return this.db.prepare('SELECT holder, epoch, expires_at, acquired_at FROM sender_lease WHERE id = 1').get() as
      | LeaseRow
      | undefined;
  }

  /** Renew (the sender) or try to take over (a standby); runs on its own timer, public for tests with a moved clock. */
  async check(): Promise<void> {
    if (this.stopped) return;
    let wait = this.opts.renewMs;
    let led: Promise<void> | undefined;
    const now = this.clock();
    try {
      if (this.epoch) this.renew(now);
      else if (this.acquire(now)) {
        const epoch = this.epoch;
        led = this.hooks.lead(epoch).catch((e) => this.logger.error({ err: e, epoch }, 'cannot start sending'));
      } else if (this.seen)
        // Try again right after the holder's lease runs out (not up to a whole interval later).
        wait = Math.max(1, Math.min(wait, this.seen.expires_at - now + 1));
    } catch (e) {
      // The store is busy beyond busy_timeout or failing: keep the role until the lease runs out.
      this.logger.warn({ err: e }, 'sender lease check failed');
      if (this.epoch && this.clock() >= this.localExpiry) this.lose('the lease expired before it could be renewed');
    }
    if (!this.stopped) this.timer = setTimeout(() => void this.check(), wait);
    await led;
  }

  private acquire(now: number): boolean {
    const prev = this.db
      .transaction(() => {
        const row = this.read();
        if (row && row.expires_at > now) return { taken: false as const, row };
        const next = { holder: this.opts.holder, epoch: (row?.epoch ?? 0) + 1, expires_at: now + this.opts.ttlMs };
        this.db
          .prepare(
            `INSERT INTO sender_lease (id, holder, epoch, expires_at, acquired_at) VALUES (1, @holder, @epoch, @expires_at, @now)
             ON CONFLICT(id) DO UPDATE SET holder = excluded.holder, epoch = excluded.epoch,
               expires_at = excluded.expires_at, acquired_at = excluded.acquired_at`,
          )
          .run({ ...next, now });
        return { taken: true as const, row, next: { ...next, acquired_at: now } };
      })
      .immediate();
    if (!prev.taken) {
      this.seen = prev.row;
      return false;
    }
    this.epoch = prev.next.epoch;
    this.localExpiry = now + this.opts.ttlMs;
    this.seen = prev.next;
    this.takeovers++;
    // expires_at 0 = released by a graceful stop; otherwise the previous holder died or froze.
    if (prev.row && prev.row.expires_at > 0) {
      this.tookOver = {
        holder: prev.row.holder,
        epoch: prev.row.epoch,
        expiredAt: new Date(prev.row.expires_at).toISOString(),
        acquiredAt: new Date(now).toISOString(),
      };
      this.logger.warn(
        {
          epoch: this.epoch,
          previous: prev.row.holder,
          previousEpoch: prev.row.epoch,
          expiredMsAgo: now - prev.row.expires_at,
        },
        'sender lease taken over: this process sends now',
      );
    } else this.logger.info({ epoch: this.epoch }, 'sender lease taken: this process sends');
    return true;
  }

  private renew(now: number): void {
    const ok = this.db
      .transaction(() => {
        const changes = this.db
          .prepare('UPDATE sender_lease SET expires_at = ? WHERE id = 1 AND holder = ? AND epoch = ?')
          .run(now + this.opts.ttlMs, this.opts.holder, this.epoch).changes;
        this.seen = this.read();
        return changes > 0;
      })
      .immediate();
    if (ok) this.localExpiry = now + this.opts.ttlMs;
    else this.lose(this.seen ? `epoch ${this.seen.epoch} is held by ${this.seen.holder}` : 'the lease row is gone');
  }

  /** Step down (once): from now on this process is a standby until it acquires a new epoch. */
  private lose(reason: string): void {
    if (!this.epoch) return;
    const epoch = this.epoch;
    this.epoch = 0;
    this.localExpiry = 0;
    try {
      this.seen = this.read();
    } catch {
      // keep the last row seen
    }
    this.logger.error(
      { epoch, reason, holder: this.seen?.holder, holderEpoch: this.seen?.epoch },
      'sender lease lost: stepping down to standby',
    );
    this.hooks.stepDown(reason);
  }
}
