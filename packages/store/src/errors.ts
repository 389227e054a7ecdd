/**
 * The store's error catalogue. Codes are stable (callers and logs match on them); messages include
 * the offending value. `retryable` tells a caller with a durable spool what to do with the batch:
 * true = keep it and retry later (the data is fine, the backend is not reachable or not ready);
 * false = retrying the same bytes cannot succeed (bad data, or a batch the server will never take).
 */
export const STORE_ERROR_CODES = {
  /** A reading cannot be stored as given (bad id, non-finite value, unknown metric...). Permanent. */
  invalidReading: 'STORE_INVALID_READING',
  /** Query arguments are invalid (unbounded time range, bad limit, unrepresentable id). Permanent. */
  invalidQuery: 'STORE_INVALID_QUERY',
  /** Invalid adapter configuration. Permanent. */
  invalidConfig: 'STORE_INVALID_CONFIG',
  /** A method was called before start() or after stop(). Permanent (a programming error). */
  notStarted: 'STORE_NOT_STARTED',
  /** Connection refused/reset, DNS failure... Retryable. */
  network: 'STORE_NETWORK',
  /** No complete answer within timeoutMs. Retryable (an idempotent write may or may not have landed). */
  timeout: 'STORE_TIMEOUT',
  /** HTTP 5xx. Retryable. */
  server: 'STORE_SERVER_ERROR',
  /** HTTP 429 (or 503 with Retry-After). Retryable; see retryAfterMs. */
  rateLimited: 'STORE_RATE_LIMITED',
  /** HTTP 401/403. Retryable: the data is good, the credentials need fixing; do not drop it. */
  unauthorized: 'STORE_UNAUTHORIZED',
  /** HTTP 404 / "database not found". Retryable: the data is good, the database must be created. */
  databaseNotFound: 'STORE_DATABASE_NOT_FOUND',
  /** HTTP 413: the request body is over the server's limit. Permanent for this request; split it. */
  tooLarge: 'STORE_TOO_LARGE',
  /** HTTP 400 and other 4xx: points rejected (partial write, field type conflict, parse error). Permanent. */
  rejected: 'STORE_REJECTED',
  /** An InfluxQL statement failed, or the answer was truncated or unreadable. */
  queryFailed: 'STORE_QUERY_FAILED',
  /** The embedded database failed (busy, disk full, I/O). Retryable unless a constraint failed. */
  sqlite: 'STORE_SQLITE',
} as const;

export type StoreErrorCode = (typeof STORE_ERROR_CODES)[keyof typeof STORE_ERROR_CODES];

export interface StoreErrorDetails {
  retryable: boolean;
  /** HTTP status, when the backend answered. */
  status?: number;
  /** The start of the response body (at most 500 characters), when there was one. */
  body?: string;
  /** From a Retry-After header, when the server sent one. */
  retryAfterMs?: number;
  cause?: unknown;
}

export class StoreError extends Error {
  readonly code: StoreErrorCode;
  readonly retryable: boolean;
  readonly status?: number;
  readonly body?: string;
  readonly retryAfterMs?: number;

  constructor(code: StoreErrorCode, message: string, details: StoreErrorDetails) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = 'StoreError';
    this.code = code;
    this.retryable = details.retryable;
    if (details.status !== undefined) this.status = details.status;
    if (details.body !== undefined) this.body = details.body;
    if (details.retryAfterMs !== undefined) this.retryAfterMs = details.retryAfterMs;
  }
}

export const isStoreError = (e: unknown): e is StoreError => e instanceof StoreError;

export const invalidReading = (message: string): StoreError =>
  new StoreError(STORE_ERROR_CODES.invalidReading, message, { retryable: false });

export const invalidQuery = (message: string): StoreError =>
  new StoreError(STORE_ERROR_CODES.invalidQuery, message, { retryable: false });

/** JSON.stringify keeps a hostile value readable (quotes, newlines) inside an error message. */
export const show = (value: unknown): string => {
  const s = typeof value === 'string' ? JSON.stringify(value) : String(value);
  return s.length > 120 ? `${s.slice(0, 117)}...` : s;
};
