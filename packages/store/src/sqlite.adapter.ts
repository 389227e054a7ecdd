import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { MetricId, Reading } from '@cnx/domain';
import Database from 'better-sqlite3';
import { STORE_ERROR_CODES, StoreError, show } from './errors';
import { type StoreLogger, silentLogger } from './logger';
import { keyOf } from './paging';
import type {
  AggregateBucket,
  AggregateQuery,
  QcFilter,
  ReadingKey,
  ReadingQuery,
  ReadingStore,
  ScanQuery,
  StationCount,
  StoredReading,
  StoreHealth,
} from './reading-store';
import {
  type LateHour,
  type RollupQuery,
  type RollupRange,
  type RollupRow,
  type RollupState,
  validateRollupQuery,
  validateRollupRows,
} from './rollups';
import {
  byCityStation,
  correctedField,
  correctionField,
  encodeQc,
  encodeQcMetrics,
  FIELD_QC_METRICS,
  metricColumns,
  RowDecoder,
} from './schema';
import { aggregateSql, q, qcSql, STATION_TS_INDEX, TABLE, TS_INDEX, where } from './sqlite.queries';
import { SqliteRollups } from './sqlite.rollups';
import { ALL_COLUMNS, checkSchema, METRIC_COLUMNS, migrate, SELECT_BASE } from './sqlite.schema';
import {
  type FilterQuery,
  validateAggregate,
  validateFilter,
  validateQc,
  validateQuery,
  validateRange,
  validateReading,
  validateScan,
} from './validate';

export interface SqliteStoreOptions {
  /** File path (parent directories are created) or ':memory:'. */
  path: string;
  logger?: StoreLogger;
  /**
   * NORMAL (default) in WAL mode survives a crash of the process; a power loss may lose the last
   * transactions, never corrupt the file. FULL also survives power loss, at an fsync per commit.
   */
  synchronous?: 'NORMAL' | 'FULL';
  /**
   * Open an existing file read-only, as a second process beside the writer (the API beside the
   * gateway; WAL lets readers and one writer work at once). No schema changes: start() fails
   * (retryable) until the writer has created the table, its columns and indexes; write() is refused.
   */
  readonly?: boolean;
}

/**
 * The embedded default ReadingStore: one SQLite table, one row per reading, a column per metric (and
 * its correction pair). The primary key is the reading's identity, and an upsert merges like
 * InfluxDB: columns present in the new reading win, metric columns it lacks keep their old values.
 */
export class SqliteReadingStore implements ReadingStore {
  readonly backend = 'sqlite' as const;
  private db: Database.Database | undefined;
  private insertMany: ((rows: readonly Reading[]) => void) | undefined;
  private readonly statements = new Map<string, Database.Statement>();
  private readonly log: StoreLogger;
  private rollups: SqliteRollups | undefined;

  constructor(private readonly opts: SqliteStoreOptions) {
    this.log = opts.logger ?? silentLogger;
  }

  async start(): Promise<void> {
    if (this.db) return;
    const path = this.opts.path;
    try {
      if (this.opts.readonly) {
        const db = new Database(path, { readonly: true, fileMustExist: true });
        this.db = db;
        db.pragma('busy_timeout = 5000');
        checkSchema(db);
      } else {
        if (path !== ':memory:' && !path.startsWith('file:')) mkdirSync(dirname(path), { recursive: true });
        const db = new Database(path);
        this.db = db;
        db.pragma('journal_mode = WAL');
        db.pragma(`synchronous = ${this.opts.synchronous === 'FULL' ? 'FULL' : 'NORMAL'}`);
        db.pragma('busy_timeout = 5000');
        migrate(db);
        this.prepareInsert(db);
      }
      this.rollups = new SqliteRollups(this.db, (sql) => this.statement(sql));
    } catch (err) {
      this.db?.close();
      this.db = undefined;
      throw sqliteError('start', err);
    }
    this.log.info({ path, readonly: this.opts.readonly === true }, 'sqlite store started');
  }

  async stop(): Promise<void> {
    this.statements.clear();
    this.insertMany = undefined;
    this.rollups = undefined;
    const db = this.db;
    this.db = undefined;
    db?.close();
  }

