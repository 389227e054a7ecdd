import { ApiError } from './errors';
import {
  type AdminConfig,
  type AlertAction,
  type AlertActionBody,
  type AlertAudit,
  type AlertRuleList,
  type CacheFlushed,
  type CanalList,
  type CanalStatus,
  type DistrictDetail,
  type DistrictList,
  type Health,
  type LatestList,
  type Meta,
  operationRoutes,
  type operations,
  type PersonalDataErased,
  type PersonalDataExport,
  type PublicAlertList,
  type ReadingsPage,
  type ReportAccepted,
  type ReportApprove,
  type ReportFeatureCollection,
  type ReportMerge,
  type ReportModerated,
  type ReportReject,
  type ReportRequest,
  type Series,
  type StaffAlertList,
  type StaffReportDetail,
  type StaffReportList,
  type Station,
  type StationLatest,
  type StationList,
  type Subscription,
  type SubscriptionAccepted,
  type SubscriptionEnded,
  type SubscriptionRequest,
  type SubscriptionUpdate,
  type WebPushKey,
} from './generated/openapi';
import { type LiveHandlers, type LiveOptions, type LiveSubscription, subscribe } from './live';
import { queryString, withToken } from './request';
import type {
  ApiResponse,
  CallOptions,
  ClientOptions,
  ExportQuery,
  LatestQuery,
  OperationId,
  PageQuery,
  QueryInput,
  ReadingsQuery,
  RequestOptions,
  RollupExportQuery,
  SeriesQuery,
  StationsQuery,
  StreamQuery,
} from './types';

interface Params {
  path?: Record<string, string>;
  query?: object | undefined;
  /** A JSON request body (POST operations). */
  body?: unknown;
}

type JsonOf<K extends OperationId> = operations[K]['responses'] extends {
  200: { content: { 'application/json': infer T } };
}
  ? T
  : never;

/** Every operation of the document has a method of the same name (checked by the compiler). */
type OperationMethods = { [K in OperationId]: (...args: never[]) => unknown };

/**
 * The typed client of the cnx-sense open-data API: one method per operation of its OpenAPI document
 * (method name = operationId), typed from the document (src/generated/openapi.ts). Only `fetch` (and
 * EventSource where there is one): it runs in browsers and in Node ≥ 20.
 *
 * Errors: every non-2xx answer throws an ApiError with the API's `{code, message, details}`.
 */
export class CnxApiClient implements OperationMethods {
  readonly baseUrl: string;
  private readonly fetchFn: typeof fetch;
  private readonly options: ClientOptions;
  private readonly etags = new Map<string, { etag: string; data: unknown }>();

  constructor(options: ClientOptions = {}) {
    this.options = options;
    this.baseUrl = (options.baseUrl ?? '').replace(/\/+$/, '');
    if (!options.fetch && typeof globalThis.fetch !== 'function') throw new Error('no fetch here: pass options.fetch');
    // The global fetch is called through globalThis (browsers throw on a detached `this`).
    this.fetchFn = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
  }

  // --- meta ---------------------------------------------------------------------------------------

  /** City, licence, metric registry, QC flags, AQI bands and the limits. */
  getMeta(options?: RequestOptions): Promise<Meta> {
    return this.json('getMeta', {}, options);
  }

  /** Health of the API, its store and bus. A 503 (store down) is returned, not thrown: check `status`. */
  async getHealth(options?: RequestOptions): Promise<Health> {
    const res = await this.send('getHealth', {}, options, 'application/json');
    if (res.ok || res.status === 503) return (await this.parseJson(res, 'getHealth')) as Health;
    throw await ApiError.fromResponse(res, 'getHealth', this.url('getHealth'));
  }

  /** Prometheus metrics (text exposition format). */
  async getMetrics(options?: RequestOptions): Promise<string> {
    const res = await this.ok('getMetrics', {}, options, 'text/plain');
    return res.text();
  }

