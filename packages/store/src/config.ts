import path from 'node:path';
import { INFLUX_VERSIONS, type InfluxMajor, type InfluxVersionSetting, settingsProblems } from './influxdb.version';

/** The part of an environment reader this needs (`EnvReader` from @cnx/runtime fits). */
export interface StoreEnvReader {
  string(name: string, fallback: string): string;
  optionalString(name: string): string | undefined;
  url(name: string, protocols: readonly string[]): string | undefined;
  oneOf<T extends string>(name: string, allowed: readonly T[], fallback: T): T;
  bool(name: string, fallback: boolean): boolean;
  problem(message: string): void;
}

export type StoreEnvConfig =
  | { backend: 'sqlite'; path: string }
  | {
      backend: 'influxdb';
      url: string;
      database: string;
      /** INFLUX_VERSION: 'auto' (what the server says on /ping), '1', '2' or '3'. */
      version: InfluxVersionSetting;
      username?: string;
      password?: string;
      token?: string;
      retentionPolicy?: string;
      /** INFLUX_ROLLUP_RP: where rollups go (1.x: a retention policy; 2.x: a DBRP mapping); default INFLUX_RP's. */
      rollupRetentionPolicy?: string;
      createDatabase: boolean;
      /** 2.x, for the init step only (influxdb.init.ts): the organization and the bucket (default: database). */
      org?: string;
      bucket?: string;
    };

/**
 * Store selection from the environment, the same for every app: InfluxDB when INFLUX_URL is set
 * (INFLUX_DB, INFLUX_VERSION, INFLUX_USERNAME/PASSWORD for 1.x, INFLUX_TOKEN for 2.x/3, INFLUX_RP;
 * INFLUX_ORG and INFLUX_BUCKET for the 2.x init step), else the embedded SQLite file SQLITE_PATH
 * (default <dataDir>/cnx.sqlite). `selector` names the app's override variable (GATEWAY_STORE,
 * API_STORE). Problems go to the reader, which lists them all. With INFLUX_VERSION=auto the
 * settings are checked against the version the server names when the store starts.
 */
export function readStoreEnv(
  r: StoreEnvReader,
  opts: { selector: string; dataDir: string; mayCreateDatabase: boolean },
): StoreEnvConfig {
  const influxUrl = r.url('INFLUX_URL', ['http:', 'https:']);
  const backend = r.oneOf(opts.selector, ['sqlite', 'influxdb'] as const, influxUrl ? 'influxdb' : 'sqlite');
  if (backend === 'sqlite') return { backend, path: r.string('SQLITE_PATH', path.join(opts.dataDir, 'cnx.sqlite')) };
  if (!influxUrl) r.problem(`${opts.selector}=influxdb needs INFLUX_URL (e.g. http://127.0.0.1:8086)`);
  const version = r.oneOf('INFLUX_VERSION', INFLUX_VERSIONS, 'auto');
  const username = r.optionalString('INFLUX_USERNAME');
  const token = r.optionalString('INFLUX_TOKEN');
  const retentionPolicy = r.optionalString('INFLUX_RP');
  const rollupRetentionPolicy = r.optionalString('INFLUX_ROLLUP_RP');
  if (token && username !== undefined) r.problem('INFLUX_TOKEN and INFLUX_USERNAME: set one of them, not both');
  else if (version !== 'auto') {
    const major = Number(version) as InfluxMajor;
    for (const p of settingsProblems(major, { token, username, retentionPolicy, rollupRetentionPolicy }))
      r.problem(`INFLUX_VERSION=${version}: ${p}`);
  }
  return {
    backend,
    url: influxUrl ?? '',
    database: r.string('INFLUX_DB', 'cnx'),
    version,
    username,
    password: r.optionalString('INFLUX_PASSWORD'),
    token,
    retentionPolicy,
    rollupRetentionPolicy,
    // CREATE DATABASE exists on 1.x only; with `auto` the store skips it on 2.x/3.
    createDatabase:
      opts.mayCreateDatabase && (version === 'auto' || version === '1') && r.bool('INFLUX_CREATE_DB', true),
    org: r.optionalString('INFLUX_ORG'),
    bucket: r.optionalString('INFLUX_BUCKET'),
  };
}