  private prepareInsert(db: Database.Database): void {
    const merge = [
      'seq = coalesce(excluded.seq, seq)',
      'qc = excluded.qc',
      `${FIELD_QC_METRICS} = excluded.${FIELD_QC_METRICS}`,
      ...METRIC_COLUMNS.map((c) => `${q(c)} = coalesce(excluded.${q(c)}, ${q(c)})`),
    ];
    const stmt = db.prepare(
      `INSERT INTO ${TABLE} (${ALL_COLUMNS.map(q).join(', ')}) VALUES (${ALL_COLUMNS.map(() => '?').join(', ')})
       ON CONFLICT (city, station, device, ts) DO UPDATE SET ${merge.join(', ')}`,
    );
    const slot = new Map<string, number>(ALL_COLUMNS.map((c, i) => [c, i]));
    const toRow = (r: Reading): unknown[] => {
      const row: unknown[] = new Array(ALL_COLUMNS.length).fill(null);
      row[0] = r.city;
      row[1] = r.stationId;
      row[2] = r.deviceId;
      row[3] = r.ts;
      row[4] = r.seq ?? null;
      row[5] = encodeQc(r.qc);
      row[6] = encodeQcMetrics(r.qcMetrics) ?? ''; // validated before: never undefined here
      for (const key in r.values) {
        const v = r.values[key as MetricId];
        if (v !== undefined) row[slot.get(key)!] = v;
      }
      for (const c of r.corrections) {
        row[slot.get(correctedField(c.metric))!] = c.value;
        row[slot.get(correctionField(c.metric))!] = c.method;
      }
      return row;
    };
    this.insertMany = db.transaction((rows: readonly Reading[]) => {
      for (const r of rows) stmt.run(toRow(r));
      // Late readings mark their hour in the same commit (rollups.ts, README "Late readings").
      this.rollups?.mark(rows, Date.now());
    });
  }

  async write(readings: readonly Reading[]): Promise<void> {
    const insertMany = this.insertMany;
    if (this.db && this.opts.readonly) {
      throw new StoreError(STORE_ERROR_CODES.invalidConfig, `SQLite write: ${this.opts.path} is open read-only`, {
        retryable: false,
      });
    }
    if (!insertMany) throw notStarted('write');
    if (readings.length === 0) return;
    // Validate the whole batch first: an invalid reading rejects the batch before anything is stored.
    for (const r of readings) validateReading(r);
    try {
      insertMany(readings);
    } catch (err) {
      throw sqliteError('write', err);
    }
  }

  async query(rq: ReadingQuery): Promise<StoredReading[]> {
    if (!this.db) throw notStarted('query');
    if (!validateQuery(rq)) return [];
    const columns = [...SELECT_BASE, ...(rq.metrics ? metricColumns(rq.metrics) : METRIC_COLUMNS)];
    const { sql, params } = where(rq);
    const dir = rq.order === 'desc' ? 'DESC' : 'ASC';
    const stmt = this.statement(
      `SELECT ${columns.map(q).join(', ')} FROM ${TABLE} WHERE ${sql} ORDER BY ts ${dir}, city, station, device LIMIT ?`,
    );
    return this.decode(stmt, [...params, rq.limit]);
  }

  async count(fq: FilterQuery): Promise<number> {
    if (!this.db) throw notStarted('count');
    if (!validateFilter(fq)) return 0;
    const { sql, params } = where(fq);
    const row = this.run('count', () => this.statement(`SELECT count(*) AS n FROM ${TABLE} WHERE ${sql}`).get(params));
    return Number((row as { n: number }).n);
  }

