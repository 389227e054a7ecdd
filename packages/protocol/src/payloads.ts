import type { Correction, MetricId, MetricValues, QcFlag, StationKind } from '@cnx/domain';

/**
 * Our device telemetry (JSON), published by devices on `.../devices/{deviceId}/telemetry`.
 *
 * {"ts": 1732190400000, "seq": 42, "values": {"pm25": 31.4, "pm10": 40.2, "humidity": 71}}
 *
 * - ts: epoch milliseconds (number) or an RFC 3339 string with offset; required (readings are keyed
 *   by device time so that replays are idempotent).
 * - seq: optional monotonically increasing message counter (uint32, may wrap).
 * - values: metric id -> number, in the metric's canonical unit (METRICS in @cnx/domain).
 * - units: optional metric id -> unit symbol; if present it must be the canonical unit or an alias,
 *   otherwise the message is rejected with `unit_mismatch`.
 */
export interface TelemetryPayload {
  ts: number | string;
  seq?: number;
  values: Record<string, number>;
  units?: Record<string, string>;
  fw?: string;
}

/** One SenML record (RFC 8428 section 4). Only numeric values are meaningful to us. */
export interface SenmlRecord {
  bn?: string;
  bt?: number;
  bu?: string;
  bv?: number;
  bver?: number;
  n?: string;
  u?: string;
  v?: number;
  vs?: string;
  vb?: boolean;
  t?: number;
}
export type SenmlPack = SenmlRecord[];

/** Retained on `.../devices/{deviceId}/status`; the device's MQTT last will publishes `offline`. */
export interface DeviceStatusPayload {
  state: 'online' | 'offline';
  ts?: number;
  fw?: string;
}

/** One accepted reading as it travels on the bus (inside a ReadingsBatchPayload) and sits in the spool. */
export interface NormalizedReadingPayload {
  v: 1;
  city: string;
  station: string;
  device: string;
  kind: StationKind;
  district: string;
  ts: number;
  seq?: number;
  values: MetricValues;
  corrections: Correction[];
  qc: QcFlag[];
  /** The metrics a metric flag in `qc` (range, spike, stuck) is about; absent when none. */
  qcMetrics?: MetricId[];
  /** Gateway receive time, epoch ms. */
  receivedAt: number;
}

/**
 * Published by the gateway on `cnx/v1/{city}/readings` every GATEWAY_BUS_BATCH_MS (25 ms): every
 * reading spooled since the previous batch, in order. Consumers deduplicate on (device, ts): after a crash the
 * broker redelivers unacknowledged messages, so the bus is at-least-once.
 */
export interface ReadingsBatchPayload {
  v: 1;
  readings: NormalizedReadingPayload[];
}

/** Build a batch message from already-serialised NormalizedReadingPayload JSON strings (no re-encoding). */
export const readingsBatchJson = (records: readonly string[]): string => `{"v":1,"readings":[${records.join(',')}]}`;

/** Published by the gateway on `.../deadletter/{deviceId}` for each rejected message. */
export interface DeadLetterPayload {
  v: 1;
  /** Stable error code from the gateway's error catalogue, e.g. `malformed_json`. */
  reason: string;
  message: string;
  topic: string;
  receivedAt: number;
  /** The rejected payload as received: UTF-8 text when valid UTF-8, else base64 (see encoding). */
  payload: string;
  encoding: 'utf8' | 'base64';
  /** Truncated to this many bytes of the original (oversized payloads are not echoed whole). */
  truncated: boolean;
}
