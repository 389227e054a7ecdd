import path from 'node:path';
import { DEFAULT_CITY_ID, ID_PATTERN } from '@cnx/city-pack';
import { EnvReader } from '@cnx/runtime';
import { readStoreEnv, type StoreEnvConfig } from '@cnx/store';

export type ApiStoreConfig = StoreEnvConfig;

export interface ApiLimits {
  /** Most points (buckets or readings) in one JSON response. */
  maxPoints: number;
  /** Longest range of raw readings in one request. */
  rawMaxDays: number;
  /** Longest range of an aggregated series (at 1 d buckets). */
  seriesMaxDays: number;
  /** Longest range of one export. */
  exportMaxDays: number;
}

export interface ApiConfig {
  host: string;
  port: number;
  city: string;
  citiesDir?: string;
  dataDir: string;
  store: ApiStoreConfig;
  /** Bound on every store request (InfluxDB HTTP timeout). */
  storeTimeoutMs: number;
  /** The internal bus (live stream); undefined = no live stream. */
  mqtt?: { url: string; username?: string; password?: string };
  rateLimit: {
    max: number;
    windowMs: number;
    exportMax: number;
    subscribeMaxPerHour: number;
    reportMaxPerHour: number;
  };
  /** Accepted admin keys (Authorization: Bearer <key> or X-API-Key). Empty: admin routes always 401. */
  adminKeys: string[];
  /** Trust X-Forwarded-For from a reverse proxy (the client address for rate limits). */
  trustProxy: boolean;
  /** A station is offline when nothing was heard from it for this long. */
  offlineAfterMs: number;
  /** How far back "last seen" looks. */
  lastSeenLookbackMs: number;
  /** How long computed "now" views (latest, districts, canal, stations) are reused. */
  cacheTtlMs: number;
  /** Load shedding: 503 `overloaded` past this event-loop delay (0: off). */
  maxEventLoopDelayMs: number;
  limits: ApiLimits;
  stream: { maxStreams: number; maxPerClient: number; heartbeatMs: number };
  /** Public base URL, used in links (licence, docs). */
  publicUrl?: string;
  /**
   * The alerts service (apps/alerts) that owns alert state and the staff audit trail: the staff
   * routes (/v1/staff/...) forward the staff member's credential there. Undefined: they answer 503.
   */
  alerts?: { url: string; timeoutMs: number };
}

const MIN_ADMIN_KEY_LENGTH = 16;

/**
 * API configuration from the environment (docs/architecture.md house style 7). Defaults make `npm start` work:
 * the SQLite file the gateway writes (opened read-only) and the embedded broker on 1883. Store
 * selection is the gateway's (INFLUX_URL set -> InfluxDB). Throws ConfigError listing every bad setting.
 */