  async latestPerStation(since: number, stationIds?: string[], qc?: QcFilter): Promise<StoredReading[]> {
    if (!this.db) throw notStarted('latestPerStation');
    const now = Date.now();
    validateRange(since, now);
    validateQc(qc);
    const filter = { from: since, to: now + 1, ...(stationIds ? { stationIds } : {}) };
    if (!validateFilter(filter)) return [];
    // One indexed probe per (city, station) on (station, ts): "ORDER BY ts DESC LIMIT 1" reads one
    // row, where a GROUP BY over the window reads every reading in it (2.4 s for 30 days of a city).
    // Distinct values come from skip-scans of the indexes (a recursive min(x) WHERE x > previous).
    const distinct = (column: 'city' | 'station'): string[] =>
      (
        this.statement(
          `WITH RECURSIVE s(v) AS (SELECT min(${column}) FROM ${TABLE} UNION ALL ` +
            `SELECT (SELECT min(${column}) FROM ${TABLE} WHERE ${column} > s.v) FROM s WHERE s.v IS NOT NULL) ` +
            'SELECT v FROM s WHERE v IS NOT NULL',
        )
          .raw(true)
          .all() as [string][]
      ).map((r) => r[0]);
    const stations = stationIds ?? distinct('station');
    const cities = distinct('city');
    const columns = [...SELECT_BASE, ...METRIC_COLUMNS];
    const stmt = this.statement(
      `SELECT ${columns.map(q).join(', ')} FROM ${TABLE} INDEXED BY ${STATION_TS_INDEX} ` +
        `WHERE station = ? AND city = ? AND ts >= ? AND ts < ? AND ${qcSql(qc).pass} ORDER BY ts DESC LIMIT 1`,
    );
    const out: StoredReading[] = [];
    for (const station of stations) {
      for (const city of cities) out.push(...(await this.decode(stmt, [station, city, filter.from, filter.to])));
    }
    return out.sort(byCityStation);
  }

  async *scan(sq: ScanQuery, pageSize: number): AsyncGenerator<StoredReading[]> {
    if (!this.db) throw notStarted('scan');
    if (!validateScan(sq, pageSize)) return;
    const columns = [...SELECT_BASE, ...(sq.metrics ? metricColumns(sq.metrics) : METRIC_COLUMNS)];
    const w = where(sq);
    const filter = `${w.sql} AND ${qcSql(sq.qc).pass}`;
    // One station: its (station, ts) index yields rows in time order. Several (or none): the ts
    // index does, where the station index would make every page sort all remaining rows.
    const index = sq.stationIds?.length === 1 ? '' : ` INDEXED BY ${TS_INDEX}`;
    const order = 'ORDER BY ts, city, station, device LIMIT ?';
    const select = `SELECT ${columns.map(q).join(', ')} FROM ${TABLE}${index} WHERE ${filter}`;
    const first = this.statement(`${select} ${order}`);
    // Keyset: `ts >= ?` keeps each page an index range scan; the row value breaks ties within one ts.
    const next = this.statement(
      `${select} AND ts >= ? AND (ts > ? OR (ts = ? AND (city, station, device) > (?, ?, ?))) ${order}`,
    );
    let after: ReadingKey | undefined = sq.after && sq.after.ts >= sq.from ? sq.after : undefined;
    for (;;) {
      const page = after
        ? await this.decode(next, [
            ...w.params,
            after.ts,
            after.ts,
            after.ts,
            after.city,
            after.stationId,
            after.deviceId,
            pageSize,
          ])
        : await this.decode(first, [...w.params, pageSize]);
      if (page.length > 0) yield page;
      if (page.length < pageSize) return;
      after = keyOf(page[page.length - 1]!);
    }
  }

  async aggregate(aq: AggregateQuery): Promise<AggregateBucket[]> {
    if (!this.db) throw notStarted('aggregate');
    if (!validateAggregate(aq)) return [];
    const { sql, params } = aggregateSql(aq);
    const rows = this.run('aggregate', () => this.statement(sql).all(params)) as Array<{
      city: string;
      station: string;
      start: number;
      mean: number;
      min: number;
      max: number;
      n: number;
      flagged: number;
    }>;
    return rows
      .map((r) => ({
        city: r.city,
        stationId: r.station,
        start: Number(r.start),
        mean: r.mean,
        min: r.min,
        max: r.max,
        count: Number(r.n),
        flagged: Number(r.flagged),
      }))
      .sort((a, b) => byCityStation(a, b) || a.start - b.start);
  }

