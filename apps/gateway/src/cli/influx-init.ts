/**
 * InfluxDB init step: prepares the InfluxDB the gateway writes to, from the gateway's own
 * environment (INFLUX_URL, INFLUX_VERSION, INFLUX_TOKEN, INFLUX_DB, INFLUX_RP, INFLUX_ORG,
 * INFLUX_BUCKET; apps/gateway/README.md). Run it once before the first start on InfluxDB 2.x:
 *
 *   npm run -w @cnx/gateway influx-init
 *
 * 2.x: creates the bucket (INFLUX_BUCKET, default INFLUX_DB; no expiry) in INFLUX_ORG if it is
 * missing and maps INFLUX_DB / INFLUX_RP (default autogen) to it (a DBRP mapping, the default for
 * that database), through the v2 HTTP API (@cnx/store initInfluxStorage). Idempotent. 1.x and 3:
 * nothing to do (the gateway creates a 1.x database at start; InfluxDB 3 creates one on the first
 * write). Exit code: 0 ready; 2 usage, configuration, or InfluxDB not reachable or refusing.
 */
import { pathToFileURL } from 'node:url';
import { ConfigError } from '@cnx/runtime';
import { initInfluxStorage, isStoreError } from '@cnx/store';
import { loadGatewayConfig } from '../config';
import type { CliOutput } from './quarantine';

const message = (e: unknown): string => (e instanceof Error ? e.message : String(e));

export async function runInfluxInitCli(
  argv: readonly string[],
  io: CliOutput,
  env: Record<string, string | undefined> = process.env,
): Promise<number> {
  if (argv.length > 0) {
    io.err("usage: influx-init (no arguments; the settings are the gateway's INFLUX_* variables)");
    return 2;
  }
  let store: ReturnType<typeof loadGatewayConfig>['store'];
  try {
    store = loadGatewayConfig(env).store;
  } catch (error) {
    io.err(error instanceof ConfigError ? error.message : `invalid configuration: ${message(error)}`);
    return 2;
  }
  if (store.backend !== 'influxdb') {
    io.err('influx-init: the gateway stores in SQLite here (set INFLUX_URL to use InfluxDB); nothing to do');
    return 2;
  }
  try {
    const done = await initInfluxStorage({ ...store, timeoutMs: 10_000 });
    if (done.done === 'nothing') {
      const why =
        done.major === 1 ? 'the gateway creates the database at start' : 'the database is created by the first write';
      io.out(`InfluxDB ${done.server ?? done.major} at ${store.url}: nothing to prepare (${why})`);
      return 0;
    }
    const verb = (created: boolean) => (created ? 'created' : 'exists');
    io.out(`InfluxDB ${done.server ?? '2.x'} at ${store.url}, organization ${store.org} (${done.orgID}):`);
    io.out(`  bucket ${done.bucket.name} (${done.bucket.id}): ${verb(done.bucket.created)}`);
    io.out(
      `  DBRP ${done.dbrp.database}/${done.dbrp.retentionPolicy} -> ${done.bucket.name} (${done.dbrp.id}): ${verb(done.dbrp.created)}`,
    );
    return 0;
  } catch (error) {
    io.err(`influx-init failed${isStoreError(error) ? ` (${error.code})` : ''}: ${message(error)}`);
    return 2;
  }
}

const invokedDirectly = process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href;
if (invokedDirectly) {
  const io: CliOutput = { out: (l) => console.log(l), err: (l) => console.error(l) };
  runInfluxInitCli(process.argv.slice(2), io).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      console.error(error);
      process.exitCode = 2;
    },
  );
}
