/**
 * Citizens' subscriptions (personal data: only in this service's SQLite) and the log of confirmation
 * messages per contact address (issue 12: no message storm to someone else's address).
 */
import type Database from 'better-sqlite3';

export interface SubscriptionRow {
  id: number;
  token: string;
  channel: string;
  address: string;
  scope_type: 'station' | 'district' | 'city';
  scope_id: string;
  threshold: number | null;
  quiet_start: number | null;
  quiet_end: number | null;
  lang: 'th' | 'en';
  daily_cap: number;
  rules: string | null;
  status: 'pending' | 'active' | 'unsubscribed';
  /** Unused since issue 12 (the link's token confirms); kept for files written before. */
  confirm_code: string;
  /** HMAC of the normalised contact address (per-address limits, replacing an older subscription). */
  address_key: string;
  created_at: number;
  confirmed_at: number | null;
}

export class SubscriptionStore {
  constructor(private readonly db: Database.Database) {}

  insert(s: Omit<SubscriptionRow, 'id' | 'confirmed_at'>): number {
    return Number(
      this.db
        .prepare(
          `INSERT INTO subscriptions (token, channel, address, scope_type, scope_id, threshold, quiet_start, quiet_end, lang, daily_cap, rules, status, confirm_code, address_key, created_at)
           VALUES (@token, @channel, @address, @scope_type, @scope_id, @threshold, @quiet_start, @quiet_end, @lang, @daily_cap, @rules, @status, @confirm_code, @address_key, @created_at)`,
        )
        .run(s).lastInsertRowid,
    );
  }
  get(id: number): SubscriptionRow | undefined {
    return this.db.prepare('SELECT * FROM subscriptions WHERE id = ?').get(id) as SubscriptionRow | undefined;
  }
  byToken(token: string): SubscriptionRow | undefined {
    return this.db.prepare('SELECT * FROM subscriptions WHERE token = ?').get(token) as SubscriptionRow | undefined;
  }
  active(): SubscriptionRow[] {
    return this.db.prepare("SELECT * FROM subscriptions WHERE status = 'active'").all() as SubscriptionRow[];
  }
  setStatus(id: number, status: SubscriptionRow['status'], at: number): void {
    if (status === 'active')
      this.db.prepare('UPDATE subscriptions SET status = ?, confirmed_at = ? WHERE id = ?').run(status, at, id);
    else this.end(id);
  }
  /**
   * Unsubscribed (by the person, or the recipient is gone): the contact details are erased at once
   * (data minimisation: nothing is ever sent to it again); the row stays for the delivery audit.
   * Deliveries still waiting for it are suppressed.
   */
  end(id: number, why = 'unsubscribed'): void {
    this.db
      .prepare(`UPDATE subscriptions SET status = 'unsubscribed', address = '{"address":""}', token = ? WHERE id = ?`)
      .run(`ended-${id}`, id);
    this.suppressPending(id, why);
  }
  /** Deleted by its owner: the row and its personal data are gone; waiting deliveries are suppressed. */
  delete(id: number): void {
    this.db.prepare('DELETE FROM subscriptions WHERE id = ?').run(id);
    this.suppressPending(id, 'subscription_deleted');
  }
  private suppressPending(id: number, why: string): void {
    this.db
      .prepare(
        "UPDATE outbox SET status = 'suppressed', last_error = ? WHERE target_kind = 'subscriber' AND target_id = ? AND status = 'pending'",
      )
      .run(why, String(id));
  }
  update(
    id: number,
    patch: Partial<
      Pick<
        SubscriptionRow,
        'scope_type' | 'scope_id' | 'threshold' | 'quiet_start' | 'quiet_end' | 'lang' | 'daily_cap' | 'rules'
      >
    >,
  ): void {
    const keys = Object.keys(patch);
    if (!keys.length) return;
    this.db
      .prepare(`UPDATE subscriptions SET ${keys.map((k) => `${k} = @${k}`).join(', ')} WHERE id = @id`)
      .run({ ...patch, id });
  }
  /** Active subscriptions of the same address and scope (a newer confirmed one replaces them). */
  activeTwins(s: Pick<SubscriptionRow, 'id' | 'address_key' | 'scope_type' | 'scope_id'>): SubscriptionRow[] {
    if (!s.address_key) return [];
    return this.db
      .prepare(
        "SELECT * FROM subscriptions WHERE address_key = ? AND scope_type = ? AND scope_id = ? AND status = 'active' AND id != ?",
      )
      .all(s.address_key, s.scope_type, s.scope_id, s.id) as SubscriptionRow[];
  }
  /** Pending subscriptions never confirmed within the window are deleted (their personal data with them). */
  purgePending(before: number): number {
    const ids = this.db
      .prepare("SELECT id FROM subscriptions WHERE status = 'pending' AND created_at < ?")
      .all(before) as { id: number }[];
    for (const { id } of ids) this.delete(id);
    return ids.length;
  }

  // per-address confirmations (no message storm to someone else's address) --------------------
  confirmationsSince(addressKey: string, from: number): number {
    return (
      this.db
        .prepare('SELECT COUNT(*) AS n FROM confirmations WHERE address_key = ? AND at >= ?')
        .get(addressKey, from) as {
        n: number;
      }
    ).n;
  }
  recordConfirmation(addressKey: string, at: number): void {
    this.db.prepare('INSERT INTO confirmations (address_key, at) VALUES (?, ?)').run(addressKey, at);
  }
  pruneConfirmations(before: number): void {
    this.db.prepare('DELETE FROM confirmations WHERE at < ?').run(before);
  }
}
