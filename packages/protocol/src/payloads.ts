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

// The messages the services exchange on the bus (normalised readings, dead letters, device and
// alert events) are in bus.ts, with their schemas.
