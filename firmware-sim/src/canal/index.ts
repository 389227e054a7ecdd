export {
  CANAL_FAULT_MODES,
  CANAL_FAULTS,
  type CanalFault,
  type CanalFaultMode,
  type CanalFaultSpec,
  isCanalFaultMode,
  parseCanalFaultArg,
  resolveCanalFault,
} from './faults';
export {
  type CanalEndpoint,
  type CanalFleet,
  type CanalFleetOptions,
  type CanalRtuOptions,
  type CanalSelection,
  canalStationsFromPack,
  checkCanalFaultSpecs,
  createCanalFleet,
  loadCanalStations,
} from './fleet';
export {
  crc16,
  crcValid,
  EXCEPTION,
  encodeRtuResponse,
  interFrameMs,
  type ModbusOutcome,
  type ModbusRequest,
  parseRtuRequest,
  type Transport,
  withCrc,
} from './modbus';
export {
  type CanalModel,
  type CanalReading,
  type CanalSite,
  canalLevel,
  canalReading,
  doSaturation,
  fouling,
  SERVICE_PERIOD_DAYS,
} from './model';
export { createPtyPair, type PtyPair } from './pty';
export { type UnmappedReads, WRITABLE } from './registers';
export { createRtuBus, type RtuBus, type RtuBusOptions, type RtuBusStats } from './rtu.bus';
export {
  CANAL_SCENARIOS,
  type CanalScenario,
  type CanalScenarioContext,
  type CanalScenarioDef,
  createCanalScenario,
} from './scenarios';
export {
  type CanalClock,
  type CanalStation,
  type CanalStationOptions,
  createCanalClock,
  createCanalStation,
} from './station';
export type { CanalRequestEvent, CanalStationInfo, CanalStationStats } from './types';
