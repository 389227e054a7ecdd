import path from 'node:path';

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
      username?: string;
      password?: string;
      token?: string;
      retentionPolicy?: string;
      createDatabase: boolean;
    };

/**
 * Store selection from the environment, the same for every app: InfluxDB when INFLUX_URL is set
 * (INFLUX_DB, INFLUX_USERNAME/PASSWORD for 1.x, INFLUX_TOKEN for 2.x/3.x, INFLUX_RP), else the
 * embedded SQLite file SQLITE_PATH (default <dataDir>/cnx.sqlite). `selector` names the app's
 * override variable (GATEWAY_STORE, API_STORE). Problems go to the reader, which lists them all.
 */
export function readStoreEnv(
  r: StoreEnvReader,
  opts: { selector: string; dataDir: string; mayCreateDatabase: boolean },
): StoreEnvConfig {
  const influxUrl = r.url('INFLUX_URL', ['http:', 'https:']);
  const backend = r.oneOf(opts.selector, ['sqlite', 'influxdb'] as const, influxUrl ? 'influxdb' : 'sqlite');
  if (backend === 'sqlite') return { backend, path: r.string('SQLITE_PATH', path.join(opts.dataDir, 'cnx.sqlite')) };
  if (!influxUrl) r.problem(`${opts.selector}=influxdb needs INFLUX_URL (e.g. http://127.0.0.1:8086)`);
  return {
    backend,
    url: influxUrl ?? '',
    database: r.string('INFLUX_DB', 'cnx'),
    username: r.optionalString('INFLUX_USERNAME'),
    password: r.optionalString('INFLUX_PASSWORD'),
    token: r.optionalString('INFLUX_TOKEN'),
    retentionPolicy: r.optionalString('INFLUX_RP'),
    createDatabase: opts.mayCreateDatabase && r.bool('INFLUX_CREATE_DB', true),
  };
}
