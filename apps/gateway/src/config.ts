import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DEFAULT_CITY_ID, ID_PATTERN } from '@cnx/city-pack';
import { EnvReader } from '@cnx/runtime';
import { readStoreEnv, type StoreEnvConfig } from '@cnx/store';
import { type AirrohrPushConfig, readAirrohrConfig } from './http-push/airrohr.config';

export type StoreConfig = StoreEnvConfig;

export interface GatewayConfig {
  city: string;
  citiesDir?: string;
  /** External broker URL (mqtt, mqtts, ws, wss); undefined = start the embedded aedes broker. */
  mqttUrl?: string;
  mqttUsername?: string;
  mqttPassword?: string;
  mqttClientId: string;
  /** 4 = MQTT 3.1.1 (default), 5 = MQTT 5. */
  mqttVersion: 4 | 5;
  /** TLS (mqtts, wss): a custom CA, and a client certificate and key; absent = system CAs, no client certificate. */
  mqttTls: { caFile?: string; certFile?: string; keyFile?: string };
  /** Shared subscription group (`$share/<group>/…`) for several gateways on one city; undefined = not shared. */
  mqttShareGroup?: string;
  /** MQTT 5 session expiry, s: how long the broker keeps this gateway's session and queue after it went away. */
  mqttSessionExpirySec: number;
  /**
   * The embedded broker; `accounts` are the other services' accounts on it (name -> password,
   * GATEWAY_EMBEDDED_MQTT_ACCOUNTS): each owns the client ids `<name>` and `<name>-…`.
   */
  embeddedBroker: { host: string; port: number; accounts: Record<string, string> };
  /** QoS for the normalised readings the gateway republishes (the internal bus). */
  busQos: 0 | 1;
  /** How long spooled readings wait to be published on the bus together, ms (0: every flush). */
  busBatchMs: number;
  store: StoreConfig;
  spool: {
    dir: string;
    maxBytes: number;
    segmentBytes: number;
    fsync: 'always' | 'interval' | 'never';
    fsyncIntervalMs: number;
    checkpointIntervalMs: number;
  };
  writer: { batchSize: number; flushIntervalMs: number; maxBackoffMs: number };
  http: { host: string; port: number };
  /** Payloads above this size are rejected (payload_too_large) and echoed truncated. */
  maxPayloadBytes: number;
  dataDir: string;
  /** Modbus polling (canal probes): a JSON file of buses and devices (docs/modbus.md); unset = off. */
  modbusConfigPath?: string;
  /** Sensor.Community (airrohr) HTTP push; enabled when GATEWAY_AIRROHR_REGISTRY is set. */
  airrohr: AirrohrPushConfig;
  /** Rollups and raw retention (README "Rollups and retention"); intervalMs 0 = not on this instance. */
  rollup: { intervalMs: number; rawRetentionMs: number };
}

/**
 * Gateway configuration from the environment. Every variable has a default that makes `npm start`
 * work on a fresh machine: embedded broker, embedded SQLite store, data under ./data.
 * Documented in apps/gateway/README.md. Throws ConfigError listing every bad setting.
 */
