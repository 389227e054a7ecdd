import { METRIC_IDS, type Reading } from '@cnx/domain';
import { STORE_ERROR_CODES, StoreError, show } from './errors';
import { InfluxClient } from './influxdb.client';
import { httpError } from './influxdb.http';
import {
  aggregateStatements,
  BASE_FIELDS,
  mergeAggregate,
  readingFilters,
  selectList,
  tagRef,
} from './influxdb.queries';
import { InfluxRollups } from './influxdb.rollups';
import { INFLUX_VERSIONS, type InfluxMajor, type InfluxVersionSetting } from './influxdb.version';
import { type InfluxQL, ident, int, iql, join, measurementRef, tagIn, timeMs, timeRange } from './influxql';
import { appendLines, ByteBuilder, ReadingEncoder } from './line-protocol';
import { type StoreLogger, silentLogger } from './logger';
import { compareKeys, PageBuffer } from './paging';
import type {
  AggregateBucket,
  AggregateQuery,
  QcFilter,
  ReadingQuery,
  ReadingStore,
  ScanQuery,
  StationCount,
  StoredReading,
  StoreHealth,
} from './reading-store';
import {
  type LateHour,
  lateHoursOf,
  type RollupQuery,
  type RollupRange,
  type RollupRow,
  type RollupState,
  validateRollupQuery,
  validateRollupRows,
} from './rollups';
import { byCityStation, FIELD_QC, metricColumns, RowDecoder, TAG_CITY, TAG_DEVICE, TAG_STATION } from './schema';
import {
  type FilterQuery,
  validateAggregate,
  validateFilter,
  validateQc,
  validateQuery,
  validateRange,
  validateScan,
} from './validate';

export interface InfluxDbStoreOptions {
  /** e.g. http://127.0.0.1:8086 — InfluxDB 1.x, 2.x (v1-compatibility API) or 3 Core/Enterprise. */
  url: string;
  /** 1.x database; 2.x the database of a DBRP mapping (to a bucket); 3 database. */
  database: string;
  /**
   * Which InfluxDB (influxdb.version.ts): 'auto' (default) takes the version the server names on
   * GET /ping and refuses to start when it names none; '1' | '2' | '3' must agree with the server
   * when it names one.
   */
  version?: InfluxVersionSetting;
  /** 1.x user (sent as Basic auth). */
  username?: string;
  password?: string;
  /** 2.x/3 token, sent as `Authorization: Token <token>`. Exclusive with username/password. */
  token?: string;
  /** 1.x retention policy; 2.x the retention policy of the DBRP mapping; refused on 3. */
  retentionPolicy?: string;
  /**
   * Where the rollup and rollup-state points go (README "Rollups and retention"): 1.x a retention
   * policy without expiry, 2.x the retention policy of a DBRP mapping to a bucket kept for good;
   * default `retentionPolicy`. Refused on 3.
   */
  rollupRetentionPolicy?: string;
  /** Default 'reading'. */
  measurement?: string;
  /** Bound on every HTTP request (default 10 000 ms). */
  timeoutMs?: number;
  logger?: StoreLogger;
  /**
   * start() sends `CREATE DATABASE` on 1.x. Ignored on 2.x (which forbids it: the bucket and DBRP
   * mapping come from the init step, influxdb.init.ts) and 3 (3 Core creates a database on first write).
   * Default false.
   */
  createDatabase?: boolean;
  /** gzip request bodies (less network, more CPU). Default false. */
  gzip?: boolean;
  /** Lines per /write request; larger batches are split (InfluxData advises ~5000). Default 5000. */
  maxLinesPerRequest?: number;
  /** Keep-alive connections (default 4). */
  connections?: number;
}

const ALL_COLUMNS = metricColumns(METRIC_IDS);