  // --- stations and latest ------------------------------------------------------------------------

  /**
   * One page of stations with metadata and status (`limit`, default 100, and `page`; `meta.found`
   * counts every match); filter by kind, district, bbox (`[w, s, e, n]` or `"w,s,e,n"`), radius
   * (`coordinates` + `radius`) or ids.
   */
  listStations(query?: StationsQuery, options?: RequestOptions): Promise<StationList> {
    return this.json('listStations', { query }, options);
  }

  /** Every matching station: listStations page after page until `meta.found` are in. */
  allStations(query?: Omit<StationsQuery, 'limit' | 'page'>, options?: RequestOptions): Promise<StationList> {
    return allPages((page) => this.listStations({ ...query, limit: PAGE_LIMIT, page }, options));
  }

  /** One station, its devices and status (404 `station_not_found`). */
  getStation(stationId: string, options?: RequestOptions): Promise<Station> {
    return this.json('getStation', { path: { stationId } }, options);
  }

  /** Latest reading, AQI, NowCast and 24 h means of the (filtered) stations, one page (as listStations). */
  listLatest(query?: LatestQuery, options?: RequestOptions): Promise<LatestList> {
    return this.json('listLatest', { query }, options);
  }

  /** The latest state of every matching station, page after page. */
  allLatest(query?: Omit<LatestQuery, 'limit' | 'page'>, options?: RequestOptions): Promise<LatestList> {
    return allPages((page) => this.listLatest({ ...query, limit: PAGE_LIMIT, page }, options));
  }

  /** The same for one station. */
  getStationLatest(stationId: string, options?: RequestOptions): Promise<StationLatest> {
    return this.json('getStationLatest', { path: { stationId } }, options);
  }

  // --- series and readings ------------------------------------------------------------------------

  /** One metric in 5m / 1h / 1d buckets with mean/min/max/count and coverage. */
  getStationSeries(stationId: string, query?: SeriesQuery, options?: RequestOptions): Promise<Series> {
    return this.json('getStationSeries', { path: { stationId }, query }, options);
  }

  /** One page of raw readings; follow `meta.nextCursor` (or use `stationReadingPages`). */
  listStationReadings(stationId: string, query?: ReadingsQuery, options?: RequestOptions): Promise<ReadingsPage> {
    return this.json('listStationReadings', { path: { stationId }, query }, options);
  }

  /** Every page of raw readings of a range, in time order (listStationReadings, following the cursor). */
  async *stationReadingPages(
    stationId: string,
    query?: Omit<ReadingsQuery, 'cursor'>,
    options?: RequestOptions,
  ): AsyncGenerator<ReadingsPage, void, undefined> {
    let cursor: string | undefined;
    do {
      const page = await this.listStationReadings(stationId, { ...query, ...(cursor ? { cursor } : {}) }, options);
      yield page;
      cursor = page.meta.nextCursor ?? undefined;
    } while (cursor);
  }

  // --- districts and canal ------------------------------------------------------------------------

  /** Per innovation district: worst station, AQI, trend, canal state; one page (`limit`, default 100, `page`). */
  listDistricts(query?: PageQuery, options?: RequestOptions): Promise<DistrictList> {
    return this.json('listDistricts', { query }, options);
  }

  /** Every district: listDistricts page after page until `meta.found` are in. */
  allDistricts(options?: RequestOptions): Promise<DistrictList> {
    return allPages((page) => this.listDistricts({ limit: PAGE_LIMIT, page }, options));
  }

  /** One district and the latest state of its stations (404 `district_not_found`). */
  getDistrict(districtId: string, options?: RequestOptions): Promise<DistrictDetail> {
    return this.json('getDistrict', { path: { districtId } }, options);
  }

  /** Canal stations: level against bank/warning/critical, rate of rise, water-quality class; one page. */
  listCanalStations(query?: PageQuery, options?: RequestOptions): Promise<CanalList> {
    return this.json('listCanalStations', { query }, options);
  }

