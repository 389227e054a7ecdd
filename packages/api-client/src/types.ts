/** The client's option and query types (client.ts), derived from the generated OpenAPI types. */
import type { operations } from './generated/openapi';
import type { LiveOptions } from './live';

/** An operation of the API (its OpenAPI operationId). */
export type OperationId = keyof operations;

type QueryOf<K extends OperationId> = NonNullable<operations[K]['parameters']['query']>;

/** Comma lists may be given as arrays, times as Dates. */
type QueryValue<Name, V> = Name extends 'from' | 'to'
  ? V | Date
  : string extends V
    ? V | readonly (string | number)[]
    : V;

/** The query parameters of an operation as the client takes them. */
export type QueryInput<K extends OperationId> = { [P in keyof QueryOf<K>]: QueryValue<P, QueryOf<K>[P]> };

export type StationsQuery = QueryInput<'listStations'>;
export type LatestQuery = QueryInput<'listLatest'>;
/** The page of a list without filters (districts, canal stations). */
export type PageQuery = QueryInput<'listDistricts'>;
export type SeriesQuery = QueryInput<'getStationSeries'>;
export type ReportsQuery = QueryInput<'listReports'>;
export type ReadingsQuery = QueryInput<'listStationReadings'>;
export type ExportQuery = QueryInput<'exportReadings'>;
export type RollupExportQuery = QueryInput<'exportRollups'>;
export type StreamQuery = QueryInput<'streamReadings'>;

export interface ClientOptions {
  /**
   * The API's base URL, e.g. `https://air.example.org` or `http://127.0.0.1:8080` (a path prefix is
   * kept). Default `''`: URLs relative to the page (same origin; browsers only).
   */
  baseUrl?: string;
  /** The fetch to use (default: the global one, bound). Wrap it for retries, logging or tests. */
  fetch?: typeof fetch;
  /** Headers sent with every request. */
  headers?: Record<string, string>;
  /** An admin key (`Authorization: Bearer`), for flushCache and getConfig only. */
  apiKey?: string;
  /**
   * A staff member's own token (`Authorization: Bearer`), for the staff operations only
   * (listStaffAlerts, acknowledgeAlert, resolveAlert, getAlertAudit): the audit trail names its owner.
   */
  staffToken?: string;
  /**
   * Conditional requests: remember the ETag and body of each JSON answer (per URL, at most this many,
   * least recently used dropped) and send `If-None-Match`; a 304 returns the remembered body. Default
   * off (browsers already do this in their HTTP cache).
   */
  etagCache?: number;
  /** Defaults for live subscriptions (EventSource implementation, transport). */
  live?: Omit<LiveOptions, 'signal'>;
}

export interface RequestOptions {
  signal?: AbortSignal;
  /** Extra headers for this request. */
  headers?: Record<string, string>;
}

export interface CallOptions extends RequestOptions {
  /** Send `If-None-Match` with this ETag; a 304 then gives `notModified: true` and no data. */
  ifNoneMatch?: string;
}

/** The full answer of a JSON operation (see `call`). */
export interface ApiResponse<T> {
  /** Undefined only when `notModified`. */
  data: T | undefined;
  status: number;
  notModified: boolean;
  etag: string | undefined;
  response: Response;
}
