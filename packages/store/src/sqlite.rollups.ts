import type Database from 'better-sqlite3';
import {
  byRollupKey,
  EMPTY_ROLLUP_STATE,
  type LateHour,
  lateHoursOf,
  type RollupLevel,
  type RollupQuery,
  type RollupRange,
  type RollupRow,
  type RollupState,
} from './rollups';

/** Rollup rows, the rollup state per city and the late-write marks (README "Rollups and retention"). */
export const ROLLUP_TABLE = 'rollups';
export const ROLLUP_STATE_TABLE = 'rollup_state';
export const LATE_TABLE = 'rollup_late';

export function migrateRollups(db: Database.Database): void {
  db.exec(`CREATE TABLE IF NOT EXISTS ${ROLLUP_TABLE} (
    level TEXT NOT NULL, city TEXT NOT NULL, station TEXT NOT NULL, metric TEXT NOT NULL, start INTEGER NOT NULL,
    mean REAL NOT NULL, min REAL NOT NULL, max REAL NOT NULL,
    count INTEGER NOT NULL, flagged INTEGER NOT NULL, expected INTEGER NOT NULL,
    PRIMARY KEY (level, city, station, metric, start)
  ) WITHOUT ROWID`);
  db.exec(`CREATE TABLE IF NOT EXISTS ${ROLLUP_STATE_TABLE} (
    city TEXT PRIMARY KEY, hour INTEGER NOT NULL, day INTEGER NOT NULL, late_cursor INTEGER NOT NULL, raw_from INTEGER NOT NULL
  ) WITHOUT ROWID`);
  db.exec(`CREATE TABLE IF NOT EXISTS ${LATE_TABLE} (
    city TEXT NOT NULL, station TEXT NOT NULL, hour INTEGER NOT NULL, w INTEGER NOT NULL,
    PRIMARY KEY (city, station, hour)
  ) WITHOUT ROWID`);
}

export const ROLLUP_TABLES = [ROLLUP_TABLE, ROLLUP_STATE_TABLE, LATE_TABLE];

type Stmt = (sql: string) => Database.Statement;

const inList = (n: number) => Array.from({ length: n }, () => '?').join(', ');

/** The rollup half of SqliteReadingStore (kept apart for file size). */
export class SqliteRollups {
  private markLate: Database.Statement | undefined;

  constructor(
    private readonly db: Database.Database,
    private readonly stmt: Stmt,
  ) {}

  /** Called inside the write transaction: late readings mark their hour (same commit as the readings). */
  mark(readings: readonly { city: string; stationId: string; ts: number }[], now: number): void {
    const late = lateHoursOf(readings, now);
    if (late.length === 0) return;
    this.markLate ??= this.db.prepare(
      `INSERT INTO ${LATE_TABLE} (city, station, hour, w) VALUES (?, ?, ?, ?)
       ON CONFLICT (city, station, hour) DO UPDATE SET w = excluded.w`,
    );
    for (const h of late) this.markLate.run(h.city, h.stationId, h.start, now);
  }

  replace(range: RollupRange, rows: readonly RollupRow[]): void {
    const stations = range.stationIds ? ` AND station IN (${inList(range.stationIds.length)})` : '';
    const del = this.stmt(
      `DELETE FROM ${ROLLUP_TABLE} WHERE level = ? AND city = ? AND start >= ? AND start < ?${stations}`,
    );
    const ins = this.stmt(
      `INSERT INTO ${ROLLUP_TABLE} (level, city, station, metric, start, mean, min, max, count, flagged, expected)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.db.transaction(() => {
      del.run(range.level, range.city, range.from, range.to, ...(range.stationIds ?? []));
      for (const r of rows) {
        ins.run(r.level, r.city, r.stationId, r.metric, r.start, r.mean, r.min, r.max, r.count, r.flagged, r.expected);
      }
    })();
  }

  read(q: RollupQuery): RollupRow[] {
    const params: unknown[] = [q.level, q.city, q.from, q.to];
    let sql = `SELECT station, metric, start, mean, min, max, count, flagged, expected FROM ${ROLLUP_TABLE}
      WHERE level = ? AND city = ? AND start >= ? AND start < ?`;
    if (q.stationIds) {
      sql += ` AND station IN (${inList(q.stationIds.length)})`;
      params.push(...q.stationIds);
    }
    if (q.metrics) {
      sql += ` AND metric IN (${inList(q.metrics.length)})`;
      params.push(...q.metrics);
    }
    // Raw rows and one object each: a year of hours is 8,760 rows per station and metric. SQLite's
    // BINARY order of ASCII ids is byRollupKey's; other ids are sorted again below.
    const rows = this.stmt(`${sql} ORDER BY station, metric, start`).raw(true).all(params) as unknown[][];
    const level: RollupLevel = q.level;
    const city = q.city;
    const out: RollupRow[] = new Array(rows.length);
    let ascii = true;
    for (let i = 0; i < rows.length; i++) {
      const r = rows[i]!;
      const stationId = r[0] as string;
      if (ascii && !/^[\x20-\x7e]*$/.test(stationId)) ascii = false;
      out[i] = {
        level,
        city,
        stationId,
        metric: r[1] as string,
        start: r[2] as number,
        mean: r[3] as number,
        min: r[4] as number,
        max: r[5] as number,
        count: r[6] as number,
        flagged: r[7] as number,
        expected: r[8] as number,
      };
    }
    return ascii ? out : out.sort(byRollupKey);
  }

  state(city: string): RollupState {
    const row = this.stmt(
      `SELECT hour, day, late_cursor AS lateCursor, raw_from AS rawFrom FROM ${ROLLUP_STATE_TABLE} WHERE city = ?`,
    ).get(city) as RollupState | undefined;
    return row ? { ...row } : { ...EMPTY_ROLLUP_STATE };
  }

  saveState(city: string, s: RollupState): void {
    this.stmt(
      `INSERT INTO ${ROLLUP_STATE_TABLE} (city, hour, day, late_cursor, raw_from) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (city) DO UPDATE SET hour = excluded.hour, day = excluded.day,
         late_cursor = excluded.late_cursor, raw_from = excluded.raw_from`,
    ).run(city, s.hour, s.day, s.lateCursor, s.rawFrom);
  }

  lateHours(city: string, after: number, upTo: number): LateHour[] {
    return (
      this.stmt(
        `SELECT station AS stationId, hour AS start FROM ${LATE_TABLE} WHERE city = ? AND w > ? AND w <= ? ORDER BY station, hour`,
      ).all(city, after, upTo) as LateHour[]
    ).map((h) => ({ ...h }));
  }

  /** Deletes raw rows before `before` and the late marks of hours before it (their raw is gone). */
  deleteRawBefore(readingsTable: string, before: number): void {
    this.db.transaction(() => {
      this.stmt(`DELETE FROM ${readingsTable} WHERE ts < ?`).run(before);
      this.stmt(`DELETE FROM ${LATE_TABLE} WHERE hour < ?`).run(before);
    })();
  }
}
