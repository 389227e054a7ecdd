/**
 * The API benchmark: requests/s and latency of apps/api next to a bare fastify hello-world, in one run.
 *
 *   npm run bench:api -w @cnx/bench
 *   npm run bench:api -w @cnx/bench -- --duration 20 --connections 16 --step-min 5
 *
 * 1. Seeds a SQLite store (through @cnx/store's write(), as the gateway does) with `--days` of
 *    readings for every station of the Chiang Mai city pack: air stations every `--step-min` minutes,
 *    canal stations every 5 minutes, ending now (so the "now" views have current data).
 * 2. Bundles apps/api/src/main.ts and src/api-hello.ts (scripts/bundle.mjs, as deployed) and runs each
 *    as its own process, so the load generator (api-loadgen.ts, a worker thread here) and the server
 *    never share an event loop.
 * 3. Per target: `--warmup` s of load, then `--duration` s measured, `--connections` keep-alive
 *    connections, closed loop. Server CPU from /proc/<pid>/stat over the measured window.
 *
 * Targets (DESCRIPTIONS below): hello (the baseline), latest-warm / latest / latest-uncached (GET
 * /v1/latest with the "now" cache never expiring, at its default 15 s, and off), series (a 30-day
 * hourly series). Prints a table and writes bench/results/api-<timestamp>.json.
 */
import { statSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { type CityPack, loadCityPack, resolveCityDir } from '@cnx/city-pack';
import type { Reading } from '@cnx/domain';
import { SqliteReadingStore } from '@cnx/store';
import { freePort, ManagedProcess, makeTempDir, removeDir } from '@cnx/testkit';
import { bundle } from '../../scripts/bundle.mjs';
import { ensureDashboardBuild } from '../../test/e2e/dashboard.stack';
import { type BenchBus, startBenchBus, waitForNowView } from './api-bus';
import { type HttpLoadResult, runHttpLoad } from './api-loadgen';
import { airReadings, CITY, canalReadings, seedYear, type YearSeed } from './api-seed';
import { ProcSampler } from './measure';

const BENCH_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const REPO_ROOT = resolve(BENCH_DIR, '..');
const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
const T0 = Date.now();

const TARGETS = [
  'hello',
  'latest-memory',
  'latest-memory-br',
  'overview',
  'overview-identity',
  'overview-uncached',
  'latest-warm',
  'latest',
  'latest-uncached',
  'series',
  'series-seq',
  'series-year',
  'series-year-br',
  'series-year-uncached',
] as const;
type Target = (typeof TARGETS)[number];

const DESCRIPTIONS: Record<Target, string> = {
  hello: 'bare fastify hello-world: GET / -> {"hello":"world"} (no plugins, no logging)',
  'latest-memory':
    'GET /v1/latest from the in-memory "now" view (API_LIVE=true on a Mosquitto; one air reading published every ' +
    '2 s, each invalidating the view; bodies rebuilt at most once per second)',
  'latest-memory-br':
    'the same with Accept-Encoding: gzip, deflate, br (as browsers and fetch send): the body brotli-encoded once per change',
  overview:
    'the dashboard overview GET / from its server (node apps/dashboard/build; render shared 5 s), ' +
    'Accept-Encoding: gzip, deflate, br (as browsers send), over the memory-view API',
  'overview-identity': 'the same without Accept-Encoding: the HTML uncompressed',
  'overview-uncached':
    'the same as overview with DASHBOARD_RENDER_CACHE_S=0: every request renders (two API calls) and compresses',
  'latest-warm':
    'GET /v1/latest, API_CACHE_TTL_S=3600: the cached view never expires during the run (serving cost only)',
  latest: 'GET /v1/latest, API_CACHE_TTL_S=15 (default): includes the recomputation each time the cached view expires',
  'latest-uncached': 'GET /v1/latest, API_CACHE_TTL_S=0: every request recomputes the view from the store',
  series: 'GET /v1/stations/{id}/series?metric=pm25&interval=1h over 30 days (720 buckets), air stations round-robin',
  'series-seq': 'the same series requests one at a time (--slow-connections): service time without queueing',
  'series-year':
    'GET /v1/stations/cm-air-oldcity-01/series?metric=pm25&interval=1h over 365 days (8760 buckets, one station; --year: from rollups)',
  'series-year-br':
    'the same with Accept-Encoding: gzip, deflate, br (as browsers and fetch send): the cached body brotli-encoded once',
  'series-year-uncached': 'the same with API_CACHE_TTL_S=0: every request reads the rollups and serialises 1.7 MB',
};

/** Which API configuration serves which target (one process per configuration). */
/** A dashboard target: the built dashboard in front of its group's API, with this render cache and headers. */
interface DashboardTarget {
  renderCacheS: number;
  headers: Record<string, string>;
}
const BROWSER_HEADERS = { Accept: 'text/html', 'Accept-Encoding': 'gzip, deflate, br' };
const DASHBOARD_OF: Partial<Record<Target, DashboardTarget>> = {
  overview: { renderCacheS: 5, headers: BROWSER_HEADERS },
  'overview-identity': { renderCacheS: 5, headers: { Accept: 'text/html' } },
  'overview-uncached': { renderCacheS: 0, headers: BROWSER_HEADERS },
};

/** API targets asked as a browser or fetch() asks: compressed answers accepted. */
const API_BROWSER_HEADERS = { Accept: 'application/json', 'Accept-Encoding': 'gzip, deflate, br' };
const headersOf = (t: Target): Record<string, string> | undefined =>
  DASHBOARD_OF[t]?.headers ?? (t === 'latest-memory-br' || t === 'series-year-br' ? API_BROWSER_HEADERS : undefined);

const SERVER_OF: Record<Target, { name: string; cacheTtlS?: number; bus?: boolean }> = {
  hello: { name: 'hello' },
  'latest-memory': { name: 'api (memory view, bus)', cacheTtlS: 15, bus: true },
  'latest-memory-br': { name: 'api (memory view, bus)', cacheTtlS: 15, bus: true },
  overview: { name: 'api (memory view, bus)', cacheTtlS: 15, bus: true },
  'overview-identity': { name: 'api (memory view, bus)', cacheTtlS: 15, bus: true },
  'overview-uncached': { name: 'api (memory view, bus)', cacheTtlS: 15, bus: true },

  'latest-warm': { name: 'api (cache 3600 s)', cacheTtlS: 3600 },
  series: { name: 'api (cache 3600 s)', cacheTtlS: 3600 },
  'series-seq': { name: 'api (cache 3600 s)', cacheTtlS: 3600 },
  'series-year': { name: 'api (cache 3600 s)', cacheTtlS: 3600 },
  'series-year-br': { name: 'api (cache 3600 s)', cacheTtlS: 3600 },
  'series-year-uncached': { name: 'api (cache 0)', cacheTtlS: 0 },
  latest: { name: 'api (cache 15 s)', cacheTtlS: 15 },
  'latest-uncached': { name: 'api (cache 0)', cacheTtlS: 0 },
};

interface Options {
  durationS: number;
  warmupS: number;
  connections: number;
  /** Wait up to this long before each target for the box to be idle (other work < 0.25 cores). */
  quietWaitS: number;
  /** Connections for latest-uncached and series-seq (requests that cost a lot of server CPU each). */
  slowConnections: number;
  /** Connections for the dashboard overview targets. */
  dashboardConnections: number;
  days: number;
  stepMin: number;
  /** Seed a year as the real system holds it: 90 days of raw readings and a year of rollups. */
  year: boolean;
  targets: Target[];
  out: string;
}

const HELP = `npm run bench:api -w @cnx/bench -- [options]
  --duration <s>       measured seconds per target (default 15 = the default cache TTL, at most 60)
  --warmup <s>         seconds of load before measuring (default 3)
  --connections <n>    keep-alive connections, closed loop (default 10)
  --slow-connections <n>  connections for latest-uncached and series-seq (default 1)
  --dashboard-connections <n>  connections for the overview targets (default 100)
  --quiet-wait <s>     before each target, wait up to this long for the box to be idle (default 30)
  --days <n>           days of seeded data (default 30, at most 60; the series covers 30)
  --step-min <n>       minutes between two seeded air readings (default 1)
  --year               seed a year for every station as the real system holds it: --days is ignored;
                       90 days of raw readings (rolled up by the store's RollupRunner) and rollups for the year
  --targets <list>     ${TARGETS.join(',')} (default all)
  --out <dir>          results dir (default bench/results)`;

function parseOptions(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    options: {
      duration: { type: 'string', default: '15' },
      warmup: { type: 'string', default: '3' },
      connections: { type: 'string', default: '10' },
      'slow-connections': { type: 'string', default: '1' },
      'dashboard-connections': { type: 'string', default: '100' },
      'quiet-wait': { type: 'string', default: '30' },
      days: { type: 'string', default: '30' },
      'step-min': { type: 'string', default: '1' },
      year: { type: 'boolean', default: false },
      targets: { type: 'string', default: TARGETS.join(',') },
      out: { type: 'string', default: join(BENCH_DIR, 'results') },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log(HELP);
    process.exit(0);
  }
  const num = (name: string, v: string, min: number, max: number) => {
    const n = Number(v);
    if (!Number.isFinite(n) || n < min || n > max) throw new Error(`--${name}: a number from ${min} to ${max}`);
    return n;
  };
  const targets = values.targets.split(',').map((t) => t.trim()) as Target[];
  for (const t of targets) if (!TARGETS.includes(t)) throw new Error(`unknown target ${t} (${TARGETS.join(', ')})`);
  return {
    durationS: num('duration', values.duration, 1, 60),
    warmupS: num('warmup', values.warmup, 0, 30),
    connections: Math.round(num('connections', values.connections, 1, 256)),
    slowConnections: Math.round(num('slow-connections', values['slow-connections'], 1, 256)),
    dashboardConnections: Math.round(num('dashboard-connections', values['dashboard-connections'], 1, 1000)),
    quietWaitS: num('quiet-wait', values['quiet-wait'], 0, 600),
    days: Math.round(num('days', values.days, 1, 60)),
    stepMin: Math.round(num('step-min', values['step-min'], 1, 60)),
    year: values.year,
    targets,
    out: values.out,
  };
}

function progress(msg: string): void {
  console.error(`[${((Date.now() - T0) / 1000).toFixed(1).padStart(6)} s] ${msg}`);
}

// ---------------------------------------------------------------------------------------------
// Seeding

interface SeedSummary {
  airStations: number;
  canalStations: number;
  readings: number;
  airStepMin: number;
  canalStepMin: number;
  days: number;
  from: string;
  to: string;
  seconds: number;
  fileMb: number;
}

async function seed(path: string, pack: CityPack, opts: Options, now: number): Promise<SeedSummary> {
  const started = Date.now();
  const to = Math.floor(now / MIN) * MIN;
  const from = to - opts.days * DAY;
  const store = new SqliteReadingStore({ path });
  await store.start();
  let readings = 0;
  try {
    let batch: Reading[] = [];
    for (const gen of [airReadings(pack, from, to, opts.stepMin * MIN), canalReadings(pack, from, to, 5 * MIN)]) {
      for (const r of gen) {
        batch.push(r);
        if (batch.length === 20_000) {
          await store.write(batch);
          readings += batch.length;
          batch = [];
          if (readings % 200_000 === 0) progress(`  seeded ${readings} readings`);
        }
      }
    }
    await store.write(batch);
    readings += batch.length;
  } finally {
    await store.stop();
  }
  return {
    airStations: pack.stations.filter((s) => s.kind === 'air').length,
    canalStations: pack.stations.filter((s) => s.kind === 'canal').length,
    readings,
    airStepMin: opts.stepMin,
    canalStepMin: 5,
    days: opts.days,
    from: new Date(from).toISOString(),
    to: new Date(to).toISOString(),
    seconds: Math.round((Date.now() - started) / 100) / 10,
    fileMb: Math.round(statSync(path).size / 2 ** 20),
  };
}

// ---------------------------------------------------------------------------------------------
// Servers and runs

interface Server {
  name: string;
  proc: ManagedProcess;
  port: number;
}

async function startServer(
  name: string,
  bundleFile: string,
  env: Record<string, string>,
  probe: string,
): Promise<Server> {
  const port = await freePort();
  const proc = ManagedProcess.spawn({
    name,
    command: process.execPath,
    // BENCH_SUT_NODE_ARGS="--cpu-prof --cpu-prof-dir=<dir>" profiles the servers (as bench:ingest).
    args: [...(process.env.BENCH_SUT_NODE_ARGS?.split(' ').filter(Boolean) ?? []), bundleFile],
    cwd: REPO_ROOT,
    env: { PATH: process.env.PATH ?? '', NODE_ENV: 'production', LOG_LEVEL: 'warn', API_PORT: String(port), ...env },
  });
  await proc.waitUntilReady(
    async () => {
      const res = await fetch(`http://127.0.0.1:${port}${probe}`, { signal: AbortSignal.timeout(2000) });
      await res.arrayBuffer();
      return res.status === 200;
    },
    { timeoutMs: 30_000, what: `GET ${probe} to answer 200` },
  );
  return { name, proc, port };
}

/** The built dashboard (`node apps/dashboard/build`, as deployed) in front of the API on `apiPort`. */
async function startDashboard(name: string, apiPort: number, renderCacheS: number): Promise<Server> {
  const port = await freePort();
  const proc = ManagedProcess.spawn({
    name,
    command: process.execPath,
    args: [join(REPO_ROOT, 'apps/dashboard/build/index.js')],
    cwd: join(REPO_ROOT, 'apps/dashboard'),
    env: {
      PATH: process.env.PATH ?? '',
      NODE_ENV: 'production',
      HOST: '127.0.0.1',
      PORT: String(port),
      DASHBOARD_API_URL: `http://127.0.0.1:${apiPort}`,
      DASHBOARD_RENDER_CACHE_S: String(renderCacheS),
      CNX_CITY: CITY,
      CNX_CITIES_DIR: join(REPO_ROOT, 'cities'),
    },
  });
  await proc.waitUntilReady(
    async () => {
      const res = await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(5000) });
      await res.arrayBuffer();
      return res.status === 200;
    },
    { timeoutMs: 60_000, what: 'the dashboard overview to answer 200' },
  );
  return { name, proc, port };
}

