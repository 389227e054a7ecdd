export { type InfluxDBHandle, type InfluxDBOptions, type InfluxQueryResponse, startInfluxDB } from './influxdb';
export {
  MOSQUITTO_MAX_QUEUED_MESSAGES,
  type MosquittoHandle,
  type MosquittoOptions,
  startMosquitto,
} from './mosquitto';
export { canConnect, freePort } from './ports';
export {
  type ExitInfo,
  isAddressInUse,
  ManagedProcess,
  type ManagedProcessOptions,
  makeTempDir,
  type ReadyOptions,
  removeDir,
  ServiceStartError,
} from './process';
export { requireBinary } from './require';
export { makeTestCertificates, type TestCertificates } from './tls';