  /** Every canal station: listCanalStations page after page until `meta.found` are in. */
  allCanalStations(options?: RequestOptions): Promise<CanalList> {
    return allPages((page) => this.listCanalStations({ limit: PAGE_LIMIT, page }, options));
  }

  /** One canal station. */
  getCanalStation(stationId: string, options?: RequestOptions): Promise<CanalStatus> {
    return this.json('getCanalStation', { path: { stationId } }, options);
  }

  // --- exports ------------------------------------------------------------------------------------

  /**
   * An export file (CSV by default; json, ndjson, geojson), as the streamed Response: read
   * `response.body` (a ReadableStream) or `await response.text()`. Errors throw before the body.
   */
  exportReadings(query: ExportQuery, options?: RequestOptions): Promise<Response> {
    return this.ok('exportReadings', { query }, options, EXPORT_ACCEPT[query.format ?? 'csv']);
  }

  /**
   * Hourly or daily aggregates over long ranges from the stored rollups (json by default, ndjson or
   * csv), as the streamed Response.
   */
  exportRollups(query: RollupExportQuery, options?: RequestOptions): Promise<Response> {
    return this.ok('exportRollups', { query }, options, EXPORT_ACCEPT[query.format ?? 'json']);
  }

  /** The URL of an export, for a download link (`<a href download>`) or pandas.read_csv. */
  exportUrl(query: ExportQuery): string {
    return this.url('exportReadings', { query });
  }

  // --- live ---------------------------------------------------------------------------------------

  /**
   * Subscribes to GET /v1/stream (Server-Sent Events): typed `reading` and `heartbeat` callbacks.
   * Uses EventSource where there is one (browsers), otherwise a fetch-based reader (Node 20); see
   * LiveOptions. Returns at once; `close()` ends it.
   */
  streamReadings(query: StreamQuery | undefined, handlers: LiveHandlers, options?: LiveOptions): LiveSubscription {
    const headers: Record<string, string> = { ...this.options.headers };
    return subscribe({ url: this.url('streamReadings', { query }), fetch: this.fetchFn, headers }, handlers, {
      ...this.options.live,
      ...options,
    });
  }

  /** Shorthand for streamReadings. */
  stream(query: StreamQuery | undefined, handlers: LiveHandlers, options?: LiveOptions): LiveSubscription {
    return this.streamReadings(query, handlers, options);
  }

  // --- admin (API key) ----------------------------------------------------------------------------

  /** Empties the "now" view cache (needs `apiKey`). */
  flushCache(options?: RequestOptions): Promise<CacheFlushed> {
    return this.json('flushCache', {}, options);
  }

  /** The effective configuration, secrets redacted (needs `apiKey`). */
  getConfig(options?: RequestOptions): Promise<AdminConfig> {
    return this.json('getConfig', {}, options);
  }

  // --- staff (staff token) ------------------------------------------------------------------------

  /** Alerts firing or acknowledged, with who acknowledged them (needs `staffToken`). */
  listStaffAlerts(options?: RequestOptions): Promise<StaffAlertList> {
    return this.json('listStaffAlerts', {}, options);
  }

  /** Acknowledge a firing alert (stops escalation); 409 `alert_conflict` if it is not firing. */
  acknowledgeAlert(alertId: number, body: AlertActionBody = {}, options?: RequestOptions): Promise<AlertAction> {
    return this.json('acknowledgeAlert', { path: { alertId: String(alertId) }, body }, options);
  }

  /** Close an alert by hand; 409 `alert_conflict` if it is already closed. */
  resolveAlert(alertId: number, body: AlertActionBody = {}, options?: RequestOptions): Promise<AlertAction> {
    return this.json('resolveAlert', { path: { alertId: String(alertId) }, body }, options);
  }

