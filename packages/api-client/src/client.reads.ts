import { ApiError } from './errors';
import type {
  CanalList,
  CanalStatus,
  DistrictDetail,
  DistrictList,
  Health,
  LatestList,
  Meta,
  ReadingsPage,
  Series,
  Station,
  StationLatest,
  StationList,
} from './generated/openapi';
import { type LiveHandlers, type LiveOptions, type LiveSubscription, subscribe } from './live';
import { ClientTransport } from './transport';
import type {
  ExportQuery,
  LatestQuery,
  PageQuery,
  ReadingsQuery,
  RequestOptions,
  RollupExportQuery,
  SeriesQuery,
  StationsQuery,
  StreamQuery,
} from './types';

/**
 * The open-data reads of the client (part of CnxApiClient): meta and health, stations and latest,
 * series and readings, districts and canal, exports and the live stream.
 */
export class PublicReadsClient extends ClientTransport {
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