  async countByStation(fq: FilterQuery & { qc?: QcFilter }): Promise<StationCount[]> {
    if (!this.db) throw notStarted('countByStation');
    if (!validateFilter(fq)) return [];
    validateQc(fq.qc);
    const w = where(fq);
    const sql = `SELECT city, station, count(*) AS n FROM ${TABLE} WHERE ${w.sql} AND ${qcSql(fq.qc).pass} GROUP BY city, station`;
    const rows = this.run('countByStation', () => this.statement(sql).all(w.params)) as Array<{
      city: string;
      station: string;
      n: number;
    }>;
    return rows.map((r) => ({ city: r.city, stationId: r.station, count: Number(r.n) })).sort(byCityStation);
  }

  async replaceRollups(range: RollupRange, rows: readonly RollupRow[]): Promise<void> {
    const r = this.rollupsOrThrow('replaceRollups', true);
    if (!validateRollupQuery(range)) return;
    validateRollupRows(range, rows);
    this.run('replaceRollups', () => r.replace(range, rows));
  }

  async readRollups(rq: RollupQuery): Promise<RollupRow[]> {
    const r = this.rollupsOrThrow('readRollups');
    if (!validateRollupQuery(rq)) return [];
    return this.run('readRollups', () => r.read(rq));
  }

  async rollupState(city: string): Promise<RollupState> {
    const r = this.rollupsOrThrow('rollupState');
    return this.run('rollupState', () => r.state(city));
  }

  async saveRollupState(city: string, state: RollupState): Promise<void> {
    const r = this.rollupsOrThrow('saveRollupState', true);
    this.run('saveRollupState', () => r.saveState(city, state));
  }

  async lateHours(city: string, after: number, upTo: number): Promise<LateHour[]> {
    const r = this.rollupsOrThrow('lateHours');
    return this.run('lateHours', () => r.lateHours(city, after, upTo));
  }

  async deleteRawBefore(before: number): Promise<boolean> {
    const r = this.rollupsOrThrow('deleteRawBefore', true);
    validateRange(before, before);
    this.run('deleteRawBefore', () => r.deleteRawBefore(TABLE, before));
    return true;
  }

  private rollupsOrThrow(what: string, writes = false): SqliteRollups {
    if (!this.rollups) throw notStarted(what);
    if (writes && this.opts.readonly) {
      throw new StoreError(STORE_ERROR_CODES.invalidConfig, `SQLite ${what}: ${this.opts.path} is open read-only`, {
        retryable: false,
      });
    }
    return this.rollups;
  }

  async health(): Promise<StoreHealth> {
    if (!this.db) return { ok: false, backend: this.backend, detail: 'not started' };
    try {
      this.db.prepare('SELECT 1').get();
      return { ok: true, backend: this.backend, detail: `SQLite ${this.opts.path}` };
    } catch (err) {
      return { ok: false, backend: this.backend, detail: (err as Error).message };
    }
  }

  private async decode(stmt: Database.Statement, params: unknown[]): Promise<StoredReading[]> {
    const rows = this.run('query', () => stmt.raw(true).all(params) as unknown[][]);
    const decoder = new RowDecoder(stmt.columns().map((c) => c.name));
    return rows.map((row) => decoder.decode(row));
  }

  private statement(sql: string): Database.Statement {
    let stmt = this.statements.get(sql);
    if (!stmt) {
      if (this.statements.size >= 256) this.statements.clear();
      stmt = this.db!.prepare(sql);
      this.statements.set(sql, stmt);
    }
    return stmt;
  }

  private run<T>(what: string, fn: () => T): T {
    try {
      return fn();
    } catch (err) {
      throw sqliteError(what, err);
    }
  }
}

const notStarted = (what: string): StoreError =>
  new StoreError(STORE_ERROR_CODES.notStarted, `SQLite ${what}: call start() first`, { retryable: false });

// Busy/locked, disk full and I/O errors may pass; a constraint or schema error will not.
const RETRYABLE_SQLITE = /^SQLITE_(BUSY|LOCKED|FULL|IOERR|CANTOPEN|PROTOCOL)/;

function sqliteError(what: string, err: unknown): StoreError {
  if (err instanceof StoreError) return err;
  const code = (err as { code?: string }).code ?? '';
  return new StoreError(
    STORE_ERROR_CODES.sqlite,
    `SQLite ${what} failed: ${code} ${(err as Error).message ?? show(err)}`,
    {
      retryable: RETRYABLE_SQLITE.test(code),
      cause: err,
    },
  );
}