/**
 * ReadingStore over the v1-compatible HTTP API of InfluxDB 1.x, 2.x and 3: line protocol to
 * /write (precision=ms) and InfluxQL to /query (epoch=ms), as each version takes them
 * (influxdb.client.ts). One point per reading; the series (city, device, station tags) plus the
 * ms timestamp is its identity, so a rewrite overwrites (InfluxDB merges the field sets: fields in the
 * new point win, fields only in the old one stay).
 */
export class InfluxDbReadingStore implements ReadingStore {
  readonly backend = 'influxdb' as const;
  private readonly client: InfluxClient;
  private readonly encoder: ReadingEncoder;
  private readonly log: StoreLogger;
  /** The measurement as FROM names it: `"rp"."reading"` on 1.x with a retention policy (set by start()). */
  private from: InfluxQL;
  private readonly maxLines: number;
  private started = false;
  /** The request body of the current write, reused (see write()). */
  private readonly body = new ByteBuilder();
  private bodyBusy = false;
  private major: InfluxMajor = 1;
  private readonly rollups: InfluxRollups;

  constructor(private readonly opts: InfluxDbStoreOptions) {
    this.encoder = new ReadingEncoder(opts.measurement ?? 'reading');
    this.log = opts.logger ?? silentLogger;
    this.client = new InfluxClient({ ...opts, timeoutMs: opts.timeoutMs ?? 10_000, logger: this.log });
    this.from = measurementRef(opts.measurement ?? 'reading');
    this.maxLines = opts.maxLinesPerRequest ?? 5000;
    this.rollups = new InfluxRollups({
      post: (lines) => this.postLines(lines.length, (i) => lines[i]!, this.rollupRp),
      select: (what, stmt, rollups) => this.select(what, stmt, rollups ? this.rollupRp : undefined),
      exec: async (what, stmt) => {
        await this.client.influxql(what, stmt);
      },
    });
  }

  async start(): Promise<void> {
    const o = this.opts;
    const bad = (msg: string) => new StoreError(STORE_ERROR_CODES.invalidConfig, msg, { retryable: false });
    if (!o.database) throw bad('InfluxDB store: database is required');
    if (o.token && o.username !== undefined) throw bad('InfluxDB store: give either token or username/password');
    if (!Number.isSafeInteger(this.maxLines) || this.maxLines < 1) {
      throw bad(`InfluxDB store: maxLinesPerRequest ${show(this.maxLines)} must be a positive integer`);
    }
    const setting = o.version ?? 'auto';
    if (!INFLUX_VERSIONS.includes(setting)) {
      throw bad(`InfluxDB store: version ${show(setting)} is not one of ${INFLUX_VERSIONS.join(', ')}`);
    }
    this.client.http.open();
    this.started = true;
    try {
      // A version or settings mismatch is permanent (STORE_INVALID_CONFIG, logged at error): a
      // gateway refuses to start on it instead of retrying forever.
      const server = await this.client.connect(setting);
      const v1 = server.major === 1;
      // 1.x: the retention policy is named in FROM; 2.x: it is a query parameter (the DBRP mapping).
      this.from = measurementRef(o.measurement ?? 'reading', v1 ? o.retentionPolicy : undefined);
      this.rollups.setRetentionPolicies(v1 ? o.retentionPolicy : undefined, v1 ? this.rollupRp : undefined);
      this.major = server.major;
      if (o.createDatabase && v1) await this.createDatabase(server.from);
      this.log.info(
        { url: this.client.origin, setting, ...server, database: o.database, createDatabase: v1 && !!o.createDatabase },
        'influxdb store started',
      );
    } catch (err) {
      await this.stop();
      throw err;
    }
  }

