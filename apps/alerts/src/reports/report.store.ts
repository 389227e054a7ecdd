/**
 * Citizen reports in the alerts service's SQLite file (beside the alerts and the staff audit, so a
 * report and the sensor alerts near it are read in one place). Three tables: `reports` (no client
 * address, no account: the point, category, text and moderation state), `report_photos` (the
 * re-encoded JPEG only; deleted when a report is rejected or merged) and `report_audit` (who did what
 * when to a report; kept when a report is purged).
 */

import type { ReportCategory, ReportStatus } from '@cnx/protocol';
import type Database from 'better-sqlite3';

export interface ReportRow {
  id: number;
  status: ReportStatus;
  category: ReportCategory;
  text: string;
  lat: number;
  lon: number;
  reported_at: number;
  has_photo: 0 | 1;
  moderated_by: string | null;
  moderated_at: number | null;
  reason: string | null;
  merged_into: number | null;
}

export interface ReportAuditRow {
  at: number;
  actor: string;
  action: string;
  detail: string | null;
}

export const REPORTS_SCHEMA = `
CREATE TABLE IF NOT EXISTS reports (id INTEGER PRIMARY KEY, status TEXT NOT NULL, category TEXT NOT NULL,
  text TEXT NOT NULL, lat REAL NOT NULL, lon REAL NOT NULL, reported_at INTEGER NOT NULL,
  has_photo INTEGER NOT NULL DEFAULT 0, moderated_by TEXT, moderated_at INTEGER, reason TEXT, merged_into INTEGER);
CREATE INDEX IF NOT EXISTS reports_status ON reports (status, reported_at);
CREATE TABLE IF NOT EXISTS report_photos (report_id INTEGER PRIMARY KEY, jpeg BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS report_audit (id INTEGER PRIMARY KEY, report_id INTEGER NOT NULL, at INTEGER NOT NULL,
  actor TEXT NOT NULL, action TEXT NOT NULL, detail TEXT);
CREATE INDEX IF NOT EXISTS report_audit_report ON report_audit (report_id, id);
`;

export class ReportStore {
  constructor(private readonly db: Database.Database) {
    db.exec(REPORTS_SCHEMA);
  }

  tx<T>(fn: () => T): T {
    return this.db.transaction(fn)();
  }

  insert(r: Omit<ReportRow, 'id' | 'moderated_by' | 'moderated_at' | 'reason' | 'merged_into'>, jpeg?: Buffer): number {
    return this.tx(() => {
      const id = Number(
        this.db
          .prepare(
            `INSERT INTO reports (status, category, text, lat, lon, reported_at, has_photo)
             VALUES (@status, @category, @text, @lat, @lon, @reported_at, @has_photo)`,
          )
          .run(r).lastInsertRowid,
      );
      if (jpeg) this.db.prepare('INSERT INTO report_photos (report_id, jpeg) VALUES (?, ?)').run(id, jpeg);
      this.audit(id, r.reported_at, 'system', 'submitted', { category: r.category, photo: r.has_photo === 1 });
      return id;
    });
  }

  get(id: number): ReportRow | undefined {
    return this.db.prepare('SELECT * FROM reports WHERE id = ?').get(id) as ReportRow | undefined;
  }

  /** Newest first. */
  list(status: ReportStatus | undefined, limit: number): ReportRow[] {
    return (
      status
        ? this.db.prepare('SELECT * FROM reports WHERE status = ? ORDER BY id DESC LIMIT ?').all(status, limit)
        : this.db.prepare('SELECT * FROM reports ORDER BY id DESC LIMIT ?').all(limit)
    ) as ReportRow[];
  }

  /**
   * Approved reports (the open data), counted back from the newest: the `limit` after skipping the
   * `offset` newest, oldest first among them.
   */
  approved(limit: number, offset = 0): ReportRow[] {
    return (
      this.db
        .prepare("SELECT * FROM reports WHERE status = 'approved' ORDER BY id DESC LIMIT ? OFFSET ?")
        .all(limit, offset) as ReportRow[]
    ).reverse();
  }

  approvedCount(): number {
    return (this.db.prepare("SELECT count(*) AS n FROM reports WHERE status = 'approved'").get() as { n: number }).n;
  }

  /** Reports made between two times (for "near each other"; the distance is checked by the caller). */
  between(from: number, to: number): ReportRow[] {
    return this.db
      .prepare('SELECT * FROM reports WHERE reported_at BETWEEN ? AND ? ORDER BY reported_at')
      .all(from, to) as ReportRow[];
  }

  /** How many reports were merged into each of these. */
  duplicateCounts(): Map<number, number> {
    const rows = this.db
      .prepare(
        "SELECT merged_into AS id, COUNT(*) AS n FROM reports WHERE status = 'merged' AND merged_into IS NOT NULL GROUP BY merged_into",
      )
      .all() as { id: number; n: number }[];
    return new Map(rows.map((r) => [r.id, r.n]));
  }

  update(id: number, patch: Partial<ReportRow>): void {
    const keys = Object.keys(patch);
    if (!keys.length) return;
    this.db
      .prepare(`UPDATE reports SET ${keys.map((k) => `${k} = @${k}`).join(', ')} WHERE id = @id`)
      .run({ ...patch, id });
  }

  photo(id: number): Buffer | undefined {
    return (
      this.db.prepare('SELECT jpeg FROM report_photos WHERE report_id = ?').get(id) as { jpeg: Buffer } | undefined
    )?.jpeg;
  }

  deletePhoto(id: number): void {
    this.db.prepare('DELETE FROM report_photos WHERE report_id = ?').run(id);
    this.db.prepare('UPDATE reports SET has_photo = 0 WHERE id = ?').run(id);
  }

  audit(reportId: number, at: number, actor: string, action: string, detail?: unknown): void {
    this.db
      .prepare('INSERT INTO report_audit (report_id, at, actor, action, detail) VALUES (?, ?, ?, ?, ?)')
      .run(reportId, at, actor, action, detail === undefined ? null : JSON.stringify(detail));
  }

  auditOf(reportId: number): ReportAuditRow[] {
    return this.db
      .prepare('SELECT at, actor, action, detail FROM report_audit WHERE report_id = ? ORDER BY id')
      .all(reportId) as ReportAuditRow[];
  }

  /**
   * Rejected and merged reports moderated before `before`: their text is blanked and their location
   * rounded to ~1 km (the audit rows stay). Returns how many were purged.
   */
  purgeModerated(before: number, at: number): number {
    return this.tx(() => {
      const rows = this.db
        .prepare("SELECT id FROM reports WHERE status IN ('rejected','merged') AND text != '' AND moderated_at < ?")
        .all(before) as { id: number }[];
      for (const { id } of rows) {
        this.db.prepare("UPDATE reports SET text = '', lat = ROUND(lat, 2), lon = ROUND(lon, 2) WHERE id = ?").run(id);
        this.deletePhoto(id);
        this.audit(id, at, 'system', 'purged');
      }
      return rows.length;
    });
  }
}