  /** Who did what when to an alert, and its deliveries (404 `alert_not_found`). */
  getAlertAudit(alertId: number, options?: RequestOptions): Promise<AlertAudit> {
    return this.json('getAlertAudit', { path: { alertId: String(alertId) } }, options);
  }

  // --- public alerts and subscriptions (issue 12) ------------------------------------------------

  /** Alerts firing now and those that ended recently (no personal data). */
  listAlerts(options?: RequestOptions): Promise<PublicAlertList> {
    return this.json('listAlerts', {}, options);
  }

  /** The city's alert rules: signal, scope, levels with thresholds and labels. */
  listAlertRules(options?: RequestOptions): Promise<AlertRuleList> {
    return this.json('listAlertRules', {}, options);
  }

  /** Ask for alerts (double opt-in): 202, the same answer whether or not the address is subscribed. */
  createSubscription(body: SubscriptionRequest, options?: RequestOptions): Promise<SubscriptionAccepted> {
    return this.json('createSubscription', { body }, options) as Promise<never>;
  }

  /** Confirm with the token from the confirmation message (404 `subscription_not_found`). */
  confirmSubscription(token: string, options?: RequestOptions): Promise<Subscription> {
    return this.json('confirmSubscription', { body: { token } }, options);
  }

  /** The subscription of a token (its address masked). */
  getSubscription(token: string, options?: RequestOptions): Promise<Subscription> {
    return this.json('getSubscription', {}, withToken(token, options));
  }

  /** Change scope, language, PM2.5 threshold, quiet hours, daily cap or rules. */
  updateSubscription(token: string, body: SubscriptionUpdate, options?: RequestOptions): Promise<Subscription> {
    return this.json('updateSubscription', { body }, withToken(token, options));
  }

  /** Delete the subscription and its contact details. */
  deleteSubscription(token: string, options?: RequestOptions): Promise<SubscriptionEnded> {
    return this.json('deleteSubscription', {}, withToken(token, options));
  }

  /** Everything held about the contact of a token (Thailand's PDPA): the address unmasked, every subscription, the deliveries. */
  exportSubscriptionData(token: string, options?: RequestOptions): Promise<PersonalDataExport> {
    return this.json('exportSubscriptionData', {}, withToken(token, options));
  }

  /** Erase every subscription of the contact of a token, at once; `{status: 'erased'}` whatever was held. */
  eraseSubscriptionData(token: string, options?: RequestOptions): Promise<PersonalDataErased> {
    return this.json('eraseSubscriptionData', {}, withToken(token, options));
  }

  /** One-click unsubscribe (the List-Unsubscribe link's POST, RFC 8058). */
  unsubscribe(token: string, options?: RequestOptions): Promise<SubscriptionEnded> {
    return this.json('unsubscribe', { query: { token } }, options);
  }

  /** The VAPID public key for PushManager.subscribe's applicationServerKey. */
  getWebPushKey(options?: RequestOptions): Promise<WebPushKey> {
    return this.json('getWebPushKey', {}, options);
  }

  // --- citizen reports (issue 12) -----------------------------------------------------------------

  /** Send a report (no account): 202 with its number; staff check it before it is public. */
  createReport(body: ReportRequest, options?: RequestOptions): Promise<ReportAccepted> {
    return this.json('createReport', { body }, options) as Promise<never>;
  }

  /** Approved reports as a GeoJSON FeatureCollection (open data). */
  async listReports(options?: RequestOptions): Promise<ReportFeatureCollection> {
    const res = await this.ok('listReports', {}, options, 'application/geo+json');
    return (await this.parseJson(res, 'listReports')) as ReportFeatureCollection;
  }

  /** The URL of an approved report's photo (for an `<img src>`). */
  reportPhotoUrl(reportId: number): string {
    return this.url('getReportPhoto', { path: { reportId: String(reportId) } });
  }

