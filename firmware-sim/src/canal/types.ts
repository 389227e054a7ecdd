import type { CanalLevels, DeviceTransport, GeoPoint } from '@cnx/domain';
import type { Transport } from './modbus';

/** A canal device of the city pack joined with its station (location, levels). */
export interface CanalStationInfo {
  /** Device id, e.g. xx-canal-01-probe. */
  id: string;
  stationId: string;
  /** Register map id (@cnx/device-models), e.g. cnx-canal-probe-v1. */
  model: string;
  transport: DeviceTransport;
  location: GeoPoint;
  levels: CanalLevels;
  /** English station name, for listings. */
  name?: string;
  /** The city's centre (city.json `center`): origin of the local kilometres (downstream lag). */
  reference?: GeoPoint;
}

export interface CanalRequestEvent {
  deviceId: string;
  transport: Transport;
  unit: number;
  fn: number;
  address?: number;
  quantity?: number;
  /** words (read answered), written, exception, silent (no answer), drop (TCP connection closed). */
  outcome: 'words' | 'written' | 'exception' | 'silent' | 'drop';
  code?: number;
  badCrc?: boolean;
  /** Simulated time of the request, epoch ms. */
  t: number;
}

export interface CanalStationStats {
  deviceId: string;
  unitId: number;
  /** The station is up (not in an offline window). */
  online: boolean;
  requests: number;
  tcp: number;
  rtu: number;
  /** Reads and writes answered normally. */
  answered: number;
  /** Exception responses by code. */
  exceptions: Record<number, number>;
  /** Requests left unanswered (timeout fault, offline, other unit ids on TCP). */
  silent: number;
  /** TCP connections closed instead of answering. */
  dropped: number;
  /** Responses sent with a corrupted CRC. */
  badCrc: number;
  tcpConnections: number;
  faults: string[];
  faultsActive: string[];
}
