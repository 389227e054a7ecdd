import { METRIC_IDS } from '@cnx/domain';
import type Database from 'better-sqlite3';
import { STORE_ERROR_CODES, StoreError } from './errors';
import { correctedField, correctionField, FIELD_QC_METRICS, metricColumns } from './schema';
import { q, STATION_TS_INDEX, TABLE, TS_INDEX } from './sqlite.queries';
import { migrateRollups, ROLLUP_TABLES } from './sqlite.rollups';

/** The table's columns (schema.ts names them for every backend). */
const ID_COLUMNS = ['city', 'station', 'device', 'ts'] as const;
export const METRIC_COLUMNS = metricColumns(METRIC_IDS);
export const ALL_COLUMNS = [...ID_COLUMNS, 'seq', 'qc', FIELD_QC_METRICS, ...METRIC_COLUMNS];
/** What every read selects before the metric columns. */
export const SELECT_BASE = [...ID_COLUMNS, 'seq', 'qc', FIELD_QC_METRICS];

/**
 * Creates the table and indexes, or brings an existing file up to date: columns added since it was
 * made are added (existing rows hold NULL in them). Runs at the writer's start.
 */
export function migrate(db: Database.Database): void {
  db.exec(`CREATE TABLE IF NOT EXISTS ${TABLE} (
    city TEXT NOT NULL, station TEXT NOT NULL, device TEXT NOT NULL, ts INTEGER NOT NULL,
    seq INTEGER, qc TEXT NOT NULL DEFAULT '', ${FIELD_QC_METRICS} TEXT,
    PRIMARY KEY (city, station, device, ts)
  ) WITHOUT ROWID`);
  const existing = new Set((db.pragma(`table_info(${TABLE})`) as Array<{ name: string }>).map((c) => c.name));
  // A file from before per-metric QC: its rows keep NULL, "about an unknown metric" (qcSql counts
  // their metric flags for every metric, to be safe).
  if (!existing.has(FIELD_QC_METRICS)) db.exec(`ALTER TABLE ${TABLE} ADD COLUMN ${FIELD_QC_METRICS} TEXT`);
  // New metrics in the registry just work: add their columns to an existing table.
  for (const m of METRIC_IDS) {
    for (const [col, type] of [
      [m, 'REAL'],
      [correctedField(m), 'REAL'],
      [correctionField(m), 'TEXT'],
    ] as const) {
      if (!existing.has(col)) db.exec(`ALTER TABLE ${TABLE} ADD COLUMN ${q(col)} ${type}`);
    }
  }
  db.exec(`CREATE INDEX IF NOT EXISTS ${STATION_TS_INDEX} ON ${TABLE} (station, ts)`);
  db.exec(`CREATE INDEX IF NOT EXISTS ${TS_INDEX} ON ${TABLE} (ts)`);
  migrateRollups(db);
}

/** A read-only store needs the writer's schema: the table, every column and both indexes. */
export function checkSchema(db: Database.Database): void {
  const columns = new Set((db.pragma(`table_info(${TABLE})`) as Array<{ name: string }>).map((c) => c.name));
  const indexes = new Set((db.pragma(`index_list(${TABLE})`) as Array<{ name: string }>).map((c) => c.name));
  const tables = new Set(
    (db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table'`).all() as Array<{ name: string }>).map(
      (t) => t.name,
    ),
  );
  const missing = [
    ...ALL_COLUMNS.filter((c) => !columns.has(c)),
    ...ROLLUP_TABLES.filter((t) => !tables.has(t)),
    ...[TS_INDEX, STATION_TS_INDEX].filter((i) => !indexes.has(i)),
  ];
  if (missing.length > 0) {
    const what = columns.size === 0 ? `no table ${TABLE}` : `missing ${missing.join(', ')}`;
    throw new StoreError(
      STORE_ERROR_CODES.sqlite,
      `SQLite (read-only): ${what}; the writer (the gateway) creates the schema at its start`,
      { retryable: true },
    );
  }
}
