import { Pool } from 'undici';
import { STORE_ERROR_CODES, StoreError } from './errors';

export interface InfluxHttpOptions {
  /** Base URL, e.g. http://127.0.0.1:8086 (a path prefix for a reverse proxy is kept). */
  url: string;
  username?: string;
  password?: string;
  /** InfluxDB 2.x/3.x token, sent as `Authorization: Token <token>` (v1-compatibility API). */
  token?: string;
  /** Bound on every request: connect, headers, body and the whole exchange. */
  timeoutMs: number;
  /** Keep-alive connections in the pool (default 4). */
  connections?: number;
}

export interface HttpAnswer {
  status: number;
  text: string;
  retryAfter: string | undefined;
  /** `X-Influxdb-Version` and `X-Influxdb-Build` (every version sends them on /ping). */
  version: string | undefined;
  build: string | undefined;
}

const SNIPPET = 500;
const TIMEOUT_CODES = new Set(['UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);

/** Seconds or an HTTP date (RFC 9110 §10.2.3) to milliseconds. */
export function parseRetryAfter(value: string | undefined, now = Date.now()): number | undefined {
  if (!value) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** The typed error for a non-2xx answer; `what` names the operation for the message. */
export function httpError(what: string, answer: HttpAnswer): StoreError {
  const { status } = answer;
  const body = answer.text.slice(0, SNIPPET);
  const retryAfterMs = parseRetryAfter(answer.retryAfter);
  const message = `InfluxDB ${what} failed: HTTP ${status} ${body}`;
  const details = { status, body, ...(retryAfterMs === undefined ? {} : { retryAfterMs }) };
  const C = STORE_ERROR_CODES;
  if (status === 401 || status === 403) return new StoreError(C.unauthorized, message, { ...details, retryable: true });
  if (status === 404) return new StoreError(C.databaseNotFound, message, { ...details, retryable: true });
  if (status === 408) return new StoreError(C.timeout, message, { ...details, retryable: true });
  if (status === 413) return new StoreError(C.tooLarge, message, { ...details, retryable: false });
  if (status === 429) return new StoreError(C.rateLimited, message, { ...details, retryable: true });
  if (status >= 500) return new StoreError(C.server, message, { ...details, retryable: true });
  return new StoreError(C.rejected, message, { ...details, retryable: false });
}

/** A keep-alive HTTP client for one InfluxDB origin (undici Pool: low CPU per request). */
export class InfluxHttp {
  private pool: Pool | undefined;
  private readonly base: URL;
  private readonly prefix: string;
  private readonly auth: string | undefined;

  constructor(private readonly opts: InfluxHttpOptions) {
    this.base = new URL(opts.url);
    this.prefix = this.base.pathname.replace(/\/+$/, '');
    if (opts.token) this.auth = `Token ${opts.token}`;
    else if (opts.username !== undefined) {
      // Basic auth (accepted by 1.x, and by 2.x with the token as password) keeps secrets out of URLs and logs.
      this.auth = `Basic ${Buffer.from(`${opts.username}:${opts.password ?? ''}`).toString('base64')}`;
    }
  }

  get origin(): string {
    return this.base.origin;
  }

  open(): void {
    if (this.pool) return;
    const t = this.opts.timeoutMs;
    this.pool = new Pool(this.base.origin, {
      connections: this.opts.connections ?? 4,
      connect: { timeout: t },
      headersTimeout: t,
      bodyTimeout: t,
      keepAliveTimeout: 30_000,
    });
  }

  async close(): Promise<void> {
    const pool = this.pool;
    this.pool = undefined;
    if (!pool) return;
    // Let in-flight requests finish, but never wait longer than one request may take.
    let timer: NodeJS.Timeout | undefined;
    const closed = pool.close().then(() => true);
    const late = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), this.opts.timeoutMs);
    });
    const ok = await Promise.race([closed, late]);
    clearTimeout(timer);
    if (!ok) await pool.destroy();
  }

  /** Sends one request; network failures and timeouts become retryable StoreErrors. */
  async send(
    what: string,
    method: 'GET' | 'POST',
    path: string,
    params: Record<string, string | undefined>,
    body?: string | Buffer,
    headers: Record<string, string> = {},
  ): Promise<HttpAnswer> {
    const pool = this.pool;
    if (!pool)
      throw new StoreError(STORE_ERROR_CODES.notStarted, `InfluxDB ${what}: store not started`, { retryable: false });
    const query = new URLSearchParams();
    for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '') query.set(k, v);
    const qs = query.toString();
    const allHeaders: Record<string, string> = { ...headers };
    if (this.auth) allHeaders.authorization = this.auth;
    try {
      const res = await pool.request({
        method,
        path: `${this.prefix}${path}${qs ? `?${qs}` : ''}`,
        headers: allHeaders,
        body: body ?? null,
        signal: AbortSignal.timeout(this.opts.timeoutMs),
      });
      const text = await res.body.text();
      const header = (name: string): string | undefined => {
        const v = res.headers[name];
        return Array.isArray(v) ? v[0] : v;
      };
      return {
        status: res.statusCode,
        text,
        retryAfter: header('retry-after'),
        version: header('x-influxdb-version'),
        build: header('x-influxdb-build'),
      };
    } catch (err) {
      throw this.networkError(what, err);
    }
  }

  private networkError(what: string, err: unknown): StoreError {
    if (err instanceof StoreError) return err;
    const e = err as { code?: string; name?: string; message?: string };
    const timedOut = TIMEOUT_CODES.has(e.code ?? '') || e.name === 'TimeoutError' || e.name === 'AbortError';
    const code = timedOut ? STORE_ERROR_CODES.timeout : STORE_ERROR_CODES.network;
    const reason = timedOut
      ? `no answer within ${this.opts.timeoutMs} ms`
      : `${e.code ?? e.name ?? 'error'}: ${e.message}`;
    return new StoreError(code, `InfluxDB ${what} failed (${this.base.origin}): ${reason}`, {
      retryable: true,
      cause: err,
    });
  }
}
