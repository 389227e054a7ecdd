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
 * Targets (DESCRIPTIONS in api-config.ts): hello (the baseline), latest-warm / latest /
 * latest-uncached (GET /v1/latest with the "now" cache never expiring, at its default 15 s, and off),
 * series (a 30-day hourly series). Prints a table and writes bench/results/api-<timestamp>.json.
 *
 * This file is the run (seed, servers per configuration, targets, report); api-config.ts the targets
 * and options, api-seed.ts the data, api-servers.ts the processes, api-measure.ts one measured target
 * and the table, api-loadgen.ts the load, api-bus.ts the broker and publisher of the memory targets.
 */
import { statSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import { loadCityPack, resolveCityDir } from '@cnx/city-pack';
import { makeTempDir, removeDir } from '@cnx/testkit';
import { bundle } from '../../scripts/bundle.mjs';
import { ensureDashboardBuild } from '../../test/e2e/dashboard.stack';
import { type BenchBus, startBenchBus, waitForNowView } from './api-bus';
import {
  BENCH_DIR,
  DASHBOARD_OF,
  DAY,
  HOUR,
  parseOptions,
  progress,
  REPO_ROOT,
  SERVER_OF,
  T0,
  TARGETS,
  type Target,
} from './api-config';
import { measure, type RunResult, table } from './api-measure';
import { CITY, type SeedSummary, seedDays, seedYear, type YearSeed } from './api-seed';
import { type Server, startDashboard, startServer } from './api-servers';

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
      seeded = await seedDays(join(dir, 'cnx.sqlite'), pack, opts, now, progress);
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