  /**
   * CREATE DATABASE (idempotent on 1.x). A server that answers "not implemented" (2.x does) is not
   * 1.x, whatever the configuration said: permanent, with the fix in the message.
   */
  private async createDatabase(versionFrom: 'server' | 'configuration'): Promise<void> {
    try {
      await this.client.influxql('create database', iql`CREATE DATABASE ${ident(this.opts.database)}`);
    } catch (err) {
      if (!(err instanceof StoreError) || !/not implemented/i.test(err.message)) throw err;
      this.log.error({ url: this.client.origin, versionFrom, body: err.body }, 'influxdb refused CREATE DATABASE');
      throw new StoreError(
        STORE_ERROR_CODES.invalidConfig,
        `InfluxDB at ${this.client.origin} refused CREATE DATABASE, so it is not InfluxDB 1.x: set INFLUX_VERSION=2 and run the init step (${err.message})`,
        { retryable: false, cause: err },
      );
    }
  }

  async stop(): Promise<void> {
    this.started = false;
    await this.client.http.close();
  }

  async write(readings: readonly Reading[]): Promise<void> {
    this.assertStarted('write');
    const n = readings.length;
    if (n === 0) return;
    // Late readings mark their hour in the same request (influxdb.rollups.ts). The marks are made
    // after every reading was encoded, so an invalid reading is reported as such.
    const now = Date.now();
    const hours = lateHoursOf(readings, now);
    await this.postLines(n + hours.length, (i) =>
      i < n ? this.encoder.encode(readings[i]!) : this.rollups.lateLine(hours[i - n]!, now),
    );
  }

  /**
   * Lines lineAt(0..n-1) in requests of at most maxLines lines. Everything is encoded before the
   * first request (an invalid reading rejects the whole batch before anything is sent), into one
   * reused buffer: the writer sends one batch at a time; a write that overlaps another gets its own.
   */
  private async postLines(n: number, lineAt: (i: number) => string, rp?: string): Promise<void> {
    if (n === 0) return;
    const out = this.bodyBusy ? new ByteBuilder() : this.body;
    this.bodyBusy = true;
    try {
      out.reset();
      const cuts = [0];
      for (let i = 0; i < n; i += this.maxLines) {
        appendLines(out, i, Math.min(n, i + this.maxLines), lineAt);
        cuts.push(out.length);
      }
      for (let k = 1; k < cuts.length; k++) await this.client.write(out.view(cuts[k - 1], cuts[k]), rp);
    } finally {
      if (out === this.body) this.bodyBusy = false;
    }
  }

  async query(q: ReadingQuery): Promise<StoredReading[]> {
    this.assertStarted('query');
    if (!validateQuery(q)) return [];
    const select = selectList(q.metrics ? metricColumns(q.metrics) : ALL_COLUMNS);
    const order = q.order === 'desc' ? iql` ORDER BY time DESC` : iql``;
    const stmt = iql`SELECT ${select} FROM ${this.from} WHERE ${this.where(q)}${order} LIMIT ${int(q.limit)}`;
    const series = await this.select('query', stmt);
    const out: StoredReading[] = [];
    for (const s of series) {
      const decoder = new RowDecoder(s.columns, s.tags);
      for (const row of s.values) out.push(decoder.decode(row));
    }
    return out;
  }

  async count(q: FilterQuery): Promise<number> {
    this.assertStarted('count');
    if (!validateFilter(q)) return 0;
    // qc is written on every point, so counting it counts points.
    const series = await this.select(
      'count',
      iql`SELECT count(${ident(FIELD_QC)}) FROM ${this.from} WHERE ${this.where(q)}`,
    );
    let total = 0;
    for (const s of series) for (const row of s.values) total += Number(row[1] ?? 0);
    return total;
  }

