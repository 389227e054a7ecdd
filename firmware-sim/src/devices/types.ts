import type { DeviceTransport, GeoPoint } from '@cnx/domain';
import type { MalformedKind } from '../faults/types';
import type { Scenario } from '../scenarios/types';
import type { PayloadFormat } from './payload';

/** A device of the city pack, joined with its station's location (what the simulator needs). */
export interface SimDeviceInfo {
  id: string;
  stationId: string;
  model: string;
  transport: DeviceTransport;
  location: GeoPoint;
  /**
   * The device's reporting interval from the city pack, seconds (Device.intervalS): the simulator's
   * cadence for it unless `--interval` overrides every device (deviceIntervalMs in @cnx/domain).
   */
  intervalS?: number;
  /** The city's centre (city.json `center`): origin of the local kilometres the value models use. */
  reference?: GeoPoint;
}

/** The measuring part of a device model: values at simulated time t, pure given (seed, device, t). */
export interface SensorModel {
  readonly fw: string;
  /** metric -> canonical unit symbol (SenML style, as in @cnx/domain METRICS). */
  readonly units: Readonly<Record<string, string>>;
  /** Metrics an optical/electrical glitch hits (used by the spike and malformed faults). */
  readonly spikeMetrics: readonly string[];
  read(t: number): Record<string, number>;
}

export interface SensorContext {
  info: SimDeviceInfo;
  seed: number;
  utcOffsetMin: number;
  scenario: Scenario;
}

/** One file per device model in devices/, registered by model id in devices/index.ts. */
export interface DeviceModelDef {
  model: string;
  description: string;
  /** Transports this simulator implements for the model. */
  transports: readonly DeviceTransport[];
  createSensor(ctx: SensorContext): SensorModel;
}

/** Shared publish allowance (--max-messages): telemetry publishes take one each, status messages none. */
export interface Budget {
  take(): boolean;
  remaining(): number;
}

export interface PublishedEvent {
  deviceId: string;
  topic: string;
  seq: number;
  /** Device clock ts carried by the message (skew included), epoch ms. */
  ts: number;
  /** Simulated time the reading was taken, epoch ms. */
  t: number;
  format: PayloadFormat;
  payload: string | Uint8Array;
  /** Set when a malformed fault replaced this message. */
  malformed?: MalformedKind;
  /** true when the message was buffered while disconnected and is being replayed. */
  replayed: boolean;
}

export interface AckedEvent {
  deviceId: string;
  seq: number;
}

export interface StatusEvent {
  deviceId: string;
  state: 'online' | 'offline';
  /** connect; lost = connection dropped (fault or network); stop = clean shutdown. */
  reason: 'connect' | 'lost' | 'stop';
}

export interface DeviceErrorEvent {
  deviceId: string;
  error: Error;
}

export interface NodeEvents {
  published(e: PublishedEvent): void;
  acked(e: AckedEvent): void;
  status(e: StatusEvent): void;
  error(e: DeviceErrorEvent): void;
}

export interface DeviceStats {
  deviceId: string;
  /** The MQTT client id it connects with. */
  clientId: string;
  model: string;
  /** Reading interval, simulated ms. */
  intervalMs: number;
  format: PayloadFormat;
  up: boolean;
  connects: number;
  /** Telemetry messages handed to the broker connection (live + replayed, malformed included). */
  published: number;
  acked: number;
  /** Publishes lost in flight (connection dropped before the ack). */
  failed: number;
  malformed: number;
  replayed: number;
  /** Readings not taken because of a dropout. */
  suppressed: number;
  /** Readings waiting in the device buffer now. */
  buffered: number;
  /** Readings lost because the device buffer was full. */
  dropped: number;
  seqFirst?: number;
  seqLast?: number;
  tsMin?: number;
  tsMax?: number;
  faults: string[];
  faultsActive: string[];
}

/** A virtual device: constructors only store dependencies; start() connects; stop() cleans up everything. */
export interface SimDevice {
  readonly info: SimDeviceInfo;
  start(): Promise<void>;
  /** Take every reading due up to simulated time `until` (inclusive). */
  advance(until: number): void;
  stop(): Promise<void>;
  stats(simNow: number): DeviceStats;
}
