import { EnvReader } from '@cnx/runtime';

export interface AirrohrPushConfig {
  /** The endpoint exists only when a registry file is configured. */
  enabled: boolean;
  /** GATEWAY_AIRROHR_REGISTRY: JSON file of registered sensors (airrohr.registry.ts). */
  registryPath?: string;
  /** URL path the sensors POST to (the firmware's "Path" setting). */
  path: string;
  /** Larger bodies get 413. A real body is under 1 KiB (about 60 bytes per value). */
  maxBodyBytes: number;
  /** A body identical to the sensor's last accepted one within this window is a retry (0 = off). */
  dedupeWindowMs: number;
  /** Appended to the 403 answer for unregistered sensors: where a citizen registers. */
  registerInfo: string;
  /** Retry-After (seconds) of the 503 answer while the spool is full. */
  retryAfterSeconds: number;
}

export const AIRROHR_DEFAULTS = {
  path: '/push/airrohr',
  maxBodyBytes: 16 * 1024,
  dedupeSeconds: 60,
  registerInfo: 'To register it, send its sensor id (shown here) to the operator of this cnx-sense gateway.',
  retryAfterSeconds: 60,
} as const;

const PATH_PATTERN = /^\/[A-Za-z0-9._~/-]{0,127}$/;

/**
 * Read the airrohr settings through the caller's EnvReader, so that the gateway's config module can
 * report them together with its own (`loadGatewayConfig` calls `r.finish()`).
 */
export function readAirrohrConfig(r: EnvReader): AirrohrPushConfig {
  const registryPath = r.optionalString('GATEWAY_AIRROHR_REGISTRY');
  const path = r.string('GATEWAY_AIRROHR_PATH', AIRROHR_DEFAULTS.path);
  if (!PATH_PATTERN.test(path)) {
    r.problem(`GATEWAY_AIRROHR_PATH=${JSON.stringify(path)}: expected a URL path like /push/airrohr`);
  }
  const cfg: AirrohrPushConfig = {
    enabled: registryPath !== undefined,
    path,
    maxBodyBytes: r.int('GATEWAY_AIRROHR_MAX_BODY_BYTES', AIRROHR_DEFAULTS.maxBodyBytes, 1024, 1024 * 1024),
    dedupeWindowMs: r.int('GATEWAY_AIRROHR_DEDUPE_S', AIRROHR_DEFAULTS.dedupeSeconds, 0, 3600) * 1000,
    registerInfo: r.string('GATEWAY_AIRROHR_REGISTER_INFO', AIRROHR_DEFAULTS.registerInfo),
    retryAfterSeconds: AIRROHR_DEFAULTS.retryAfterSeconds,
  };
  if (registryPath !== undefined) cfg.registryPath = registryPath;
  return cfg;
}

/** Standalone: read and validate the airrohr settings; throws ConfigError listing every bad one. */
export function loadAirrohrConfig(env: Record<string, string | undefined> = process.env): AirrohrPushConfig {
  const r = new EnvReader(env);
  const cfg = readAirrohrConfig(r);
  r.finish();
  return cfg;
}