export function loadApiConfig(env: Record<string, string | undefined> = process.env): ApiConfig {
  const r = new EnvReader(env);
  const dataDir = path.resolve(r.string('CNX_DATA_DIR', 'data'));
  const city = r.string('CNX_CITY', DEFAULT_CITY_ID);
  if (!ID_PATTERN.test(city)) {
    r.problem(`CNX_CITY=${JSON.stringify(city)}: expected a city pack id (the name of a folder in cities/)`);
  }
  // The API never writes: it does not create the database.
  const store: ApiStoreConfig = readStoreEnv(r, { selector: 'API_STORE', dataDir, mayCreateDatabase: false });
  const live = r.bool('API_LIVE', true);
  const mqttUrl = r.url('API_MQTT_URL', ['mqtt:', 'mqtts:', 'tcp:', 'ssl:', 'ws:', 'wss:']) ?? 'mqtt://127.0.0.1:1883';
  const adminKeys = (r.optionalString('API_ADMIN_KEYS') ?? '')
    .split(',')
    .map((k) => k.trim())
    .filter((k) => k !== '');
  for (const [i, k] of adminKeys.entries()) {
    if (k.length < MIN_ADMIN_KEY_LENGTH || /\s/.test(k)) {
      r.problem(`API_ADMIN_KEYS: key #${i + 1} must be at least ${MIN_ADMIN_KEY_LENGTH} characters without spaces`);
    }
  }
  const publicUrl = r.url('API_PUBLIC_URL', ['http:', 'https:']);
  const alertsUrl = r.url('API_ALERTS_URL', ['http:', 'https:']);
  if (alertsUrl && (new URL(alertsUrl).username || new URL(alertsUrl).password)) {
    r.problem('API_ALERTS_URL: must not contain credentials (staff send their own with each request)');
  }
  const alertsTimeoutMs = r.int('API_ALERTS_TIMEOUT_MS', 5000, 100, 60_000);
  const cfg: ApiConfig = {
    host: r.string('API_HOST', '127.0.0.1'),
    port: r.int('API_PORT', 8080, 0, 65535),
    city,
    citiesDir: r.optionalString('CNX_CITIES_DIR'),
    dataDir,
    store,
    storeTimeoutMs: r.int('API_STORE_TIMEOUT_MS', 10_000, 100, 300_000),
    ...(live
      ? {
          mqtt: {
            url: mqttUrl,
            username: r.optionalString('API_MQTT_USERNAME'),
            password: r.optionalString('API_MQTT_PASSWORD'),
          },
        }
      : {}),
    rateLimit: {
      max: r.int('API_RATE_LIMIT_MAX', 300, 1, 1_000_000),
      windowMs: r.int('API_RATE_LIMIT_WINDOW_S', 60, 1, 86_400) * 1000,
      exportMax: r.int('API_EXPORT_RATE_LIMIT_MAX', 20, 1, 1_000_000),
      // New alert subscriptions per client an hour (issue 12: abuse limits; per address: apps/alerts).
      subscribeMaxPerHour: r.int('API_SUBSCRIBE_RATE_LIMIT_MAX', 10, 1, 1_000_000),
      reportMaxPerHour: r.int('API_REPORT_RATE_LIMIT_MAX', 10, 1, 1_000_000),
    },
    adminKeys,
    trustProxy: r.bool('API_TRUST_PROXY', false),
    offlineAfterMs: r.int('API_OFFLINE_AFTER_S', 900, 1, 30 * 86_400) * 1000,
    lastSeenLookbackMs: r.int('API_LAST_SEEN_DAYS', 30, 1, 3660) * 86_400_000,
    cacheTtlMs: r.int('API_CACHE_TTL_S', 15, 0, 3600) * 1000,
    maxEventLoopDelayMs: r.int('API_MAX_EVENT_LOOP_DELAY_MS', 1000, 0, 600_000),
    limits: {
      maxPoints: r.int('API_MAX_POINTS', 10_000, 100, 100_000),
      rawMaxDays: r.int('API_RAW_MAX_DAYS', 31, 1, 366),
      seriesMaxDays: r.int('API_SERIES_MAX_DAYS', 3660, 1, 36_600),
      exportMaxDays: r.int('API_EXPORT_MAX_DAYS', 366, 1, 3660),
    },
    stream: {
      maxStreams: r.int('API_MAX_STREAMS', 200, 1, 100_000),
      maxPerClient: r.int('API_MAX_STREAMS_PER_CLIENT', 5, 1, 1000),
      heartbeatMs: r.int('API_STREAM_HEARTBEAT_S', 15, 1, 3600) * 1000,
    },
    ...(publicUrl ? { publicUrl: publicUrl.replace(/\/+$/, '') } : {}),
    ...(alertsUrl ? { alerts: { url: alertsUrl.replace(/\/+$/, ''), timeoutMs: alertsTimeoutMs } } : {}),
  };
  r.finish();
  return cfg;
}

/** The configuration with secrets replaced, for GET /admin/config and start-up logs. */
export function redactedConfig(cfg: ApiConfig): Record<string, unknown> {
  const store =
    cfg.store.backend === 'influxdb'
      ? {
          ...cfg.store,
          ...(cfg.store.password ? { password: '[redacted]' } : {}),
          ...(cfg.store.token ? { token: '[redacted]' } : {}),
        }
      : cfg.store;
  const mqtt = cfg.mqtt ? { ...cfg.mqtt, ...(cfg.mqtt.password ? { password: '[redacted]' } : {}) } : undefined;
  return { ...cfg, store, mqtt, adminKeys: `${cfg.adminKeys.length} configured` };
}
