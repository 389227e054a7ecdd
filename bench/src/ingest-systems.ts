/**
 * The systems of the ingest bench (ingest.bench.ts): each a standalone process started from the
 * repo root, configured only through its environment (and, for Node-RED, files in its run's temp dir).
 */
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ManagedProcess } from '@cnx/testkit';
import { writeNodeRedFlow } from './node-red/flow';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

export interface SutContext {
  mqttUrl: string;
  influxUrl: string;
  db: string;
  city: string;
  citiesDir: string;
  /** Private temp dir of this run (spool, data). */
  tmpDir: string;
  httpPort: number;
}

export interface SutDef {
  name: string;
  description: string;
  /**
   * Entry file, relative to the repo root. Every system is bundled with the same esbuild settings
   * (scripts/bundle.mjs, as deployed) and run as `node <bundle>`, so neither carries tsx's
   * transpiler in its CPU time or memory.
   */
  entry: string;
  /** Bundle name when it is not `name` (a variant of another system shares its bundle). */
  bundle?: string;
  env(ctx: SutContext): Record<string, string>;
  /** Optional readiness probe before the end-to-end warm-up (e.g. GET /health). */
  ready?(ctx: SutContext, proc: ManagedProcess): Promise<boolean>;
  /**
   * A system that is not bundled (Node-RED: an application with its own loader): the arguments of
   * `node` for one run, given its context (files it needs are written into ctx.tmpDir).
   */
  run?(ctx: SutContext): string[];
}

export const SUTS: SutDef[] = [
  {
    name: 'naive',
    description: 'bench/src/naive-ingest.ts: mqtt.js QoS 1 -> JSON.parse -> line protocol -> batched /write',
    entry: 'bench/src/naive-ingest.ts',
    env: (c) => ({
      GATEWAY_MQTT_URL: c.mqttUrl,
      INFLUX_URL: c.influxUrl,
      INFLUX_DB: c.db,
      CNX_CITY: c.city,
      CNX_CITIES_DIR: c.citiesDir,
    }),
    ready: async (_c, proc) => proc.output().includes('naive-ingest: subscribed'),
  },
  {
    name: 'gateway',
    description: 'apps/gateway: validate, QC, spool, batched InfluxDB writes',
    entry: 'apps/gateway/src/main.ts',
    env: (c) => ({
      GATEWAY_MQTT_URL: c.mqttUrl,
      GATEWAY_STORE: 'influxdb',
      INFLUX_URL: c.influxUrl,
      INFLUX_DB: c.db,
      CNX_CITY: c.city,
      CNX_CITIES_DIR: c.citiesDir,
      CNX_DATA_DIR: join(c.tmpDir, 'data'),
      GATEWAY_SPOOL_DIR: join(c.tmpDir, 'spool'),
      GATEWAY_HTTP_PORT: String(c.httpPort),
      LOG_LEVEL: 'warn',
    }),
    ready: async (c) => {
      const res = await fetch(`http://127.0.0.1:${c.httpPort}/health`, { signal: AbortSignal.timeout(2000) });
      await res.arrayBuffer();
      return res.status === 200;
    },
  },
  {
    name: 'node-red',
    description:
      'Node-RED 4 + node-red-contrib-influxdb: mqtt in (QoS 1) -> function (point) -> join (5000 or 100 ms) -> influxdb batch',
    entry: 'node_modules/node-red/red.js',
    env: () => ({}),
    run: (c) => {
      const files = writeNodeRedFlow(c.tmpDir, {
        repoRoot: REPO_ROOT,
        mqttUrl: c.mqttUrl,
        influxUrl: c.influxUrl,
        db: c.db,
        city: c.city,
        citiesDir: c.citiesDir,
        port: c.httpPort,
      });
      return [
        join(REPO_ROOT, 'node_modules/node-red/red.js'),
        '--settings',
        files.settings,
        '--userDir',
        files.userDir,
      ];
    },
    // The mqtt node logs this once its session is up (and then subscribes at once).
    ready: async (_c, proc) => /Connected to broker/.test(proc.output()),
  },
];

/** Where a system's bundle goes (bench/.build/, gitignored). */
export function bundlePath(def: SutDef): string {
  return join(REPO_ROOT, 'bench', '.build', `${def.bundle ?? def.name}.mjs`);
}

/**
 * `gateway` or a variant of it with extra settings, `gateway+GATEWAY_BUS_BATCH_MS=100+NODE_OPTIONS=...`:
 * the same bundle with those environment variables, so an A/B comparison runs interleaved in one
 * command (the machine drifts between commands: docs/performance.md).
 */
export function systemVariant(spec: string): SutDef {
  const [name = '', ...settings] = spec.split('+');
  const def = SUTS.find((s) => s.name === name);
  if (!def) throw new Error(`unknown system '${name}' (known: ${SUTS.map((s) => s.name).join(', ')})`);
  if (settings.length === 0) return def;
  const extra: Record<string, string> = {};
  for (const kv of settings) {
    const eq = kv.indexOf('=');
    if (eq <= 0 || !/^[A-Z_][A-Z0-9_]*$/.test(kv.slice(0, eq)))
      throw new Error(`--systems ${spec}: '${kv}' is not KEY=VALUE with an upper-case environment variable name`);
    extra[kv.slice(0, eq)] = kv.slice(eq + 1);
  }
  return { ...def, name: spec, bundle: def.name, env: (c) => ({ ...def.env(c), ...extra }) };
}
