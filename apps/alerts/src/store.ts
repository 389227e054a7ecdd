/**
 * Durable state in SQLite (better-sqlite3, WAL): samples (25 h per station and metric, for the
 * 24-hour mean after a restart), rule states, alerts, events, the outbox and every delivery
 * attempt, subscriptions (personal data: only here), staff audit trail.
 *
 * Exactly-once: a rule state change and the outbox rows it causes are written in ONE transaction;
 * the dispatcher marks a row sent only after the channel confirmed it, and re-sends a row left
 * pending by a crash with the same retry key (LINE X-Line-Retry-Key, webhook X-Cnx-Delivery).
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { SubscriptionStore } from './subscription.store';

export type { SubscriptionRow } from './subscription.store';

export type OutboxStatus = 'pending' | 'sent' | 'failed' | 'suppressed';
export type TargetKind = 'subscriber' | 'staff' | 'system';

export interface OutboxRow {
  id: number;
  event_id: number | null;
  kind: 'alert' | 'confirm';
  channel: string;
  target_kind: TargetKind;
  target_id: string;
  retry_key: string;
  status: OutboxStatus;
  attempts: number;
  next_attempt_at: number;
  last_error: string | null;
  created_at: number;
  sent_at: number | null;
}

export interface EventRow {
  id: number;
  alert_id: number;
  type: string;
  rule_id: string;
  subject_type: string;
  subject_id: string;
  level: number;
  previous_level: number;
  value: number | null;
  ts: number;
  created_at: number;
}

export interface AlertRow {
  id: number;
  rule_id: string;
  subject_type: string;
  subject_id: string;
  level: number;
  status: 'firing' | 'acknowledged' | 'resolved' | 'cleared';
  since: number;
  updated_at: number;
  value: number | null;
  acked_by: string | null;
  acked_at: number | null;
  resolved_by: string | null;
  resolved_at: number | null;
  escalation_tier: number;
  next_escalation_at: number | null;
}

export interface DeliveryRow {
  id: number;
  channel: string;
  target_kind: TargetKind;
  target_id: string;
  status: OutboxStatus;
  attempts: number;
  last_error: string | null;
  sent_at: number | null;
  next_attempt_at: number;
  event: string;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS samples (station TEXT NOT NULL, metric TEXT NOT NULL, ts INTEGER NOT NULL, value REAL NOT NULL,
  suspect INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (station, metric, ts)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS rule_state (rule_id TEXT NOT NULL, subject TEXT NOT NULL, state TEXT NOT NULL,
  PRIMARY KEY (rule_id, subject));
CREATE TABLE IF NOT EXISTS alerts (id INTEGER PRIMARY KEY, rule_id TEXT NOT NULL, subject_type TEXT NOT NULL,
  subject_id TEXT NOT NULL, level INTEGER NOT NULL, status TEXT NOT NULL, since INTEGER NOT NULL, updated_at INTEGER NOT NULL,
  value REAL, acked_by TEXT, acked_at INTEGER, resolved_by TEXT, resolved_at INTEGER, escalation_tier INTEGER NOT NULL DEFAULT 0,
  next_escalation_at INTEGER);
CREATE INDEX IF NOT EXISTS alerts_open ON alerts (rule_id, subject_id) WHERE status IN ('firing','acknowledged');
CREATE TABLE IF NOT EXISTS events (id INTEGER PRIMARY KEY, alert_id INTEGER NOT NULL, type TEXT NOT NULL, rule_id TEXT NOT NULL,
  subject_type TEXT NOT NULL, subject_id TEXT NOT NULL, level INTEGER NOT NULL, previous_level INTEGER NOT NULL, value REAL,
  ts INTEGER NOT NULL, created_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS outbox (id INTEGER PRIMARY KEY, event_id INTEGER, kind TEXT NOT NULL, channel TEXT NOT NULL,
  target_kind TEXT NOT NULL, target_id TEXT NOT NULL, retry_key TEXT NOT NULL UNIQUE, status TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0, next_attempt_at INTEGER NOT NULL, last_error TEXT, created_at INTEGER NOT NULL,
  sent_at INTEGER, claim_epoch INTEGER);
CREATE INDEX IF NOT EXISTS outbox_due ON outbox (next_attempt_at) WHERE status = 'pending';
CREATE TABLE IF NOT EXISTS delivery_attempts (id INTEGER PRIMARY KEY, outbox_id INTEGER NOT NULL, at INTEGER NOT NULL,
  ok INTEGER NOT NULL, detail TEXT);
CREATE TABLE IF NOT EXISTS subscriptions (id INTEGER PRIMARY KEY, token TEXT NOT NULL UNIQUE, channel TEXT NOT NULL,
  address TEXT NOT NULL, scope_type TEXT NOT NULL, scope_id TEXT NOT NULL, threshold REAL, quiet_start INTEGER,
  quiet_end INTEGER, lang TEXT NOT NULL, daily_cap INTEGER NOT NULL, rules TEXT, status TEXT NOT NULL,
  confirm_code TEXT NOT NULL, created_at INTEGER NOT NULL, confirmed_at INTEGER, address_key TEXT NOT NULL DEFAULT '');
CREATE TABLE IF NOT EXISTS confirmations (address_key TEXT NOT NULL, at INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS confirmations_key ON confirmations (address_key, at);
CREATE TABLE IF NOT EXISTS audit (id INTEGER PRIMARY KEY, at INTEGER NOT NULL, actor TEXT NOT NULL, action TEXT NOT NULL,
  alert_id INTEGER, detail TEXT);
CREATE TABLE IF NOT EXISTS kv (key TEXT PRIMARY KEY, value TEXT NOT NULL);
`;

export class AlertStore {
  readonly db: Database.Database;
  /** Citizens' subscriptions and the per-address confirmation log (subscription.store.ts). */
  readonly subs: SubscriptionStore;

  constructor(file: string) {
    if (file !== ':memory:') mkdirSync(path.dirname(file), { recursive: true });
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    // FULL: a committed outbox row survives a power cut, not only a process kill.
    this.db.pragma('synchronous = FULL');
    this.db.exec(SCHEMA);
    // Files written before samples carried the QC verdict: add the column (old samples count as usable).
    const cols = this.db.prepare('PRAGMA table_info(samples)').all() as { name: string }[];
    if (!cols.some((c) => c.name === 'suspect'))
      this.db.exec('ALTER TABLE samples ADD COLUMN suspect INTEGER NOT NULL DEFAULT 0');
    // Files from before issue 12: subscriptions get their address key ('' = unknown, never matched).
    const subCols = this.db.prepare('PRAGMA table_info(subscriptions)').all() as { name: string }[];
    if (!subCols.some((c) => c.name === 'address_key'))
      this.db.exec("ALTER TABLE subscriptions ADD COLUMN address_key TEXT NOT NULL DEFAULT ''");
    // Files from before the sender lease: outbox rows get the epoch of the sender that claimed them.
    const outboxCols = this.db.prepare('PRAGMA table_info(outbox)').all() as { name: string }[];
    if (!outboxCols.some((c) => c.name === 'claim_epoch'))
      this.db.exec('ALTER TABLE outbox ADD COLUMN claim_epoch INTEGER');
    this.db.exec('CREATE INDEX IF NOT EXISTS subscriptions_key ON subscriptions (address_key, status)');
    this.subs = new SubscriptionStore(this.db);
  }

  close(): void {
    this.db.close();
  }

  /**
   * BEGIN IMMEDIATE: with a hot standby on the same file, a deferred transaction that read before
   * the other process wrote could not upgrade to a write (SQLITE_BUSY); an immediate one waits.
   */
  tx<T>(fn: () => T): T {
    return this.db.transaction(fn).immediate();
  }

  kvGet(key: string): string | undefined {
    return (this.db.prepare('SELECT value FROM kv WHERE key = ?').get(key) as { value: string } | undefined)?.value;
  }
  kvSet(key: string, value: string): void {
    this.db
      .prepare('INSERT INTO kv (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value')
      .run(key, value);
  }

  // samples -----------------------------------------------------------------
  insertSample(station: string, metric: string, ts: number, value: number, suspect = false): boolean {
    return (
      this.db
        .prepare('INSERT OR IGNORE INTO samples (station, metric, ts, value, suspect) VALUES (?, ?, ?, ?, ?)')
        .run(station, metric, ts, value, suspect ? 1 : 0).changes > 0
    );
  }
  pruneSamples(before: number): void {
    this.db.prepare('DELETE FROM samples WHERE ts < ?').run(before);
  }
  allSamples(): { station: string; metric: string; ts: number; value: number; suspect: 0 | 1 }[] {
    return this.db.prepare('SELECT * FROM samples ORDER BY ts').all() as never;
  }

  // rule state --------------------------------------------------------------
  allRuleStates(): { rule_id: string; subject: string; state: string }[] {
    return this.db.prepare('SELECT * FROM rule_state').all() as never;
  }
  saveRuleState(ruleId: string, subject: string, state: unknown): void {
    this.db
      .prepare(
        'INSERT INTO rule_state VALUES (?, ?, ?) ON CONFLICT(rule_id, subject) DO UPDATE SET state = excluded.state',
      )
      .run(ruleId, subject, JSON.stringify(state));
  }

  // alerts + events ---------------------------------------------------------
  openAlert(ruleId: string, subjectId: string): AlertRow | undefined {
    return this.db
      .prepare(
        "SELECT * FROM alerts WHERE rule_id = ? AND subject_id = ? AND status IN ('firing','acknowledged') ORDER BY id DESC LIMIT 1",
      )
      .get(ruleId, subjectId) as AlertRow | undefined;
  }
  latestAlert(ruleId: string, subjectId: string): AlertRow | undefined {
    return this.db
      .prepare('SELECT * FROM alerts WHERE rule_id = ? AND subject_id = ? ORDER BY id DESC LIMIT 1')
      .get(ruleId, subjectId) as AlertRow | undefined;
  }
  createAlert(a: Omit<AlertRow, 'id' | 'acked_by' | 'acked_at' | 'resolved_by' | 'resolved_at'>): number {
    return Number(
      this.db
        .prepare(
          `INSERT INTO alerts (rule_id, subject_type, subject_id, level, status, since, updated_at, value, escalation_tier, next_escalation_at)
           VALUES (@rule_id, @subject_type, @subject_id, @level, @status, @since, @updated_at, @value, @escalation_tier, @next_escalation_at)`,
        )
        .run(a).lastInsertRowid,
    );
  }
  updateAlert(id: number, patch: Partial<AlertRow>): void {
    const keys = Object.keys(patch);
    if (!keys.length) return;
    this.db
      .prepare(`UPDATE alerts SET ${keys.map((k) => `${k} = @${k}`).join(', ')} WHERE id = @id`)
      .run({ ...patch, id });
  }
  getAlert(id: number): AlertRow | undefined {
    return this.db.prepare('SELECT * FROM alerts WHERE id = ?').get(id) as AlertRow | undefined;
  }
  activeAlerts(): AlertRow[] {
    return this.db
      .prepare("SELECT * FROM alerts WHERE status IN ('firing','acknowledged') ORDER BY id")
      .all() as AlertRow[];
  }
  dueEscalations(now: number): AlertRow[] {
    return this.db
      .prepare(
        "SELECT * FROM alerts WHERE status = 'firing' AND next_escalation_at IS NOT NULL AND next_escalation_at <= ?",
      )
      .all(now) as AlertRow[];
  }
  insertEvent(e: Omit<EventRow, 'id'>): number {
    return Number(
      this.db
        .prepare(
          `INSERT INTO events (alert_id, type, rule_id, subject_type, subject_id, level, previous_level, value, ts, created_at)
           VALUES (@alert_id, @type, @rule_id, @subject_type, @subject_id, @level, @previous_level, @value, @ts, @created_at)`,
        )
        .run(e).lastInsertRowid,
    );
  }
  getEvent(id: number): EventRow | undefined {
    return this.db.prepare('SELECT * FROM events WHERE id = ?').get(id) as EventRow | undefined;
  }
  eventsOfAlert(alertId: number): EventRow[] {
    return this.db.prepare('SELECT * FROM events WHERE alert_id = ? ORDER BY id').all(alertId) as EventRow[];
  }

  // outbox ------------------------------------------------------------------
  enqueue(
    o: Pick<
      OutboxRow,
      | 'event_id'
      | 'kind'
      | 'channel'
      | 'target_kind'
      | 'target_id'
      | 'retry_key'
      | 'status'
      | 'next_attempt_at'
      | 'created_at'
    > & { last_error?: string | null },
  ): number {
    return Number(
      this.db
        .prepare(
          `INSERT INTO outbox (event_id, kind, channel, target_kind, target_id, retry_key, status, next_attempt_at, created_at, last_error)
           VALUES (@event_id, @kind, @channel, @target_kind, @target_id, @retry_key, @status, @next_attempt_at, @created_at, @last_error)`,
        )
        .run({ last_error: null, ...o }).lastInsertRowid,
    );
  }
  dueOutbox(now: number, limit: number): OutboxRow[] {
    return this.db
      .prepare("SELECT * FROM outbox WHERE status = 'pending' AND next_attempt_at <= ? ORDER BY id LIMIT ?")
      .all(now, limit) as OutboxRow[];
  }
  nextDueAt(): number | undefined {
    return (
      (
        this.db.prepare("SELECT MIN(next_attempt_at) AS t FROM outbox WHERE status = 'pending'").get() as {
          t: number | null;
        }
      ).t ?? undefined
    );
  }
  /**
   * Claim a due row for a send by the sender of `epoch` (run inside the lease's fenced transaction):
   * false when the row is no longer pending or another attempt was recorded since it was read.
   */
  claim(id: number, attempts: number, epoch: number): boolean {
    return (
      this.db
        .prepare("UPDATE outbox SET claim_epoch = ? WHERE id = ? AND status = 'pending' AND attempts = ?")
        .run(epoch, id, attempts).changes > 0
    );
  }
  recordAttempt(id: number, at: number, ok: boolean, detail: string, patch: Partial<OutboxRow>): void {
    this.tx(() => {
      this.db
        .prepare('INSERT INTO delivery_attempts (outbox_id, at, ok, detail) VALUES (?, ?, ?, ?)')
        .run(id, at, ok ? 1 : 0, detail);
      const keys = Object.keys(patch);
      this.db
        .prepare(`UPDATE outbox SET ${keys.map((k) => `${k} = @${k}`).join(', ')} WHERE id = @id`)
        .run({ ...patch, id });
    });
  }
  outboxCount(status: OutboxStatus): number {
    return (this.db.prepare('SELECT COUNT(*) AS n FROM outbox WHERE status = ?').get(status) as { n: number }).n;
  }
  /** Alert deliveries to one subscription since `from` (daily cap). */
  subscriberDeliveriesSince(subId: number, from: number): number {
    return (
      this.db
        .prepare(
          "SELECT COUNT(*) AS n FROM outbox WHERE target_kind = 'subscriber' AND target_id = ? AND kind = 'alert' AND status IN ('pending','sent') AND created_at >= ?",
        )
        .get(String(subId), from) as { n: number }
    ).n;
  }
  /** Was this subscription told about this alert (so it should hear that it cleared)? */
  subscriberToldAbout(subId: number, alertId: number): boolean {
    return !!this.db
      .prepare(
        "SELECT 1 FROM outbox o JOIN events e ON e.id = o.event_id WHERE o.target_kind = 'subscriber' AND o.target_id = ? AND e.alert_id = ? AND o.status IN ('pending','sent') LIMIT 1",
      )
      .get(String(subId), alertId);
  }
  /** The newest `limit` deliveries of an alert (oldest first) and how many there are in all. */
  deliveriesOfAlert(alertId: number, limit = 500): { rows: DeliveryRow[]; total: number } {
    const rows = this.db
      .prepare(
        `SELECT * FROM (SELECT o.id, o.channel, o.target_kind, o.target_id, o.status, o.attempts, o.last_error,
           o.sent_at, o.next_attempt_at, e.type AS event
         FROM outbox o JOIN events e ON e.id = o.event_id WHERE e.alert_id = ? ORDER BY o.id DESC LIMIT ?) ORDER BY id`,
      )
      .all(alertId, limit) as DeliveryRow[];
    const { n } = this.db
      .prepare('SELECT COUNT(*) AS n FROM outbox o JOIN events e ON e.id = o.event_id WHERE e.alert_id = ?')
      .get(alertId) as { n: number };
    return { rows, total: n };
  }

  // public alert history ------------------------------------------------------
  /** Alerts that ended (cleared by the data or resolved by staff) since `from`, newest first. */
  endedAlertsSince(from: number, limit: number): AlertRow[] {
    return this.db
      .prepare(
        `SELECT * FROM alerts WHERE status IN ('cleared','resolved') AND (updated_at >= @from OR resolved_at >= @from)
         ORDER BY COALESCE(resolved_at, updated_at) DESC LIMIT @limit`,
      )
      .all({ from, limit }) as AlertRow[];
  }

  /** Alerts active at some time in [from, to]: started by `to` and not ended before `from`. */
  alertsOverlapping(from: number, to: number): AlertRow[] {
    return this.db
      .prepare(
        `SELECT * FROM alerts WHERE since <= @to AND (status IN ('firing','acknowledged')
           OR COALESCE(resolved_at, updated_at) >= @from) ORDER BY id`,
      )
      .all({ from, to }) as AlertRow[];
  }

  // audit -------------------------------------------------------------------
  audit(at: number, actor: string, action: string, alertId: number | null, detail?: unknown): void {
    this.db
      .prepare('INSERT INTO audit (at, actor, action, alert_id, detail) VALUES (?, ?, ?, ?, ?)')
      .run(at, actor, action, alertId, detail === undefined ? null : JSON.stringify(detail));
  }
  auditOf(alertId: number): { at: number; actor: string; action: string; detail: string | null }[] {
    return this.db
      .prepare('SELECT at, actor, action, detail FROM audit WHERE alert_id = ? ORDER BY id')
      .all(alertId) as never;
  }
}
