import { STORE_ERROR_CODES, StoreError } from './errors';
import { InfluxDbReadingStore, type InfluxDbStoreOptions } from './influxdb.adapter';
import type { ReadingStore } from './reading-store';
import { SqliteReadingStore, type SqliteStoreOptions } from './sqlite.adapter';

export * from './errors';
export { InfluxDbReadingStore, type InfluxDbStoreOptions } from './influxdb.adapter';
export {
  codeListOnlyRegex,
  codeListRegex,
  durationMs,
  emptyOrListsRegex,
  fieldAbsent,
  type InfluxQL,
  ident,
  int,
  iql,
  join,
  measurementRef,
  str,
  tagIn,
  timeMs,
  timeNs,
  timeRange,
} from './influxql';
export {
  appendLines,
  ByteBuilder,
  escapeMeasurement,
  escapeTag,
  formatFloat,
  formatInteger,
  quoteStringField,
  ReadingEncoder,
} from './line-protocol';
export { type StoreLogger, silentLogger } from './logger';
export { compareKeys, keyOf } from './paging';
export {
  type AggregateBucket,
  type AggregateQuery,
  MAX_SCAN_PAGE,
  type QcFilter,
  type QcMode,
  type ReadingKey,
  type ReadingQuery,
  type ReadingStore,
  type ScanQuery,
  type StationCount,
  type StoredReading,
  type StoreHealth,
} from './reading-store';
export { SqliteReadingStore, type SqliteStoreOptions } from './sqlite.adapter';
export { idProblem, MAX_BUCKET_MS, MAX_ID_LENGTH, MAX_TEXT_LENGTH } from './validate';

export type ReadingStoreConfig =
  | ({ backend: 'influxdb' } & InfluxDbStoreOptions)
  | ({ backend: 'sqlite' } & SqliteStoreOptions);

type ConfigFor<B extends ReadingStoreConfig['backend']> = Extract<ReadingStoreConfig, { backend: B }>;

/** Adapters by backend name (house style: adapters at the edges, chosen from a map by name). */
export const READING_STORE_ADAPTERS: { [B in ReadingStoreConfig['backend']]: (c: ConfigFor<B>) => ReadingStore } = {
  influxdb: ({ backend: _, ...opts }) => new InfluxDbReadingStore(opts),
  sqlite: ({ backend: _, ...opts }) => new SqliteReadingStore(opts),
};

/** Builds (does not start) the store the config names. */
export function createReadingStore(config: ReadingStoreConfig): ReadingStore {
  const make = READING_STORE_ADAPTERS[config.backend] as ((c: ReadingStoreConfig) => ReadingStore) | undefined;
  if (!make) {
    const backend = JSON.stringify((config as { backend: unknown }).backend);
    const known = Object.keys(READING_STORE_ADAPTERS).join(', ');
    throw new StoreError(
      STORE_ERROR_CODES.invalidConfig,
      `unknown reading store backend ${backend} (known: ${known})`,
      {
        retryable: false,
      },
    );
  }
  return make(config);
}
export { readStoreEnv, type StoreEnvConfig, type StoreEnvReader } from './config';
export type { InfluxServer } from './influxdb.client';
export { type InfluxInitOptions, type InfluxInitResult, initInfluxStorage } from './influxdb.init';
export {
  INFLUX_VERSIONS,
  type InfluxMajor,
  type InfluxVersionSetting,
  majorFromPing,
  resolveVersion,
  settingsProblems,
} from './influxdb.version';
export {
  bucketStart,
  ROLLUP_METRICS,
  type RollupOptions,
  RollupRunner,
  type RollupRunResult,
  type RollupStation,
  type RollupStep,
  USABLE_QC,
} from './rollup';
export {
  EMPTY_ROLLUP_STATE,
  LATE_HOUR_MS,
  type LateHour,
  ROLLUP_BUCKET_MS,
  ROLLUP_LEVELS,
  type RollupLevel,
  type RollupQuery,
  type RollupRange,
  type RollupRow,
  type RollupState,
  type RollupStore,
} from './rollups';