  async latestPerStation(since: number, stationIds?: string[], qc?: QcFilter): Promise<StoredReading[]> {
    this.assertStarted('latestPerStation');
    const now = Date.now();
    validateRange(since, now);
    validateQc(qc);
    const range = { from: since, to: now + 1, ...(stationIds ? { stationIds } : {}) };
    if (!validateFilter(range)) return [];
    // Whole rows: last() per field could mix values from different points. GROUP BY puts city and
    // station in the series tags; LIMIT 1 then applies per station. Upper bound: now (a reading
    // flagged `future` must not pin a station's "now" view).
    const select = join([...[...BASE_FIELDS, ...ALL_COLUMNS].map(ident), tagRef(TAG_DEVICE)], ', ');
    const cond = join([timeRange(since, now, { toInclusive: true }), ...readingFilters(range, qc)], ' AND ');
    const stmt = iql`SELECT ${select} FROM ${this.from} WHERE ${cond} GROUP BY ${ident(TAG_CITY)}, ${ident(TAG_STATION)} ORDER BY time DESC LIMIT 1`;
    const out: StoredReading[] = [];
    for (const s of await this.select('latestPerStation', stmt)) {
      const decoder = new RowDecoder(s.columns, s.tags);
      const row = s.values[0];
      if (row) out.push(decoder.decode(row));
    }
    return out.sort(byCityStation);
  }

  async *scan(q: ScanQuery, pageSize: number): AsyncGenerator<StoredReading[]> {
    this.assertStarted('scan');
    if (!validateScan(q, pageSize)) return;
    const select = selectList(q.metrics ? metricColumns(q.metrics) : ALL_COLUMNS);
    const filter = readingFilters(q, q.qc);
    const rows = async (time: InfluxQL, limit?: InfluxQL): Promise<StoredReading[]> => {
      const cond = join([time, ...filter], ' AND ');
      const lim = limit ? iql` LIMIT ${limit}` : iql``;
      const out: StoredReading[] = [];
      for (const s of await this.select(
        'scan',
        iql`SELECT ${select} FROM ${this.from} WHERE ${cond} ORDER BY time${lim}`,
      )) {
        const decoder = new RowDecoder(s.columns, s.tags);
        for (const row of s.values) out.push(decoder.decode(row));
      }
      return out.sort(compareKeys);
    };
    // Every reading at one instant: at most one per series, so bounded by the number of devices.
    const at = (ts: number) => rows(iql`time >= ${timeMs(ts)} AND time <= ${timeMs(ts)}`);
    // Keyset by time. InfluxDB orders by time only, so a page that ends inside a group of readings
    // sharing one timestamp is cut before that timestamp and the whole group is read on its own.
    const buffer = new PageBuffer(pageSize);
    let lower = q.from;
    let inclusive = true;
    const after = q.after;
    if (after && after.ts >= q.from) {
      buffer.push((await at(after.ts)).filter((r) => compareKeys(r, after) > 0));
      lower = after.ts;
      inclusive = false;
    }
    for (;;) {
      yield* buffer.full();
      const start = inclusive ? iql`time >= ${timeMs(lower)}` : iql`time > ${timeMs(lower)}`;
      const page = await rows(iql`${start} AND time < ${timeMs(q.to)}`, int(pageSize));
      if (page.length < pageSize) {
        buffer.push(page);
        break;
      }
      const last = page[page.length - 1]!.ts;
      buffer.push(page.filter((r) => r.ts < last));
      buffer.push(await at(last));
      lower = last;
      inclusive = false;
    }
    yield* buffer.rest();
  }

  async aggregate(q: AggregateQuery): Promise<AggregateBucket[]> {
    this.assertStarted('aggregate');
    if (!validateAggregate(q)) return [];
    const stmts = aggregateStatements(this.from, q);
    const [main, flagged] = await Promise.all([
      this.select('aggregate', stmts.main),
      stmts.flagged ? this.select('aggregate', stmts.flagged) : Promise.resolve([]),
    ]);
    return mergeAggregate(main, flagged, stmts.flagged === undefined);
  }

