import type { MetricId, Reading } from '@cnx/domain';

/** A reading as read back from a store: what was written, plus nothing invented. */
export type StoredReading = Reading;

export interface ReadingQuery {
  /** Inclusive start, epoch ms. Every query is bounded in time (see DESIGN.md on InfluxQL). */
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
export interface ReadingStore {
  readonly backend: 'influxdb' | 'sqlite';
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Durably write a batch. Rejects (throws) if the backend did not accept it; callers retry. */
  write(readings: readonly Reading[]): Promise<void>;
  query(q: ReadingQuery): Promise<StoredReading[]>;
  /** Number of stored readings matching the filter (for tests, health and benchmarks). */
  count(q: Omit<ReadingQuery, 'limit' | 'order' | 'metrics'>): Promise<number>;
  /** Latest reading per station (within `since`..now), for the API's "now" views. */
  latestPerStation(since: number, stationIds?: string[]): Promise<StoredReading[]>;
  health(): Promise<StoreHealth>;
}
