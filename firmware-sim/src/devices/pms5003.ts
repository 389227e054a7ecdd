import { METRICS } from '@cnx/domain';
import { type AirModel, airValues } from '../model/air';
import type { DeviceModelDef } from './types';

const METRICS_REPORTED = ['pm1', 'pm25', 'pm10', 'temperature', 'humidity'] as const;

/**
 * A PMS5003-based air node (the PMS5003T/ST variants, or a PMS5003 beside a BME280, add temperature
 * and humidity). Firmware averages the 1 Hz UART frames over the interval and publishes one reading,
 * so PM values carry one decimal. Values come from the pure air model.
 */
export const pms5003Model: DeviceModelDef = {
  model: 'pms5003',
  description: 'Plantower PMS5003 air node over MQTT: PM1, PM2.5, PM10, temperature, humidity',
  transports: ['mqtt'],
  createSensor({ info, seed, utcOffsetMin, scenario }) {
    const model: AirModel = { seed, utcOffsetMin, scenario, ...(info.reference ? { reference: info.reference } : {}) };
    const site = { deviceId: info.id, stationId: info.stationId, location: info.location };
    return {
      fw: 'cnx-sim-pms5003/0.1.0',
      units: Object.fromEntries(METRICS_REPORTED.map((m) => [m, METRICS[m].unit])),
      spikeMetrics: ['pm1', 'pm25', 'pm10'],
      read: (t) => ({ ...airValues(model, site, t) }),
    };
  },
};
