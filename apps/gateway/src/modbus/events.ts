import { TOPIC_ROOT } from '@cnx/protocol';
import type { ModbusErrorKind } from './errors';

/**
 * Device availability events on the bus (QoS 1, not retained):
 *
 *   cnx/v1/{city}/events/device-offline   a polled device has been silent for its offlineAfterMs
 *   cnx/v1/{city}/events/device-online    it answered again (only after a device-offline)
 *
 * TODO(lead): move these builders and DeviceAvailabilityEvent into packages/protocol's topic map.
 */
export const eventTopics = {
  deviceOffline: (city: string) => `${TOPIC_ROOT}/${city}/events/device-offline`,
  deviceOnline: (city: string) => `${TOPIC_ROOT}/${city}/events/device-online`,
} as const;

export interface DeviceAvailabilityEvent {
  v: 1;
  event: 'device-offline' | 'device-online';
  city: string;
  station: string;
  device: string;
  transport: 'modbus-tcp' | 'modbus-rtu';
  /** When the gateway decided, epoch ms. */
  ts: number;
  /** Last successful poll, epoch ms; null if the device never answered since the gateway started. */
  lastSuccessAt: number | null;
  /** How long the device had been silent (offline), or was silent (online), ms. */
  silenceMs: number;
  consecutiveFailures: number;
  lastError?: { kind: ModbusErrorKind; exceptionCode?: number; message: string };
}