  /** An approved report's photo (JPEG) as the Response: `await response.blob()`. */
  getReportPhoto(reportId: number, options?: RequestOptions): Promise<Response> {
    return this.ok('getReportPhoto', { path: { reportId: String(reportId) } }, options, 'image/jpeg');
  }

  /** Staff: reports, newest first, optionally in one state (needs `staffToken`). */
  listStaffReports(
    query?: { status?: 'pending' | 'approved' | 'rejected' | 'merged' },
    options?: RequestOptions,
  ): Promise<StaffReportList> {
    return this.json('listStaffReports', { query }, options);
  }

  /** Staff: one report, the sensor alerts and reports near it, and its audit trail. */
  getStaffReport(reportId: number, options?: RequestOptions): Promise<StaffReportDetail> {
    return this.json('getStaffReport', { path: { reportId: String(reportId) } }, options);
  }

  /** Staff: the photo of a report not yet approved, as the Response (`await response.blob()`). */
  getStaffReportPhoto(reportId: number, options?: RequestOptions): Promise<Response> {
    return this.ok('getStaffReportPhoto', { path: { reportId: String(reportId) } }, options, 'image/jpeg');
  }

  /** Staff: approve a pending report (409 `report_conflict` if it is not pending). */
  approveReport(reportId: number, body: ReportApprove = {}, options?: RequestOptions): Promise<ReportModerated> {
    return this.json('approveReport', { path: { reportId: String(reportId) }, body }, options);
  }

  /** Staff: reject a pending report with a reason. */
  rejectReport(reportId: number, body: ReportReject, options?: RequestOptions): Promise<ReportModerated> {
    return this.json('rejectReport', { path: { reportId: String(reportId) }, body }, options);
  }

  /** Staff: merge a pending report into the one it duplicates. */
  mergeReport(reportId: number, body: ReportMerge, options?: RequestOptions): Promise<ReportModerated> {
    return this.json('mergeReport', { path: { reportId: String(reportId) }, body }, options);
  }

  // --- generic ------------------------------------------------------------------------------------

  /**
   * Any JSON operation with the full answer: status, ETag, `notModified` (with `ifNoneMatch`), and the
   * Response (headers such as `x-ratelimit-remaining`). Throws ApiError on error statuses.
   */
  async call<K extends OperationId>(
    operation: K,
    params: { path?: Record<string, string>; query?: QueryInput<K> } = {},
    options: CallOptions = {},
  ): Promise<ApiResponse<JsonOf<K>>> {
    const headers = options.ifNoneMatch
      ? { ...options.headers, 'if-none-match': options.ifNoneMatch }
      : options.headers;
    const res = await this.send(operation, params, { ...options, headers }, 'application/json');
    const etag = res.headers.get('etag') ?? undefined;
    if (res.status === 304) return { data: undefined, status: 304, notModified: true, etag, response: res };
    if (!res.ok) throw await ApiError.fromResponse(res, operation, this.url(operation, params));
    const data = (await this.parseJson(res, operation)) as JsonOf<K>;
    return { data, status: res.status, notModified: false, etag, response: res };
  }

  /** The URL of an operation with its path and query parameters. */
  url(operation: OperationId, params: Params = {}): string {
    const route = operationRoutes[operation];
    const path = route.path.replace(/\{(\w+)\}/g, (_, name: string) => {
      const value = params.path?.[name];
      if (value === undefined || value === '') throw new TypeError(`${operation}: path parameter ${name} is missing`);
      return encodeURIComponent(value);
    });
    const qs = queryString(params.query);
    return `${this.baseUrl}${path}${qs ? `?${qs}` : ''}`;
  }

  /** Forgets the remembered ETags (etagCache). */
  clearEtagCache(): void {
    this.etags.clear();
  }

  // --- internals ----------------------------------------------------------------------------------