  async countByStation(q: FilterQuery & { qc?: QcFilter }): Promise<StationCount[]> {
    this.assertStarted('countByStation');
    if (!validateFilter(q)) return [];
    validateQc(q.qc);
    const where = join([timeRange(q.from, q.to), ...readingFilters(q, q.qc)], ' AND ');
    const stmt = iql`SELECT count(${ident(FIELD_QC)}) FROM ${this.from} WHERE ${where} GROUP BY ${ident(TAG_CITY)}, ${ident(TAG_STATION)}`;
    const out: StationCount[] = [];
    for (const s of await this.select('countByStation', stmt)) {
      const count = Number(s.values[0]?.[1] ?? 0);
      if (count > 0) out.push({ city: s.tags?.city ?? '', stationId: s.tags?.station ?? '', count });
    }
    return out.sort(byCityStation);
  }

  async replaceRollups(range: RollupRange, rows: readonly RollupRow[]): Promise<void> {
    this.assertStarted('replaceRollups');
    if (!validateRollupQuery(range)) return;
    validateRollupRows(range, rows);
    await this.rollups.replace(range, rows);
  }

  async readRollups(q: RollupQuery): Promise<RollupRow[]> {
    this.assertStarted('readRollups');
    if (!validateRollupQuery(q)) return [];
    return this.rollups.read(q);
  }

  async rollupState(city: string): Promise<RollupState> {
    this.assertStarted('rollupState');
    return this.rollups.state(city);
  }

  async saveRollupState(city: string, state: RollupState): Promise<void> {
    this.assertStarted('saveRollupState');
    await this.rollups.saveState(city, state, Date.now());
  }

  async lateHours(city: string, after: number, upTo: number): Promise<LateHour[]> {
    this.assertStarted('lateHours');
    return this.rollups.lateHours(city, after, upTo);
  }

  /** 1.x: InfluxQL DELETE. 2.x and 3: false, raw retention is the bucket's/database's (the operator's). */
  async deleteRawBefore(before: number): Promise<boolean> {
    this.assertStarted('deleteRawBefore');
    validateRange(before, before);
    if (this.major !== 1) return false;
    await this.rollups.deleteRawBefore(this.opts.measurement ?? 'reading', before);
    return true;
  }

  async health(): Promise<StoreHealth> {
    if (!this.started) return { ok: false, backend: this.backend, detail: 'not started' };
    try {
      const answer = await this.client.ping();
      if (answer.status >= 200 && answer.status <= 299) {
        return { ok: true, backend: this.backend, detail: `InfluxDB ${answer.version ?? '(version unknown)'}` };
      }
      return { ok: false, backend: this.backend, detail: httpError('ping', answer).message };
    } catch (err) {
      return { ok: false, backend: this.backend, detail: (err as Error).message };
    }
  }

  private where(q: FilterQuery): InfluxQL {
    const parts = [timeRange(q.from, q.to)];
    if (q.stationIds) parts.push(tagIn(TAG_STATION, q.stationIds));
    if (q.deviceIds) parts.push(tagIn(TAG_DEVICE, q.deviceIds));
    return join(parts, ' AND ');
  }

  private assertStarted(what: string): void {
    if (!this.started) {
      throw new StoreError(STORE_ERROR_CODES.notStarted, `InfluxDB ${what}: call start() first`, { retryable: false });
    }
  }

  /** Runs one statement; returns its series, throwing on any error or truncated answer. */
  /** The rollups' retention policy / DBRP mapping (the readings' unless set). */
  private get rollupRp(): string | undefined {
    return this.opts.rollupRetentionPolicy ?? this.opts.retentionPolicy;
  }

  private async select(what: string, stmt: InfluxQL, rp?: string) {
    const result = (await this.client.influxql(what, stmt, rp ?? this.opts.retentionPolicy)).results?.[0];
    if (result?.partial || result?.series?.some((s) => s.partial)) {
      throw new StoreError(
        STORE_ERROR_CODES.queryFailed,
        `InfluxDB ${what}: the server truncated the answer (its [http] max-row-limit); ask for a smaller limit`,
        { retryable: false },
      );
    }
    return result?.series ?? [];
  }
}