interface RunResult {
  target: Target;
  description: string;
  server: string;
  connections: number;
  paths: string[];
  load: HttpLoadResult;
  /** Server CPU over the measured window, in cores (1 = one core busy). */
  serverCores: number;
  /** Server CPU time per successful request, ms. */
  serverCpuMsPerRequest: number;
  serverPeakRssMb: number;
  /** The bench process (load generator thread and main thread) over the measured window, in cores. */
  benchCores: number;
  /** Cores used by anything else on the box during the window (box busy minus server and bench). */
  otherCores: number;
}

/**
 * Waits (at most `maxS`) until the whole box is nearly idle for one second: other sessions' builds
 * and tests on a shared machine would otherwise distort the figures. Returns the last busy reading.
 */
async function waitForQuietBox(maxS: number): Promise<number> {
  const deadline = Date.now() + maxS * 1000;
  let busyCores = Number.NaN;
  for (;;) {
    const s = new ProcSampler({});
    s.mark('start');
    await sleep(1000);
    s.mark('end');
    busyCores = s.boxBusy() * os.cpus().length;
    if (busyCores < 0.25 || Date.now() >= deadline) return busyCores;
  }
}

async function measure(target: Target, server: Server, paths: string[], opts: Options): Promise<RunResult> {
  if (opts.quietWaitS > 0) {
    const busy = await waitForQuietBox(opts.quietWaitS);
    if (busy >= 0.25) progress(`  the box is busy with other work (${busy.toFixed(2)} cores); measuring anyway`);
  }
  // One request first: fail early, with the answer, when a target is broken. A 503 `overloaded` left
  // by the previous target's load (the API's load shedding) is waited out, for at most 30 s.
  const deadline = Date.now() + 30_000;
  for (;;) {
    const check = await fetch(`http://127.0.0.1:${server.port}${paths[0]}`, {
      headers: headersOf(target) ?? {},
    });
    const body = await check.text();
    if (check.status === 200) break;
    if (check.status !== 503 || Date.now() > deadline) {
      throw new Error(`${target}: GET ${paths[0]} answered ${check.status}: ${body.slice(0, 300)}`);
    }
    await sleep(500);
  }
  const sampler = new ProcSampler({ server: server.proc.pid!, bench: process.pid }, 250).start();
  let load: HttpLoadResult;
  try {
    load = await runHttpLoad(
      {
        host: '127.0.0.1',
        port: server.port,
        paths,
        connections: connectionsOf(target, opts),
        durationS: opts.durationS,
        warmupS: opts.warmupS,
        ...(headersOf(target) ? { headers: headersOf(target) } : {}),
      },
      { onWindowStart: () => sampler.mark('start'), onWindowEnd: () => sampler.mark('end') },
    );
  } finally {
    sampler.stop();
  }
  const sum = sampler.summary();
  const r2 = (x: number) => Math.round(x * 100) / 100;
  const srv = sum.server!;
  const bench = sum.bench!;
  const boxCores = sampler.boxBusy() * os.cpus().length;
  return {
    target,
    description: DESCRIPTIONS[target],
    server: server.name,
    connections: connectionsOf(target, opts),
    paths: paths.length > 3 ? [...paths.slice(0, 2), `… ${paths.length} paths`] : paths,
    load,
    serverCores: r2(srv.meanCores),
    serverCpuMsPerRequest: Math.round((srv.cpuSeconds / Math.max(1, load.requests)) * 1e6) / 1e3,
    serverPeakRssMb: Math.round(Math.max(srv.peakSampledRssMb, srv.vmHwmMb)),
    benchCores: r2(bench.meanCores),
    otherCores: r2(Math.max(0, boxCores - srv.meanCores - bench.meanCores)),
  };
}