  private async json<K extends OperationId>(
    operation: K,
    params: Params,
    options?: RequestOptions,
  ): Promise<JsonOf<K>> {
    const url = this.url(operation, params);
    const cached =
      this.options.etagCache && operationRoutes[operation].method === 'GET' ? this.etags.get(url) : undefined;
    const headers = cached ? { ...options?.headers, 'if-none-match': cached.etag } : options?.headers;
    const res = await this.send(operation, params, { ...options, headers }, 'application/json', url);
    if (res.status === 304 && cached) {
      this.remember(url, cached.etag, cached.data);
      return cached.data as JsonOf<K>;
    }
    if (!res.ok) throw await ApiError.fromResponse(res, operation, url);
    const data = await this.parseJson(res, operation);
    const etag = res.headers.get('etag');
    if (this.options.etagCache && etag && operationRoutes[operation].method === 'GET') this.remember(url, etag, data);
    return data as JsonOf<K>;
  }

  private remember(url: string, etag: string, data: unknown): void {
    this.etags.delete(url);
    this.etags.set(url, { etag, data });
    const max = this.options.etagCache ?? 0;
    while (this.etags.size > max) this.etags.delete(this.etags.keys().next().value as string);
  }

  private async parseJson(res: Response, operation: string): Promise<unknown> {
    const text = await res.text();
    try {
      return JSON.parse(text);
    } catch {
      throw new ApiError({
        status: res.status,
        code: 'unexpected_response',
        message: `${operation}: the answer is not JSON (${res.headers.get('content-type') ?? 'no content type'}): ${text.slice(0, 200)}`,
        operation,
        url: res.url,
        requestId: res.headers.get('x-request-id') ?? undefined,
      });
    }
  }

  /** send + throw ApiError unless 2xx. */
  private async ok(operation: OperationId, params: Params, options: RequestOptions | undefined, accept: string) {
    const res = await this.send(operation, params, options, accept);
    if (!res.ok) throw await ApiError.fromResponse(res, operation, this.url(operation, params));
    return res;
  }

  private send(
    operation: OperationId,
    params: Params,
    options: RequestOptions | undefined,
    accept: string,
    url = this.url(operation, params),
  ): Promise<Response> {
    const headers: Record<string, string> = { accept, ...this.options.headers, ...options?.headers };
    const path = operationRoutes[operation].path;
    if (this.options.apiKey && path.startsWith('/admin/')) headers.authorization = `Bearer ${this.options.apiKey}`;
    if (this.options.staffToken && path.startsWith('/v1/staff/'))
      headers.authorization = `Bearer ${this.options.staffToken}`;
    const init: RequestInit = { method: operationRoutes[operation].method, headers };
    if (params.body !== undefined) {
      headers['content-type'] = 'application/json';
      init.body = JSON.stringify(params.body);
    }
    if (options?.signal) init.signal = options.signal;
    return this.fetchFn(url, init);
  }
}

/** A client for the API at `baseUrl`. */
export function createClient(options: ClientOptions = {}): CnxApiClient {
  return new CnxApiClient(options);
}

/** The largest page the API serves (GET /v1/meta limits.maxPageLimit). */
const PAGE_LIMIT = 1000;

/** Follows `page` until every one of `meta.found` items is in; one list with `meta` of the whole. */
export async function allPages<
  L extends { meta: { found: number; count: number; limit: number; page: number }; data: unknown[] },
>(fetchPage: (page: number) => Promise<L>): Promise<L> {
  const first = await fetchPage(1);
  const data = [...first.data];
  for (let page = 2; data.length < first.meta.found; page++) {
    const next = await fetchPage(page);
    if (next.data.length === 0) break; // the list shrank meanwhile
    data.push(...next.data);
  }
  return { ...first, meta: { ...first.meta, count: data.length }, data } as L;
}

/** The media type asked for each export format (the readings and the rollup export). */
const EXPORT_ACCEPT = {
  csv: 'text/csv',
  json: 'application/json',
  ndjson: 'application/x-ndjson',
  geojson: 'application/geo+json',
} as const;
