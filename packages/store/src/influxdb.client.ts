import { promisify } from 'node:util';
import { gzip as gzipCb } from 'node:zlib';
import { STORE_ERROR_CODES, StoreError } from './errors';
import { type HttpAnswer, httpError, InfluxHttp } from './influxdb.http';
import {
  type InfluxMajor,
  type InfluxVersionSetting,
  resolveVersion,
  settingsProblems,
  type VersionedSettings,
} from './influxdb.version';
import type { InfluxQL } from './influxql';
import type { StoreLogger } from './logger';

const gzip = promisify(gzipCb);

export interface QueryResponse {
  error?: string;
  results?: Array<{
    error?: string;
    partial?: boolean;
    series?: Array<{ tags?: Record<string, string>; columns: string[]; values: unknown[][]; partial?: boolean }>;
  }>;
}

export interface InfluxClientOptions extends VersionedSettings {
  url: string;
  database: string;
  password?: string;
  timeoutMs: number;
  connections?: number;
  gzip?: boolean;
  logger: StoreLogger;
}

/** The server start() found: its version and where that came from. */
export interface InfluxServer {
  major: InfluxMajor;
  from: 'server' | 'configuration';
  version: string | null;
  build: string | null;
}

/**
 * The v1-compatible API as each version documents it (the request shapes are checked by
 * test/influxdb.conformance.test.ts):
 * - `GET /ping` (all; 3 wants the token here too, which is always sent).
 * - `POST /write?db=&rp=&precision=ms`, line protocol, `text/plain; charset=utf-8` (rp: 1.x the
 *   retention policy, 2.x the DBRP mapping's; 3 has none).
 * - InfluxQL: 1.x `POST /query?db=&epoch=ms` with a form body `q=` (POST is what 1.x requires for
 *   CREATE DATABASE); 2.x and 3 `GET /query?db=[&rp=]&q=&epoch=ms`, the one form both document
 *   (2.x's POST takes a raw InfluxQL body, 3's a JSON one).
 * Auth: `Authorization: Token <token>` (2.x, 3) or Basic username:password (1.x), by InfluxHttp.
 */
export class InfluxClient {
  readonly http: InfluxHttp;
  private major: InfluxMajor = 1;

  constructor(private readonly opts: InfluxClientOptions) {
    this.http = new InfluxHttp(opts);
  }

  get origin(): string {
    return this.http.origin;
  }

  /**
   * Pings the server and settles the version (influxdb.version.ts). A version or settings mismatch
   * is logged at error and thrown as a permanent STORE_INVALID_CONFIG; an unreachable server is a
   * retryable error as usual.
   */
  async connect(setting: InfluxVersionSetting): Promise<InfluxServer> {
    const answer = await this.ping();
    if (answer.status < 200 || answer.status > 299) throw httpError('ping', answer);
    const identity = { version: answer.version ?? null, build: answer.build ?? null };
    const resolved = resolveVersion(setting, answer);
    const problems = resolved.ok ? settingsProblems(resolved.major, this.opts) : [resolved.reason];
    if (!resolved.ok || problems.length > 0) {
      this.opts.logger.error(
        { url: this.origin, setting, ...identity, problems },
        'influxdb server and configuration do not match',
      );
      throw new StoreError(STORE_ERROR_CODES.invalidConfig, `InfluxDB at ${this.origin}: ${problems.join('; ')}`, {
        retryable: false,
      });
    }
    this.major = resolved.major;
    return { major: resolved.major, from: resolved.from, ...identity };
  }

  ping(): Promise<HttpAnswer> {
    return this.http.send('ping', 'GET', '/ping', {});
  }

  /** `rp`: another retention policy (1.x) or DBRP mapping (2.x) than the readings' (rollups). */
  async write(lines: Buffer, rp = this.opts.retentionPolicy): Promise<void> {
    const o = this.opts;
    const params = { db: o.database, rp: this.major === 3 ? undefined : rp, precision: 'ms' };
    const headers: Record<string, string> = { 'content-type': 'text/plain; charset=utf-8' };
    let body: Buffer = lines;
    if (o.gzip) {
      body = await gzip(lines);
      headers['content-encoding'] = 'gzip';
    }
    const answer = await this.http.send('write', 'POST', '/write', params, body, headers);
    if (answer.status >= 200 && answer.status <= 299) return;
    const err = httpError('write', answer);
    o.logger.warn(
      { status: err.status, code: err.code, retryable: err.retryable, body: err.body },
      'influxdb write failed',
    );
    throw err;
  }

  /** Runs one statement; any error in the answer is thrown. */
  async influxql(what: string, stmt: InfluxQL, rp = this.opts.retentionPolicy): Promise<QueryResponse> {
    const db = this.opts.database;
    const answer =
      this.major === 1
        ? await this.http.send(
            what,
            'POST',
            '/query',
            { db, epoch: 'ms' },
            new URLSearchParams({ q: stmt.text }).toString(),
            { 'content-type': 'application/x-www-form-urlencoded' },
          )
        : await this.http.send(what, 'GET', '/query', {
            db,
            rp: this.major === 2 ? rp : undefined,
            q: stmt.text,
            epoch: 'ms',
          });
    if (answer.status < 200 || answer.status > 299) throw httpError(what, answer);
    const json = parseJson(what, answer);
    const failed = json.error ?? json.results?.find((r) => r.error)?.error;
    if (failed !== undefined) {
      const notFound = /database not found/i.test(failed);
      const code = notFound ? STORE_ERROR_CODES.databaseNotFound : STORE_ERROR_CODES.queryFailed;
      throw new StoreError(code, `InfluxDB ${what} failed: ${failed} (query: ${stmt.text.slice(0, 300)})`, {
        retryable: notFound,
        status: answer.status,
        body: answer.text.slice(0, 500),
      });
    }
    return json;
  }
}

function parseJson(what: string, answer: HttpAnswer): QueryResponse {
  try {
    return JSON.parse(answer.text) as QueryResponse;
  } catch (err) {
    throw new StoreError(
      STORE_ERROR_CODES.queryFailed,
      `InfluxDB ${what}: unreadable answer: ${answer.text.slice(0, 200)}`,
      { retryable: true, status: answer.status, cause: err },
    );
  }
}
