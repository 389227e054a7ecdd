import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { freePort } from './ports';
import { isAddressInUse, ManagedProcess, makeTempDir, removeDir, ServiceStartError } from './process';
import { requireBinary } from './require';

export interface InfluxDBOptions {
  /** Database created at start (default 'cnx_test'). `CREATE DATABASE` is idempotent. */
  database?: string;
  /** meta/data/wal live here. When given it is the caller's and is never deleted. */
  dataDir?: string;
  /** HTTP port (default: a free one). Pass the old port and dataDir to bring a stopped server back. */
  port?: number;
  /** Readiness timeout (default 60 s). */
  startTimeoutMs?: number;
}

/** The JSON body of an InfluxDB 1.x `/query` answer (one result per statement). */
export interface InfluxQueryResponse {
  results: Array<{
    statement_id: number;
    error?: string;
    partial?: boolean;
    series?: Array<{ name: string; tags?: Record<string, string>; columns: string[]; values: unknown[][] }>;
  }>;
}

export interface InfluxDBHandle {
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  readonly port: number;
  readonly database: string;
  readonly dataDir: string;
  readonly configPath: string;
  readonly pid: number | undefined;
  readonly running: boolean;
  output(): string;
  /** Final: stop influxd (SIGTERM, then SIGKILL) and remove the temp dirs this handle created. */
  stop(): Promise<void>;
  /** Crash influxd (SIGKILL). Data is kept (the WAL is fsynced per write); restart() brings it back. */
  kill(): Promise<void>;
  /** Stop influxd gracefully, keeping data for restart(). */
  stopProcess(): Promise<void>;
  /** Start influxd again on the same HTTP port and data dir (stops it first if running). */
  restart(): Promise<void>;
  /** InfluxQL via POST /query?db=<database>&epoch=ms; throws on HTTP or statement errors. */
  query(q: string): Promise<InfluxQueryResponse>;
  /** Line protocol via POST /write?db=<database>&precision=<precision> (default ms). */
  write(lines: string, precision?: 'ns' | 'u' | 'ms' | 's'): Promise<void>;
}

const toml = (s: string): string => JSON.stringify(s); // a JSON string is a valid TOML basic string

/** A throw-away influxd 1.x config: everything in our temp dirs, loopback only, quiet. */
function influxConfig(dataDir: string, httpPort: number, rpcPort: number): string {
  return `# written by @cnx/testkit for a throw-away test server
reporting-disabled = true
bind-address = ${toml(`127.0.0.1:${rpcPort}`)}

[meta]
  dir = ${toml(join(dataDir, 'meta'))}
  logging-enabled = false

[data]
  dir = ${toml(join(dataDir, 'data'))}
  wal-dir = ${toml(join(dataDir, 'wal'))}
  wal-fsync-delay = "0s"
  query-log-enabled = false

[monitor]
  store-enabled = false

[subscriber]
  enabled = false

[continuous_queries]
  log-enabled = false

[http]
  enabled = true
  bind-address = ${toml(`127.0.0.1:${httpPort}`)}
  auth-enabled = false
  log-enabled = false
  pprof-enabled = false

[logging]
  level = "warn"
  suppress-logo = true
`;
}

async function ping(url: string): Promise<boolean> {
  const res = await fetch(`${url}/ping`, { signal: AbortSignal.timeout(2000) });
  await res.arrayBuffer();
  return res.status === 204;
}

export async function startInfluxDB(opts: InfluxDBOptions = {}): Promise<InfluxDBHandle> {
  const bin = requireBinary('influxd', 'influxdb');
  const timeoutMs = opts.startTimeoutMs ?? 60_000;
  const database = opts.database ?? 'cnx_test';
  const confDir = await makeTempDir('cnx-influxd-');
  const dataDir = opts.dataDir ?? join(confDir, 'data');
  await mkdir(dataDir, { recursive: true });
  const configPath = join(confDir, 'influxdb.conf');
  // INFLUXDB_* variables override the config file in influxd 1.x: never let the environment move
  // a test server onto a real one's ports or directories.
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('INFLUXDB_')));

  let httpPort = opts.port ?? (await freePort());
  let rpcPort = await freePort();
  const url = () => `http://127.0.0.1:${httpPort}`;

  const launch = async (fixedHttpPort: boolean): Promise<ManagedProcess> => {
    for (let attempt = 1; ; attempt++) {
      await writeFile(configPath, influxConfig(dataDir, httpPort, rpcPort));
      const proc = ManagedProcess.spawn({ name: 'influxd', command: bin, args: ['-config', configPath], env });
      try {
        await proc.waitUntilReady(() => ping(url()), { timeoutMs, what: `GET ${url()}/ping to answer 204` });
        return proc;
      } catch (err) {
        // A freePort() race: pick new ports (never a new HTTP port when the caller fixed it).
        if (!(err instanceof ServiceStartError) || !isAddressInUse(err.output) || attempt >= 5) throw err;
        rpcPort = await freePort();
        if (!fixedHttpPort) httpPort = await freePort();
      }
    }
  };

  let current: ManagedProcess;
  try {
    current = await launch(opts.port !== undefined);
  } catch (err) {
    await removeDir(confDir);
    throw err;
  }

  const query = async (q: string): Promise<InfluxQueryResponse> => {
    const params = new URLSearchParams({ db: database, epoch: 'ms' });
    const res = await fetch(`${url()}/query?${params}`, {
      method: 'POST',
      body: new URLSearchParams({ q }),
      signal: AbortSignal.timeout(30_000),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`influxd query failed: HTTP ${res.status} ${text.slice(0, 500)} (query: ${q})`);
    const json = JSON.parse(text) as InfluxQueryResponse;
    const failed = (json.results ?? []).find((r) => r.error);
    if (failed) throw new Error(`influxd query failed: ${failed.error} (query: ${q})`);
    return json;
  };

  const handle: InfluxDBHandle = {
    get url() {
      return url();
    },
    get port() {
      return httpPort;
    },
    database,
    dataDir,
    configPath,
    get pid() {
      return current.pid;
    },
    get running() {
      return current.running;
    },
    output: () => current.output(),
    async stop() {
      await current.stop();
      await removeDir(confDir);
    },
    async kill() {
      await current.kill('SIGKILL');
    },
    async stopProcess() {
      await current.stop();
    },
    async restart() {
      await current.stop();
      current = await launch(true);
    },
    query,
    async write(lines, precision = 'ms') {
      const params = new URLSearchParams({ db: database, precision });
      const res = await fetch(`${url()}/write?${params}`, {
        method: 'POST',
        body: lines,
        signal: AbortSignal.timeout(30_000),
      });
      const text = await res.text();
      if (res.status !== 204) throw new Error(`influxd write failed: HTTP ${res.status} ${text.slice(0, 500)}`);
    },
  };

  try {
    await query(`CREATE DATABASE "${database.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`);
  } catch (err) {
    await handle.stop();
    throw err;
  }
  return handle;
}
