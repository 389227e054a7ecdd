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
  /** When it was unsubscribed (or its recipient was gone); the row is purged a set time after (privacy.ts). */
  ended_at: number | null;
}

export class SubscriptionStore {
  constructor(
    private readonly db: Database.Database,
    now: () => number = Date.now,
  ) {
    // Files from before the PDPA purge: add ended_at; rows ended before it count from the upgrade.
    const cols = this.db.prepare('PRAGMA table_info(subscriptions)').all() as { name: string }[];
    if (!cols.some((c) => c.name === 'ended_at')) {
      this.db.exec('ALTER TABLE subscriptions ADD COLUMN ended_at INTEGER');
      this.db.prepare("UPDATE subscriptions SET ended_at = ? WHERE status = 'unsubscribed'").run(now());
    }
  }

  insert(s: Omit<SubscriptionRow, 'id' | 'confirmed_at' | 'ended_at'>): number {
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
   * Deliveries still waiting for it are suppressed. The rest of the row (settings, the address's
   * HMAC) is deleted `ALERTS_UNSUBSCRIBED_RETENTION_D` days after `at` (purgeEnded).
   */
  end(id: number, why = 'unsubscribed', at = Date.now()): void {
    this.db
      .prepare(
        `UPDATE subscriptions SET status = 'unsubscribed', address = '{"address":""}', token = ?, ended_at = ? WHERE id = ?`,
      )
      .run(`ended-${id}`, at, id);
    this.suppressPending(id, why);
  }
  /**
   * Deleted (by its owner, an erasure, or a purge): the row and its personal data are gone; waiting
   * deliveries are suppressed and every delivery to it is anonymised (anonymiseDeliveries).
   */
  delete(id: number, why = 'subscription_deleted'): void {
    this.db.prepare('DELETE FROM subscriptions WHERE id = ?').run(id);
    this.suppressPending(id, why);
    this.anonymiseDeliveries(id);
  }
  /**
   * The deliveries to a deleted subscription keep what staff count (channel, event, status, attempts,
   * times) and lose what can name the person: the link to the subscription (`target_id`, which a
   * later subscription could reuse) and the channel's error texts (an SMTP or HTTP error can quote the
   * address). A suppression reason is a fixed word and stays.
   */
  private anonymiseDeliveries(id: number): void {
    this.db
      .prepare(
        `UPDATE delivery_attempts SET detail = NULL WHERE outbox_id IN
           (SELECT id FROM outbox WHERE target_kind = 'subscriber' AND target_id = ?)`,
      )
      .run(String(id));
    this.db
      .prepare(
        `UPDATE outbox SET target_id = 'erased', last_error = CASE WHEN status = 'suppressed' THEN last_error END
         WHERE target_kind = 'subscriber' AND target_id = ?`,
      )
      .run(String(id));
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
    for (const { id } of ids) this.delete(id, 'unconfirmed');
    return ids.length;
  }
  /** Subscriptions ended before `before` are deleted, what is left of their personal data with them. */
  purgeEnded(before: number): number {
    const ids = this.db
      .prepare("SELECT id FROM subscriptions WHERE status = 'unsubscribed' AND ended_at < ?")
      .all(before) as { id: number }[];
    for (const { id } of ids) this.delete(id, 'unsubscribed');
    return ids.length;
  }
  /** Every subscription of one contact: the same address key (HMAC), or only `id` when it has none. */
  ofContact(s: Pick<SubscriptionRow, 'id' | 'address_key'>): SubscriptionRow[] {
    return this.db
      .prepare("SELECT * FROM subscriptions WHERE id = ? OR (address_key != '' AND address_key = ?) ORDER BY id")
      .all(s.id, s.address_key) as SubscriptionRow[];
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
