import type { Device } from '@cnx/domain';
import { pms5003Model } from './pms5003';
import type { DeviceModelDef } from './types';

export { MqttTelemetryNode, type NodeOptions } from './mqtt-node';
export * from './payload';
export type * from './types';

/** Device models the simulator can play, by model id (canal Modbus probes will be added here). */
export const DEVICE_MODELS: Readonly<Record<string, DeviceModelDef>> = {
  pms5003: pms5003Model,
};

export const isSimulatable = (d: Pick<Device, 'model' | 'transport'>): boolean =>
  DEVICE_MODELS[d.model]?.transports.includes(d.transport) ?? false;