function connectionsOf(target: Target, opts: Options): number {
  if (DASHBOARD_OF[target]) return opts.dashboardConnections;
  return target === 'latest-uncached' || target === 'series-seq' ? opts.slowConnections : opts.connections;
}

function table(runs: RunResult[]): string {
  const hello = runs.find((r) => r.target === 'hello');
  const head = [
    'target',
    'conns',
    'req/s',
    'p50 ms',
    'p99 ms',
    'max ms',
    'KB/resp',
    'vs hello',
    'non-2xx',
    'srv cores',
    'srv ms CPU/req',
    'bench cores',
    'other cores',
  ];
  const rows = runs.map((r) => [
    r.target,
    String(r.connections),
    r.load.rps.toFixed(r.load.rps < 10 ? 2 : 0),
    r.load.latencyMs.p50.toFixed(2),
    r.load.latencyMs.p99.toFixed(2),
    r.load.latencyMs.max.toFixed(1),
    (r.load.bytesPerResponse / 1024).toFixed(1),
    hello && hello.load.rps > 0 ? `${(r.load.rps / hello.load.rps).toFixed(4)}×` : '-',
    String(r.load.non2xx + r.load.socketErrors),
    r.serverCores.toFixed(2),
    r.load.requests > 0 ? r.serverCpuMsPerRequest.toFixed(3) : '-',
    r.benchCores.toFixed(2),
    r.otherCores.toFixed(2),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(head), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

async function main(): Promise<void> {
  const opts = parseOptions(process.argv.slice(2));
  const cpus = os.cpus();
  progress(
    `api bench: ${opts.targets.join(', ')}; ${opts.durationS} s measured (+${opts.warmupS} s warm-up) per target; ` +
      `${opts.connections} connections; ${cpus.length} CPUs (${cpus[0]?.model ?? '?'})`,
  );
  const loaded = await loadCityPack(resolveCityDir(CITY));
  if (!loaded.ok) throw new Error('the chiang-mai city pack is invalid');
  const pack = loaded.value;

  const build = join(BENCH_DIR, '.build');
  const apiBundle = join(build, 'api.mjs');
  const helloBundle = join(build, 'api-hello.mjs');
  progress('bundling apps/api/src/main.ts and bench/src/api-hello.ts');
  await bundle(join(REPO_ROOT, 'apps/api/src/main.ts'), apiBundle);
  await bundle(join(BENCH_DIR, 'src/api-hello.ts'), helloBundle);
  if (opts.targets.some((t) => DASHBOARD_OF[t])) {
    progress('building the dashboard if its sources changed (npm run build -w @cnx/dashboard)');
    ensureDashboardBuild();
  }

  const dir = await makeTempDir('cnx-bench-api-');
  const servers: Server[] = [];
  let bus: BenchBus | undefined;
  try {
    const now = Date.now();
    let seeded: SeedSummary | undefined;
    let year: YearSeed | undefined;
    if (opts.year && opts.targets.some((t) => t !== 'hello')) {
      progress(
        `seeding a year: 90 days of raw readings (air every ${opts.stepMin} min, canal every 5 min) and rollups`,
      );
      year = await seedYear(join(dir, 'cnx.sqlite'), pack, now, opts.stepMin, 90, progress);
      progress(`seeded ${JSON.stringify(year)} (${Math.round(statSync(join(dir, 'cnx.sqlite')).size / 2 ** 20)} MB)`);
    } else if (opts.targets.some((t) => t !== 'hello')) {
      progress(`seeding ${opts.days} days (air every ${opts.stepMin} min, canal every 5 min) into SQLite`);
      seeded = await seed(join(dir, 'cnx.sqlite'), pack, opts, now);
      progress(
        `seeded ${seeded.readings} readings: ${seeded.airStations} air stations × ${seeded.days} days every ` +
          `${seeded.airStepMin} min + ${seeded.canalStations} canal stations every 5 min, ${seeded.from} .. ${seeded.to} ` +
          `(${seeded.seconds} s, ${seeded.fileMb} MB)`,
      );
    }
    if (opts.targets.some((t) => SERVER_OF[t].bus)) {
      progress('starting Mosquitto and the bus publisher (one air reading every 2 s)');
      bus = await startBenchBus(pack, 2000);
    }
    const apiEnv = (ttl: number, withBus = false): Record<string, string> => ({
      API_HOST: '127.0.0.1',
      CNX_CITY: CITY,
      // The bundle cannot find cities/ relative to its own file.
      CNX_CITIES_DIR: join(REPO_ROOT, 'cities'),
      CNX_DATA_DIR: dir,
      ...(withBus && bus ? { API_LIVE: 'true', API_MQTT_URL: bus.broker.url } : { API_LIVE: 'false' }),
      // The limiter still runs (its cost is part of every request) but never refuses.
      API_RATE_LIMIT_MAX: '1000000',
      API_RATE_LIMIT_WINDOW_S: '1',
      API_CACHE_TTL_S: String(ttl),
    });
    const hourEnd = Math.floor(now / HOUR) * HOUR;
    const seriesRange = `from=${new Date(hourEnd - 30 * DAY).toISOString()}&to=${new Date(hourEnd).toISOString()}`;
    const airIds = pack.stations.filter((s) => s.kind === 'air').map((s) => s.id);
    const pathsOf = (t: Target): string[] =>
      t === 'hello' || DASHBOARD_OF[t]
        ? ['/']
        : t === 'series' || t === 'series-seq'
          ? airIds.map((id) => `/v1/stations/${id}/series?metric=pm25&interval=1h&${seriesRange}`)
          : t === 'series-year' || t === 'series-year-br' || t === 'series-year-uncached'
            ? [
                `/v1/stations/cm-air-oldcity-01/series?metric=pm25&interval=1h&from=${new Date(hourEnd - 365 * DAY).toISOString()}&to=${new Date(hourEnd).toISOString()}`,
              ]
            : ['/v1/latest'];

    const runs: RunResult[] = [];
    // One process per configuration, its targets in a row; targets in TARGETS order within it.
    const groups = [...new Set(opts.targets.map((t) => SERVER_OF[t].name))];
    for (const group of groups) {
      const targets = TARGETS.filter((t) => opts.targets.includes(t) && SERVER_OF[t].name === group);
      const { cacheTtlS: ttl, bus: withBus } = SERVER_OF[targets[0]!];
      progress(`starting ${group}`);
      const server =
        ttl === undefined
          ? await startServer(group, helloBundle, {}, '/')
          : await startServer(group, apiBundle, apiEnv(ttl, withBus), '/health');
      servers.push(server);
      if (withBus) progress(`  in-memory view built: ${await waitForNowView(server.port)} readings held`);
      const dashboards = new Map<number, Server>();
      for (const target of targets) {
        progress(`  ${target}: ${opts.warmupS} s warm-up + ${opts.durationS} s`);
        const dash = DASHBOARD_OF[target];
        let against = server;
        if (dash) {
          let web = dashboards.get(dash.renderCacheS);
          if (!web) {
            web = await startDashboard(
              `dashboard (render cache ${dash.renderCacheS} s)`,
              server.port,
              dash.renderCacheS,
            );
            dashboards.set(dash.renderCacheS, web);
            servers.push(web);
          }
          against = web;
        }
        const r = await measure(target, against, pathsOf(target), opts);
        progress(
          `  ${target}: ${r.load.rps} req/s, p50 ${r.load.latencyMs.p50} ms, p99 ${r.load.latencyMs.p99} ms, ` +
            `non-2xx ${r.load.non2xx}, server ${r.serverCores} cores, other ${r.otherCores} cores`,
        );
        runs.push(r);
      }
      for (const web of dashboards.values()) await web.proc.stop();
      await server.proc.stop();
    }
    runs.sort((a, b) => TARGETS.indexOf(a.target) - TARGETS.indexOf(b.target));

    console.log('');
    console.log(
      `API: closed loop, ${opts.connections} keep-alive connections, ${opts.durationS} s per target after ` +
        `${opts.warmupS} s warm-up; load generator (worker thread) and servers (own processes) on this ${cpus.length}-CPU box`,
    );
    if (seeded) {
      console.log(
        `Store: embedded SQLite, ${seeded.readings} readings (${seeded.airStations} air stations × ${seeded.days} days ` +
          `every ${seeded.airStepMin} min + ${seeded.canalStations} canal stations every 5 min, ${seeded.fileMb} MB)`,
      );
    }
    if (year) {
      console.log(
        `Store: embedded SQLite, a year as held by the system: ${year.readings} raw readings from ${year.rawFrom} ` +
          `(90 days) and ${year.rollupRows} hourly and daily rollup rows from ${year.yearFrom}`,
      );
    }
    console.log(table(runs));
    console.log('req/s, latency and KB/resp count 2xx answers only; non-2xx are counted apart.');
    console.log(
      `load average (1, 5, 15 min) at the end: ${os
        .loadavg()
        .map((l) => l.toFixed(2))
        .join(', ')}`,
    );
    for (const r of runs) console.log(`  ${r.target.padEnd(16)} ${r.description}`);
    const notes: string[] = [];
    for (const r of runs) {
      if (r.load.non2xx > 0) notes.push(`${r.target}: non-2xx answers ${JSON.stringify(r.load.status)}`);
      if (r.otherCores > 0.2) notes.push(`${r.target}: ${r.otherCores} cores used by other work: figures disturbed`);
      if (r.load.requests < 20) notes.push(`${r.target}: only ${r.load.requests} answers in the window`);
    }
    for (const n of notes) console.log(`note: ${n}`);

    await mkdir(opts.out, { recursive: true });
    const file = join(opts.out, `api-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
    const report = {
      bench: 'api',
      startedAt: new Date(T0).toISOString(),
      wallS: (Date.now() - T0) / 1000,
      machine: {
        cpus: cpus.length,
        cpuModel: cpus[0]?.model,
        memMb: Math.round(os.totalmem() / 2 ** 20),
        node: process.version,
      },
      options: opts,
      store: seeded ? { backend: 'sqlite', ...seeded } : year ? { backend: 'sqlite', year } : undefined,
      busReadingsPublished: bus?.published,
      loadAverage: os.loadavg(),
      runs,
      notes,
    };
    await writeFile(file, `${JSON.stringify(report, null, 1)}\n`);
    console.log(`\nResults: ${file}`);
  } finally {
    await Promise.all(servers.map((s) => s.proc.stop()));
    await bus?.stop();
    await removeDir(dir);
  }
}

main().catch((err) => {
  console.error(err instanceof Error ? (err.stack ?? err.message) : err);
  process.exit(1);
});
