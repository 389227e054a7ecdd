import type { MetricId, QcFlag, Reading } from '@cnx/domain';
import type { RollupStore } from './rollups';

/** A reading as read back from a store: what was written, plus nothing invented. */
export type StoredReading = Reading;

export interface ReadingQuery {
  /** Inclusive start, epoch ms. Every query is bounded in time (docs/architecture.md, house style 12: InfluxQL). */
  from: number;
  /** Exclusive end, epoch ms. */
  to: number;
  stationIds?: string[];
  deviceIds?: string[];
  /** Only return these metrics' values (others omitted); default all. */
  metrics?: MetricId[];
  /** Maximum rows returned (the adapter must apply it in the backend, not after). */
  limit: number;
  order?: 'asc' | 'desc';
}

/** Which readings count, by their QC flags (docs/qc.md). */
export type QcMode = 'include' | 'exclude-flagged' | 'only-flagged';

/**
 * Which readings count as "flagged", and what the mode does with them.
 *
 * Without `metric`: a reading is flagged when it carries any of `flags` (default: any flag at all).
 *
 * With `metric` (the question is about that metric's value, as in the domain's `usableFor(use, flags,
 * { metric, qcMetrics })`): a metric flag (`range`, `spike`, `stuck`: QC_METRIC_FLAGS) among `flags`
 * (default: among all flags) counts only if the reading's `qcMetrics` lists `metric`, or if the
 * reading has no `qcMetrics` at all (stored before they existed, or written by a producer that did
 * not name them: counted, to be safe). Every other flag (`humidity`, `future`, `stale`,
 * `seq_duplicate`, any other code) is about the whole reading and counts as without `metric`.
 * So a canal reading `qc: ['stuck'], qcMetrics: ['do']` is flagged for `do` and not for
 * `water_level`; a `stale` one is flagged for every metric.
 *
 * `aggregate()` asks about its own metric unless `qc.metric` names another (its `flagged` count too);
 * `scan`, `countByStation` and `latestPerStation` apply `metric` only when it is given.
 *
 * InfluxDB: readings written before the `qc_metrics` field existed have no such field; they are
 * counted as flagged, like SQLite's NULL (README, "Per-metric QC").
 */
export interface QcFilter {
  /** include: every reading; exclude-flagged: only readings not flagged; only-flagged: the others. */
  mode: QcMode;
  /** The flags that count as "flagged" (default: any flag). E.g. leave out `humidity` for corrected PM2.5. */
  flags?: readonly QcFlag[];
  /** Ask about this metric's value: metric flags about other metrics do not count (above). */
  metric?: MetricId;
}

/**
 * A reading's place in the store's total order, (ts, city, stationId, deviceId) ascending, ids
 * compared by code unit: the keyset of `scan()`. A page's last reading is the cursor of the next.
 */
export interface ReadingKey {
  ts: number;
  city: string;
  stationId: string;
  deviceId: string;
}

export interface ScanQuery {
  /** Inclusive start, epoch ms. */
  from: number;
  /** Exclusive end, epoch ms. */
  to: number;
  stationIds?: string[];
  deviceIds?: string[];
  /** Only return these metrics' values (as in `query`); default all. */
  metrics?: MetricId[];
  qc?: QcFilter;
  /** Start strictly after this reading (keyset pagination); default: at `from`. */
  after?: ReadingKey;
}

/** Largest page `scan()` accepts. */
export const MAX_SCAN_PAGE = 100_000;

export interface AggregateQuery {
  from: number;
  to: number;
  stationIds?: string[];
  deviceIds?: string[];
  metric: MetricId;
  /** Aggregate `<metric>_corrected` instead of the raw value. */
  corrected?: boolean;
  /** Bucket length, ms: a whole number of seconds, 1 s .. 366 days. */
  bucketMs: number;
  /**
   * Buckets start at offsetMs + k × bucketMs (epoch ms); default 0 = aligned to UTC. Daily buckets of a
   * city seven hours east of UTC use -7 h. Normalised to 0 <= offset < bucketMs.
   */
  offsetMs?: number;
  qc?: QcFilter;
}

/** One time bucket of one station: statistics of the samples (non-null values) the QC filter keeps. */
export interface AggregateBucket {
  city: string;
  stationId: string;
  /** Bucket start, epoch ms (aligned: may be before `from`; samples are still only those in from..to). */
  start: number;
  mean: number;
  min: number;
  max: number;
  /** Samples kept by the QC filter (buckets with none are left out, like InfluxQL's fill(none)). */
  count: number;
  /**
   * Samples in the bucket that are flagged (one of `qc.flags` when given; metric flags only when
   * about the aggregated metric or `qc.metric`), whether kept or not.
   */
  flagged: number;
}

export interface StationCount {
  city: string;
  stationId: string;
  count: number;
}

export interface StoreHealth {
  ok: boolean;
  backend: string;
  detail?: string;
}

/**
 * The reading store. Implementations: InfluxDB over the v1 HTTP API (`influxdb.adapter.ts`) and the
 * embedded SQLite default (`sqlite.adapter.ts`). One contract suite (`test/contract.ts`) runs on both.
 *
 * Writes are idempotent: a reading's identity is (city, stationId, deviceId, ts at ms precision), so
 * writing the same reading twice leaves exactly one copy holding the latest values and flags.
 */
export interface ReadingStore extends RollupStore {
  readonly backend: 'influxdb' | 'sqlite';
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Durably write a batch. Rejects (throws) if the backend did not accept it; callers retry. */
  write(readings: readonly Reading[]): Promise<void>;
  query(q: ReadingQuery): Promise<StoredReading[]>;
  /** Number of stored readings matching the filter (for tests, health and benchmarks). */
  count(q: Omit<ReadingQuery, 'limit' | 'order' | 'metrics'>): Promise<number>;
  /**
   * Latest reading per station (within `since`..now), for the API's "now" views; with `qc`, the
   * latest reading the filter keeps (e.g. the newest one the quality policy lets into "now").
   */
  latestPerStation(since: number, stationIds?: string[], qc?: QcFilter): Promise<StoredReading[]>;
  /**
   * Every matching reading in key order (ts, city, station, device), in pages of exactly `pageSize`
   * readings except the last (1..pageSize); nothing for an empty result. Keyset pagination by time,
   * so memory stays bounded by one page however long the range (exports). Break out of the loop
   * to stop early.
   */
  scan(q: ScanQuery, pageSize: number): AsyncIterable<StoredReading[]>;
  /** mean/min/max/count per (city, station, time bucket), sorted by city, station, start. */
  aggregate(q: AggregateQuery): Promise<AggregateBucket[]>;
  /** Readings per (city, station) matching the filter, sorted by city, station; zero counts left out. */
  countByStation(q: Omit<ReadingQuery, 'limit' | 'order' | 'metrics'> & { qc?: QcFilter }): Promise<StationCount[]>;
  health(): Promise<StoreHealth>;
}
