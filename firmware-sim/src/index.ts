/**
 * @cnx/firmware-sim: virtual device fleets for field technicians, tests and benchmarks.
 *
 *   const fleet = createFleet({ city: DEFAULT_CITY_ID, devices, mqtt: { url }, timeScale: 600, maxMessages: 100 });
 *   await fleet.start(); await fleet.finished; await fleet.stop(); fleet.stats();
 *
 * Canal stations (Modbus TCP / RTU, see README and docs/modbus.md):
 *   const canal = createCanalFleet({ city: DEFAULT_CITY_ID, stations, tcp: { basePort: 15020 }, rtu: { dir }, timeScale: 0 });
 *   await canal.start(); canal.endpoints; canal.station(id).valuesAt(); await canal.stop();
 *
 * History (the simulated past on the history topics, as `npm start` backfills a week):
 *   const { sources } = await loadHistorySources(DEFAULT_CITY_ID, { seed: 1, at: until });
 *   await publishBackfill({ city: DEFAULT_CITY_ID, sources, from, until, seed: 1, mqtt: { url } });
 */
export * from './backfill';
export {
  CANAL_FAULT_MODES,
  CANAL_FAULTS,
  CANAL_SCENARIOS,
  type CanalClock,
  type CanalEndpoint,
  type CanalFault,
  type CanalFaultMode,
  type CanalFaultSpec,
  type CanalFleet,
  type CanalFleetOptions,
  type CanalModel,
  type CanalReading,
  type CanalRequestEvent,
  type CanalRtuOptions,
  type CanalScenario,
  type CanalSelection,
  type CanalSite,
  type CanalStation,
  type CanalStationInfo,
  type CanalStationOptions,
  type CanalStationStats,
  canalLevel,
  canalReading,
  canalStationsFromPack,
  createCanalClock,
  createCanalFleet,
  createCanalScenario,
  createCanalStation,
  createPtyPair,
  createRtuBus,
  EXCEPTION as MODBUS_EXCEPTION,
  fouling,
  loadCanalStations,
  type ModbusOutcome,
  type ModbusRequest,
  type PtyPair,
  parseCanalFaultArg,
  type RtuBus,
  type RtuBusOptions,
} from './canal';
export { type CityFleet, type CityFleetSelection, fleetDevicesFromPack, loadCityFleet } from './city';
export {
  DEVICE_MODELS,
  encodeReading,
  isSimulatable,
  MqttTelemetryNode,
  type NodeOptions,
  type PayloadFormat,
  type SimReading,
  senmlBaseName,
  toSenmlPack,
  toTelemetryPayload,
} from './devices';
export type {
  AckedEvent,
  DeviceErrorEvent,
  DeviceModelDef,
  DeviceStats,
  PublishedEvent,
  SensorModel,
  SimDevice,
  SimDeviceInfo,
  StatusEvent,
} from './devices/types';
export {
  createFaults,
  FAULT_MODES,
  FAULTS,
  type Fault,
  type FaultMode,
  type FaultSpec,
  MALFORMED_KINDS,
  type MalformedKind,
  malformedPayload,
  parseFaultArg,
} from './faults';
export {
  createFleet,
  type FinishReason,
  type Fleet,
  type FleetEvents,
  type FleetFormat,
  type FleetOptions,
  type FleetStats,
} from './fleet';
export { type AirModel, type AirSite, type AirValues, airValues, ambient, localHour } from './model/air';
export { dailyPmFactor, seasonalBaseline } from './model/season';
export { spatialField, toLocalKm } from './model/spatial';
export { createScenario, SCENARIOS, type Scenario } from './scenarios';
export { type HazeEpisode, hazeContribution, hazeEnvelope, hazeEpisodeFrom } from './scenarios/haze';
export {
  createMemoryBroker,
  type LinkFactory,
  type MemoryBroker,
  type MemoryMessage,
  mqttLinkFactory,
} from './transport';
export { createSimClock, type SimClock, utcOffsetMinutes } from './util/clock';
export { formatDuration, parseDuration } from './util/duration';
export { gaussian, hash32, mulberry32, signed, unit, valueNoise } from './util/random';