export function loadGatewayConfig(env: Record<string, string | undefined> = process.env): GatewayConfig {
  const r = new EnvReader(env);
  const dataDir = path.resolve(r.string('CNX_DATA_DIR', 'data'));
  const city = r.string('CNX_CITY', DEFAULT_CITY_ID);
  if (!ID_PATTERN.test(city)) {
    r.problem(`CNX_CITY=${JSON.stringify(city)}: expected a city pack id (the name of a folder in cities/)`);
  }
  const store: StoreConfig = readStoreEnv(r, { selector: 'GATEWAY_STORE', dataDir, mayCreateDatabase: true });
  const mqttUrl = r.url('GATEWAY_MQTT_URL', ['mqtt:', 'mqtts:', 'tcp:', 'ssl:', 'ws:', 'wss:']);
  const file = (name: string): string | undefined => {
    const f = r.optionalString(name);
    if (f !== undefined && !existsSync(f)) r.problem(`${name}=${JSON.stringify(f)}: no such file`);
    return f;
  };
  const mqttTls = {
    caFile: file('GATEWAY_MQTT_CA_FILE'),
    certFile: file('GATEWAY_MQTT_CERT_FILE'),
    keyFile: file('GATEWAY_MQTT_KEY_FILE'),
  };
  if (!!mqttTls.certFile !== !!mqttTls.keyFile)
    r.problem('GATEWAY_MQTT_CERT_FILE and GATEWAY_MQTT_KEY_FILE must be set together (client certificate and its key)');
  const mqttShareGroup = r.optionalString('GATEWAY_MQTT_SHARE_GROUP');
  if (mqttShareGroup !== undefined && !/^[A-Za-z0-9_-]{1,64}$/.test(mqttShareGroup))
    r.problem(
      `GATEWAY_MQTT_SHARE_GROUP=${JSON.stringify(mqttShareGroup)}: expected a name of letters, digits, _ and -`,
    );
  const spoolDir = path.resolve(r.string('GATEWAY_SPOOL_DIR', path.join(dataDir, 'spool')));
  // In a share group every instance needs its own persistent session: by default its client id is
  // keyed by this machine and its spool directory (each instance has its own), stable across restarts.
  const instance = createHash('sha256').update(`${os.hostname()}\0${spoolDir}`).digest('hex').slice(0, 8);
  const defaultClientId = mqttShareGroup ? `cnx-gateway-${city}-${instance}` : `cnx-gateway-${city}`;
  const cfg: GatewayConfig = {
    city,
    citiesDir: r.optionalString('CNX_CITIES_DIR'),
    mqttUrl,
    mqttUsername: r.optionalString('GATEWAY_MQTT_USERNAME'),
    mqttPassword: r.optionalString('GATEWAY_MQTT_PASSWORD'),
    mqttClientId: r.string('GATEWAY_MQTT_CLIENT_ID', defaultClientId),
    mqttVersion: r.oneOf('GATEWAY_MQTT_VERSION', ['3.1.1', '5'] as const, '3.1.1') === '5' ? 5 : 4,
    mqttTls,
    mqttShareGroup,
    mqttSessionExpirySec: r.int('GATEWAY_MQTT_SESSION_EXPIRY_S', 14 * 24 * 3600, 60, 0xffff_ffff),
    embeddedBroker: {
      host: r.string('CNX_MQTT_HOST', '127.0.0.1'),
      port: r.int('CNX_MQTT_PORT', 1883, 1, 65535),
      accounts: embeddedAccounts(r, r.optionalString('GATEWAY_EMBEDDED_MQTT_ACCOUNTS')),
    },
    busQos: r.int('GATEWAY_BUS_QOS', 1, 0, 1) as 0 | 1,
    busBatchMs: r.int('GATEWAY_BUS_BATCH_MS', 25, 0, 1000),
    store,
    spool: {
      dir: spoolDir,
      maxBytes: r.int('GATEWAY_SPOOL_MAX_MB', 512, 1, 1_000_000) * 1024 * 1024,
      segmentBytes: r.int('GATEWAY_SPOOL_SEGMENT_MB', 16, 1, 1024) * 1024 * 1024,
      fsync: r.oneOf('GATEWAY_SPOOL_FSYNC', ['always', 'interval', 'never'] as const, 'interval'),
      fsyncIntervalMs: r.int('GATEWAY_SPOOL_FSYNC_MS', 200, 1, 60_000),
      checkpointIntervalMs: r.int('GATEWAY_SPOOL_CHECKPOINT_MS', 1000, 0, 60_000),
    },
    writer: {
      batchSize: r.int('GATEWAY_BATCH_SIZE', 5000, 1, 100_000),
      flushIntervalMs: r.int('GATEWAY_FLUSH_MS', 100, 1, 60_000),
      maxBackoffMs: r.int('GATEWAY_MAX_BACKOFF_MS', 10_000, 100, 600_000),
    },
    http: { host: r.string('GATEWAY_HTTP_HOST', '127.0.0.1'), port: r.int('GATEWAY_HTTP_PORT', 8081, 0, 65535) },
    maxPayloadBytes: r.int('GATEWAY_MAX_PAYLOAD_BYTES', 16 * 1024, 256, 1024 * 1024),
    dataDir,
    modbusConfigPath: r.optionalString('GATEWAY_MODBUS_CONFIG'),
    airrohr: readAirrohrConfig(r),
    rollup: {
      intervalMs: r.int('GATEWAY_ROLLUP_INTERVAL_S', 300, 0, 86_400) * 1000,
      // At least 2 days: the daily bucket of yesterday must be rolled up before its raw readings go.
      rawRetentionMs: r.int('GATEWAY_RAW_RETENTION_DAYS', 90, 2, 36_500) * 86_400_000,
    },
  };
  r.finish();
  return cfg;
}

/** `name:password,name:password` (npm start makes these): the services' accounts on the embedded broker. */
function embeddedAccounts(r: EnvReader, value: string | undefined): Record<string, string> {
  const accounts: Record<string, string> = {};
  for (const item of value ? value.split(',') : []) {
    const [name, password, ...rest] = item.split(':');
    if (!name || !ID_PATTERN.test(name) || !password || password.length < 16 || rest.length > 0) {
      r.problem(
        'GATEWAY_EMBEDDED_MQTT_ACCOUNTS: expected name:password,... (ids; passwords of 16+ characters, no : or ,)',
      );
      return {};
    }
    accounts[name] = password;
  }
  return accounts;
}
