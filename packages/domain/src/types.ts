import type { MetricId } from './metrics';
import type { QcFlag } from './qc/flags';

/** Thai first, English second: every human-readable name in the city pack carries both. */
export interface LocalizedText {
  th: string;
  en: string;
}

export type StationKind = 'air' | 'canal';

export interface GeoPoint {
  lat: number;
  lon: number;
}

/** Canal stations only: levels in metres above the gauge datum, from the city pack. */
export interface CanalLevels {
  bankHeightM: number;
  warningLevelM: number;
  criticalLevelM: number;
}

export interface Station {
  id: string;
  city: string;
  kind: StationKind;
  name: LocalizedText;
  location: GeoPoint;
  /** Id of the district (innovation district) this station belongs to. */
  district: string;
  canal?: CanalLevels;
  /** Who publishes the data and who owns the instrument (city pack; OpenAQ's provider and owner). */
  provider?: Organisation;
  owner?: Organisation;
  instrument?: Instrument;
}

export interface Organisation {
  name: string;
  url?: string;
}

/** A reference (regulatory) or low-cost instrument, and its sensor. */
export interface Instrument {
  grade: 'reference' | 'low-cost';
  manufacturer: string;
  model: string;
}

export type DeviceTransport = 'mqtt' | 'modbus-tcp' | 'modbus-rtu' | 'http';

export interface Device {
  id: string;
  stationId: string;
  /** Device model, e.g. 'pms5003' or a register-map id for Modbus probes. */
  model: string;
  transport: DeviceTransport;
  /** Reporting (or polling) interval, seconds; DEFAULT_DEVICE_INTERVAL_S when the pack gives none. */
  intervalS?: number;
}

/**
 * A device's reporting interval when its record names none: one reading a minute, the usual cadence
 * of low-cost PM firmware (stuckCount in qc/engine.ts counts in the same unit).
 */
export const DEFAULT_DEVICE_INTERVAL_S = 60;

/** The device's reporting interval in ms. */
export const deviceIntervalMs = (d: Pick<Device, 'intervalS'>): number =>
  (d.intervalS ?? DEFAULT_DEVICE_INTERVAL_S) * 1000;

export type MetricValues = Partial<Record<MetricId, number>>;

/** A low-cost-sensor correction applied to one metric, kept beside the raw value. */
export interface Correction {
  metric: MetricId;
  value: number;
  /** Versioned formula id, e.g. 'epa-barkjohn-2021-extended@1'. */
  method: string;
}

/**
 * One device message after validation: one timestamp, several metrics. This is the unit that is
 * spooled, stored (one point / one row) and republished on the normalised topic.
 */
export interface Reading {
  city: string;
  stationId: string;
  deviceId: string;
  /** Device (or poll) timestamp, epoch milliseconds. Fixed precision: ms (idempotent writes). */
  ts: number;
  seq?: number;
  values: MetricValues;
  corrections: Correction[];
  qc: QcFlag[];
  /**
   * The metrics a metric flag in `qc` (range, spike, stuck: QC_METRIC_FLAGS) is about, in registry
   * order; absent when `qc` has none. A frozen DO probe flags its reading `stuck` with
   * `qcMetrics: ['do']`: the water level of the same reading still counts (qc/policy.ts).
   */
  qcMetrics?: MetricId[];
}
