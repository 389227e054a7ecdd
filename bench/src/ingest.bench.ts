/**
 * The ingest benchmark: Mosquitto -> system under test -> InfluxDB, on this machine, side by side.
 *
 *   npm run bench:ingest -w @cnx/bench -- --rates 10000,20000,32000 --duration 20 --devices 100
 *   npm run bench:ingest -w @cnx/bench -- --find-max --systems naive
 *
 * For each system (naive baseline, gateway) and each rate: a fresh Mosquitto and a fresh InfluxDB
 * (via @cnx/testkit), the system under test as its own process, an end-to-end warm-up, then the
 * open-loop load (loadgen.ts), with CPU/RSS sampling and a latency prober (measure.ts). Prints a
 * table and writes bench/results/ingest-<timestamp>.json. See bench/README.md.
 */

import { existsSync, readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { writeSyntheticCityPack } from '@cnx/city-pack';
import {
  freePort,
  type InfluxDBHandle,
  ManagedProcess,
  type MosquittoHandle,
  makeTempDir,
  removeDir,
  startInfluxDB,
  startMosquitto,
} from '@cnx/testkit';
import mqtt from 'mqtt';
import { bundle } from '../../scripts/bundle.mjs';
import { bundlePath, REPO_ROOT, type SutContext, type SutDef, systemVariant } from './ingest-systems';
import { type LoadResult, type PublisherKind, runLoad } from './loadgen';
import {
  countStored,
  influxQuery,
  LatencyProber,
  type LatencySummary,
  ProcSampler,
  type ProcSummary,
  readCpuSeconds,
  waitForQuiesce,
} from './measure';

const CITY = 'bench';
const DB = 'bench';

// ---------------------------------------------------------------------------------------------
// Options

interface Options {
  systems: string[];
  rates: number[];
  durationS: number;
  devices: number;
  clients: number;
  threads: number;
  publisher: PublisherKind;
  findMax: boolean;
  findStart: number;
  findDurationS: number;
  findSteps: number;
  /** --find-max: a rate is sustained only if everything was stored within this many s after the load. */
  findMaxDrainS: number;
  /** Max wait for the stored count to reach the acked count after the load. */
  drainMaxS: number;
  /** The stored count is final once it has not grown for this long (longer than the SUT's write retry backoff). */
  settleS: number;
  pollMs: number;
  out: string;
  keepLogs: boolean;
}

const USAGE = `Usage: npm run bench:ingest -w @cnx/bench -- [options]
  --systems naive,gateway   systems under test (default: both; a missing gateway is skipped);
                            gateway+KEY=VALUE[+KEY=VALUE] is a variant with extra environment
                            (A/B runs interleaved in one command, e.g. gateway+NODE_OPTIONS=--max-semi-space-size=32)
  --rates 10000,20000,32000 target publish rates, msg/s (each run is one rate)
  --duration 20             seconds of load per run (max 300)
  --devices 100             devices (synthetic city pack 'bench', one device per station)
  --clients 4               MQTT connections of the load generator
  --threads 1               generator worker threads (one keeps up to ~80k msg/s)
  --publisher raw|mqttjs    generator client (default raw: cheap batched MQTT 3.1.1)
  --find-max                also search the highest zero-loss rate per system (bounded step search)
  --find-start 10000        first rate of the search
  --find-duration 10        seconds per search run
  --find-steps 6            max runs per system for the search (max 10)
  --find-max-drain 1        a rate counts as sustained only if all was stored within this many s after the load
  --drain-max 60            max seconds to wait after the load for stored == acked
  --settle 15               ... or until the stored count has not grown for this long (must exceed the
                            system's write retry backoff, else a pause is counted as loss)
  --poll-ms 25              latency prober poll interval
  --out <dir>               results dir (default bench/results)
  --no-rates                with --find-max: skip the fixed-rate runs`;

function parseOptions(argv: string[]): Options & { skipRates: boolean } {
  const { values } = parseArgs({
    args: argv,
    options: {
      systems: { type: 'string', default: 'naive,gateway' },
      rates: { type: 'string', default: '10000,20000,32000' },
      duration: { type: 'string', default: '20' },
      devices: { type: 'string', default: '100' },
      clients: { type: 'string', default: '4' },
      threads: { type: 'string', default: '1' },
      publisher: { type: 'string', default: 'raw' },
      'find-max': { type: 'boolean', default: false },
      'find-start': { type: 'string', default: '10000' },
      'find-duration': { type: 'string', default: '10' },
      'find-steps': { type: 'string', default: '6' },
      'find-max-drain': { type: 'string', default: '1' },
      'drain-max': { type: 'string', default: '60' },
      settle: { type: 'string', default: '15' },
      'poll-ms': { type: 'string', default: '25' },
      out: { type: 'string', default: join(REPO_ROOT, 'bench', 'results') },
      'no-rates': { type: 'boolean', default: false },
      'keep-logs': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const num = (name: string, v: string, min: number, max: number): number => {
    const n = Number(v);
    if (!Number.isFinite(n) || n < min || n > max)
      throw new Error(`--${name} must be a number in ${min}..${max}, got ${v}`);
    return n;
  };
  const rates = values.rates
    .split(',')
    .filter(Boolean)
    .map((r) => num('rates', r, 1, 200_000));
  if (rates.length > 10) throw new Error('--rates: at most 10 rates');
  const publisher = values.publisher;
  if (publisher !== 'raw' && publisher !== 'mqttjs') throw new Error('--publisher must be raw or mqttjs');
  return {
    systems: values.systems.split(',').filter(Boolean),
    rates,
    durationS: num('duration', values.duration, 1, 300),
    devices: Math.round(num('devices', values.devices, 1, 5000)),
    clients: Math.round(num('clients', values.clients, 1, 64)),
    threads: Math.round(num('threads', values.threads, 1, 16)),
    publisher,
    findMax: values['find-max'],
    findStart: num('find-start', values['find-start'], 100, 200_000),
    findDurationS: num('find-duration', values['find-duration'], 2, 120),
    findSteps: Math.round(num('find-steps', values['find-steps'], 1, 10)),
    findMaxDrainS: num('find-max-drain', values['find-max-drain'], 0.1, 60),
    drainMaxS: num('drain-max', values['drain-max'], 1, 300),
    settleS: num('settle', values.settle, 1, 120),
    pollMs: num('poll-ms', values['poll-ms'], 5, 1000),
    out: resolve(values.out),
    keepLogs: values['keep-logs'],
    skipRates: values['no-rates'],
  };
}

// ---------------------------------------------------------------------------------------------
// Progress output

const T0 = Date.now();
function progress(msg: string): void {
  const elapsed = ((Date.now() - T0) / 1000).toFixed(1).padStart(6);
  process.stderr.write(`[+${elapsed}s] ${msg}\n`);
}

// ---------------------------------------------------------------------------------------------
// One run

export interface RunResult {
  system: string;
  targetRate: number;
  durationS: number;
  devices: number;
  ok: boolean;
  /** Why the run failed or is not a valid data point (crash, warm-up timeout, ...). */
  error?: string;
  /** sent / duration */
  achievedRate?: number;
  published?: number;
  /** Acked by the broker: what must be stored for zero loss. */
  acked?: number;
  stored?: number;
  lost?: number;
  lossPct?: number;
  /** stored / (time from load start until the last reading was stored). */
  storedRate?: number;
  /** Seconds after the schedule ended until the stored count stopped growing. */
  drainS?: number;
  drainTimedOut?: boolean;
  /** Stored count when the schedule ended (what the system kept up with). */
  storedAtLoadEnd?: number;
  cpuUsPerReading?: number;
  /** The kernel (system-call) part of cpuUsPerReading. */
  sysUsPerReading?: number;
  sutCpuS?: number;
  /** SUT CPU use (cores) during 1 s of idle before the load: fixed overhead included in cpuUsPerReading. */
  sutIdleCores?: number;
  peakRssMb?: number;
  latency?: LatencySummary;
  generator?: Omit<LoadResult, 'threadStats'> & { threadStats: LoadResult['threadStats'] };
  processes?: Record<string, ProcSummary>;
  /** Whole-box CPU busy fraction over the measured window (0..1, all cores). */
  boxBusy?: number;
  /** Cores used by processes other than the SUT, Mosquitto, InfluxDB and this bench (noise). */
  otherCores?: number;
  /** SUT samples: [ms since sampler start, cpu seconds, rss MB]. */
  sutSeries?: [number, number | null, number | null][];
  /** Last lines the SUT printed (on failure, or with --keep-logs). */
  sutOutput?: string;
  wallS: number;
}

interface Shared {
  opts: Options;
  citiesDir: string;
  deviceIds: string[];
}

/** Publish one round (one message per device, same ts) and wait until all are stored. */
async function warmUp(
  mqttUrl: string,
  influx: InfluxDBHandle,
  deviceIds: string[],
  sut: ManagedProcess,
  timeoutMs: number,
): Promise<{ rounds: number; ms: number }> {
  const client = mqtt.connect(mqttUrl, {
    clientId: `cnx-bench-warmup-${process.pid}`,
    clean: true,
    reconnectPeriod: 0,
  });
  await new Promise<void>((res, rej) => {
    client.once('connect', () => res());
    client.once('error', rej);
  });
  const t0 = Date.now();
  try {
    for (let round = 1; Date.now() - t0 < timeoutMs; round++) {
      const ts = Date.now();
      await Promise.all(
        deviceIds.map(
          (d, i) =>
            new Promise<void>((res, rej) =>
              client.publish(
                `cnx/v1/${CITY}/devices/${d}/telemetry`,
                JSON.stringify({
                  ts,
                  seq: round,
                  values: { pm1: 10, pm25: 15 + (i % 10), pm10: 20, temperature: 28, humidity: 60 },
                }),
                { qos: 1 },
                (err) => (err ? rej(err) : res()),
              ),
            ),
        ),
      );
      const roundDeadline = Date.now() + 5000;
      while (Date.now() < roundDeadline) {
        if (!sut.running) throw new Error(`system under test exited during warm-up (${JSON.stringify(sut.exit)})`);
        const r = await influxQuery(influx.url, DB, `SELECT count(pm25) FROM reading WHERE time = ${ts}ms`).catch(
          () => undefined,
        );
        const n = r?.results?.[0]?.series?.[0]?.values?.[0]?.[1];
        if (n === deviceIds.length) return { rounds: round, ms: Date.now() - t0 };
        await sleep(100);
      }
      await sleep(Math.max(0, ts + 2 - Date.now())); // next round gets a new ts
    }
    throw new Error(`warm-up: a full round of ${deviceIds.length} messages was not stored within ${timeoutMs} ms`);
  } finally {
    await new Promise<void>((res) => client.end(true, {}, () => res()));
  }
}

async function runOne(sutDef: SutDef, rate: number, durationS: number, shared: Shared): Promise<RunResult> {
  const { opts, deviceIds } = shared;
  const label = `${sutDef.name} @ ${rate}/s`;
  const wall0 = Date.now();
  const base: RunResult = {
    system: sutDef.name,
    targetRate: rate,
    durationS,
    devices: deviceIds.length,
    ok: false,
    wallS: 0,
  };
  let mosq: MosquittoHandle | undefined;
  let influx: InfluxDBHandle | undefined;
  let sut: ManagedProcess | undefined;
  let tmpDir: string | undefined;
  let sampler: ProcSampler | undefined;
  let prober: LatencyProber | undefined;
  const cleanup = async () => {
    sampler?.stop();
    await prober?.stop(false).catch(() => undefined);
    await sut?.stop(10_000).catch(() => undefined);
    await mosq?.stop().catch(() => undefined);
    await influx?.stop().catch(() => undefined);
    if (tmpDir) await removeDir(tmpDir).catch(() => undefined);
  };
  activeCleanup = cleanup;
  try {
    progress(`${label}: starting mosquitto and influxd`);
    // The broker gets the in-flight window we ship (infra/mosquitto/mosquitto.conf), for every system.
    [mosq, influx] = await Promise.all([
      startMosquitto({ extraConfig: `max_inflight_messages ${BROKER_MAX_INFLIGHT}` }),
      startInfluxDB({ database: DB }),
    ]);
    tmpDir = await makeTempDir(`cnx-bench-${sutDef.bundle ?? sutDef.name}-`);
    const ctx: SutContext = {
      mqttUrl: mosq.url,
      influxUrl: influx.url,
      db: DB,
      city: CITY,
      citiesDir: shared.citiesDir,
      tmpDir,
      httpPort: await freePort(),
    };
    const inherited = Object.fromEntries(
      Object.entries(process.env).filter(([k]) => !/^(GATEWAY_|INFLUX|CNX_|LOG_LEVEL$)/.test(k)),
    );
    progress(`${label}: starting ${sutDef.entry}`);
    sut = ManagedProcess.spawn({
      name: sutDef.name,
      command: process.execPath,
      args: [
        ...(process.env.BENCH_SUT_NODE_ARGS?.split(' ').filter(Boolean) ?? []),
        ...(sutDef.run ? sutDef.run(ctx) : [bundlePath(sutDef)]),
      ],
      cwd: REPO_ROOT,
      // BENCH_SUT_ENV='{"GATEWAY_BUS_QOS":"0"}' overrides settings of the system under test (A/B runs).
      env: {
        ...inherited,
        ...sutDef.env(ctx),
        ...(JSON.parse(process.env.BENCH_SUT_ENV ?? '{}') as Record<string, string>),
      },
      tailLines: 60,
    });
    const sutProc = sut;
    if (sutDef.ready) {
      const ready = sutDef.ready;
      await sutProc.waitUntilReady(() => ready(ctx, sutProc), { timeoutMs: 60_000, what: 'its readiness probe' });
    }
    const warm = await warmUp(mosq.url, influx, deviceIds, sutProc, 60_000);
    progress(`${label}: warm-up stored end to end (${warm.rounds} round(s), ${warm.ms} ms); load for ${durationS} s`);

    // SUT CPU while idle (1 s), to tell fixed overhead from per-reading cost.
    const idle0 = readCpuSeconds(sutProc.pid!);
    await sleep(1000);
    const idle1 = readCpuSeconds(sutProc.pid!);
    const sutIdleCores = idle0 !== undefined && idle1 !== undefined ? idle1 - idle0 : Number.NaN;

    sampler = new ProcSampler(
      { sut: sutProc.pid!, mosquitto: mosq.pid!, influxd: influx.pid!, bench: process.pid },
      250,
    ).start();
    const s = sampler;
    prober = new LatencyProber(influx.url, DB, opts.pollMs, 20, 5000);
    const p = prober;
    p.start();
    const inf = influx;
    let startedAt = 0;
    let lastStored = 0;
    let lastCountAt = 0;
    let countInFlight = false;
    const load = await runLoad({
      url: mosq.url,
      city: CITY,
      deviceIds,
      rate,
      durationS,
      clients: opts.clients,
      threads: opts.threads,
      publisher: opts.publisher,
      sampleEvery: Math.max(1, Math.round(rate / 40)),
      onStart: (t) => {
        startedAt = t;
        s.mark('start');
      },
      onSamples: (samples) => p.add(samples),
      onProgress: (pr) => {
        const sutMem = s.series.get('sut')?.at(-1);
        const now = Date.now();
        if (now - lastCountAt >= 2000 && !countInFlight && startedAt > 0) {
          lastCountAt = now;
          countInFlight = true;
          countStored(inf.url, DB, startedAt, now + 3_600_000)
            .then((n) => {
              lastStored = n;
            })
            .catch(() => undefined)
            .finally(() => {
              countInFlight = false;
            });
        }
        progress(
          `${label}: load ${Math.min(pr.elapsedS, durationS).toFixed(0)}/${durationS} s sent=${pr.sent} acked=${pr.acked} ` +
            `stored~${lastStored} lag=${pr.lagMs.toFixed(0)}ms sut rss=${((sutMem?.rssKb ?? 0) / 1024).toFixed(0)}MB`,
        );
      },
    });
    if (!sutProc.running) throw new Error(`system under test exited during the load (${JSON.stringify(sutProc.exit)})`);

    const to = load.maxTs + 1;
    const storedAtLoadEnd = await countStored(influx.url, DB, load.startedAt, to).catch(() => Number.NaN);
    progress(`${label}: load done (sent ${load.sent}, acked ${load.acked}); waiting for the stored count to settle`);
    let lastDrainLog = Date.now();
    const q = await waitForQuiesce(() => countStored(inf.url, DB, load.startedAt, to), load.acked, {
      stableMs: opts.settleS * 1000,
      maxMs: opts.drainMaxS * 1000,
      pollMs: 250,
      onGrowth: () => s.mark('end'),
      onPoll: (n) => {
        if (Date.now() - lastDrainLog >= 2000) {
          lastDrainLog = Date.now();
          progress(`${label}: draining, stored ${n}/${load.acked}`);
        }
      },
    });
    await p.stop(true);
    if (!s.hasMark('end')) s.mark('end');
    s.stop();
    const procs = s.summary('start', 'end');
    const sutSum = procs.sut!;
    const stored = q.count;
    const boxBusy = s.boxBusy('start', 'end');
    const ncpu = os.cpus().length;
    const ownCores = Object.values(procs).reduce((a, x) => a + (Number.isFinite(x.meanCores) ? x.meanCores : 0), 0);
    const otherCores = Math.max(0, boxBusy * ncpu - ownCores);
    if (otherCores > 0.2) {
      progress(
        `${label}: WARNING other processes used ${otherCores.toFixed(2)} of ${ncpu} cores during this run: ` +
          'throughput and latency are not representative (CPU per reading is less affected)',
      );
    }
    const lost = load.acked - stored;
    const activeS = Math.max(0.001, (q.lastGrowthAt - load.startedAt) / 1000);
    const result: RunResult = {
      ...base,
      ok: sutProc.running,
      error: sutProc.running ? undefined : `system under test exited (${JSON.stringify(sutProc.exit)})`,
      achievedRate: load.achievedRate,
      published: load.sent,
      acked: load.acked,
      stored,
      lost,
      lossPct: load.acked > 0 ? (100 * lost) / load.acked : 0,
      storedRate: stored / Math.max(activeS, durationS),
      drainS: Math.max(0, (q.lastGrowthAt - load.endedAt) / 1000),
      drainTimedOut: q.timedOut,
      storedAtLoadEnd,
      cpuUsPerReading: stored > 0 ? (sutSum.cpuSeconds * 1e6) / stored : Number.NaN,
      sysUsPerReading: stored > 0 ? (sutSum.systemSeconds * 1e6) / stored : Number.NaN,
      sutCpuS: sutSum.cpuSeconds,
      sutIdleCores,
      peakRssMb: Math.max(sutSum.vmHwmMb, sutSum.peakSampledRssMb),
      latency: p.summary(),
      generator: load,
      processes: procs,
      boxBusy,
      otherCores,
      sutSeries: (s.series.get('sut') ?? []).map((x) => [
        Math.round(x.t),
        x.cpuS ?? null,
        x.rssKb === undefined ? null : Math.round(x.rssKb / 102.4) / 10,
      ]),
      wallS: (Date.now() - wall0) / 1000,
    };
    if (opts.keepLogs) result.sutOutput = sutProc.output();
    progress(`${label}: ${summaryLine(result)}`);
    return result;
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    progress(`${label}: FAILED: ${message.split('\n')[0]}`);
    return { ...base, error: message, sutOutput: sut?.output(), wallS: (Date.now() - wall0) / 1000 };
  } finally {
    progress(`${label}: stopping services`);
    await cleanup();
    activeCleanup = undefined;
  }
}

// ---------------------------------------------------------------------------------------------
// Output

const f0 = (x: number | undefined) => (x === undefined || Number.isNaN(x) ? '-' : x.toFixed(0));
const f1 = (x: number | undefined) => (x === undefined || Number.isNaN(x) ? '-' : x.toFixed(1));

function summaryLine(r: RunResult): string {
  return (
    `sent ${f0(r.achievedRate)}/s, stored ${f0(r.storedRate)}/s, lost ${r.lost} (${r.lossPct?.toFixed(3)}%), ` +
    `p50 ${f0(r.latency?.p50Ms)} ms, p95 ${f0(r.latency?.p95Ms)} ms, ${f1(r.cpuUsPerReading)} µs CPU/reading, ` +
    `peak RSS ${f0(r.peakRssMb)} MB, drain ${f1(r.drainS)} s`
  );
}

function table(runs: RunResult[]): string {
  const head = [
    'system',
    'target/s',
    'sent/s',
    'stored/s',
    'lost',
    'loss %',
    'p50 ms',
    'p95 ms',
    'CPU µs/rdg',
    'of it sys',
    'peak RSS MB',
    'drain s',
    'box CPU %',
    'bench CPU %',
    'other cores',
  ];
  const rows = runs.map((r) =>
    r.error && r.stored === undefined
      ? [r.system, String(r.targetRate), `FAILED: ${r.error.split('\n')[0]!.slice(0, 80)}`]
      : [
          r.system,
          String(r.targetRate),
          `${f0(r.achievedRate)}${generatorLimited(r) ? '!' : ''}`,
          f0(r.storedRate),
          String(r.lost),
          r.lossPct === undefined ? '-' : r.lossPct.toFixed(2),
          f0(r.latency?.p50Ms),
          f0(r.latency?.p95Ms),
          f1(r.cpuUsPerReading),
          f1(r.sysUsPerReading),
          f0(r.peakRssMb),
          f1(r.drainS),
          f0((r.boxBusy ?? Number.NaN) * 100),
          f0((r.processes?.bench?.meanCores ?? Number.NaN) * 100),
          r.otherCores === undefined ? '-' : r.otherCores.toFixed(2),
        ],
  );
  const widths = head.map((h, i) =>
    Math.max(h.length, ...rows.filter((r) => r.length > 3).map((r) => (r[i] ?? '').length)),
  );
  const fmt = (cols: string[]) =>
    cols.length <= 3
      ? cols.join('  ')
      : cols.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  const lines = [fmt(head), fmt(widths.map((w) => '-'.repeat(w))), ...rows.map(fmt)];
  if (runs.some((r) => r.achievedRate !== undefined && generatorLimited(r))) {
    lines.push(
      '! the generator could not keep the schedule (in-flight cap reached: the broker acked too slowly, or the box ' +
        'is saturated); see generator.missed / maxLagMs in the JSON',
    );
  }
  return lines.join('\n');
}

// ---------------------------------------------------------------------------------------------
// Find max

/**
 * A rate is sustained when nothing acked was lost and the system kept up: everything was stored
 * within `maxDrainS` of the end of the load (the drain includes the last messages' own latency).
 */
function sustained(r: RunResult, maxDrainS: number): boolean {
  return r.ok && r.lost === 0 && !r.drainTimedOut && (r.drainS ?? Number.POSITIVE_INFINITY) <= maxDrainS;
}

function generatorLimited(r: RunResult): boolean {
  return (r.achievedRate ?? 0) < 0.98 * r.targetRate;
}

interface FindMaxResult {
  system: string;
  maxSustainedRate: number | undefined;
  /** Lowest rate tried that failed, if any. */
  firstFailedRate: number | undefined;
  generatorLimited: boolean;
  steps: { rate: number; sustained: boolean; generatorLimited: boolean }[];
}

async function findMax(sutDef: SutDef, shared: Shared, runs: RunResult[]): Promise<FindMaxResult> {
  const { opts } = shared;
  const steps: FindMaxResult['steps'] = [];
  let ok: number | undefined;
  let fail: number | undefined;
  let genLimited = false;
  let rate = opts.findStart;
  for (let i = 0; i < opts.findSteps; i++) {
    progress(`find-max ${sutDef.name}: step ${i + 1}/${opts.findSteps} at ${rate}/s`);
    const r = await runOne(sutDef, rate, opts.findDurationS, shared);
    runs.push({ ...r, system: `${r.system} (find-max)` });
    const good = sustained(r, opts.findMaxDrainS);
    const gl = generatorLimited(r);
    steps.push({ rate, sustained: good, generatorLimited: gl });
    if (good && !gl) ok = Math.max(ok ?? 0, rate);
    else if (good && gl) {
      // The system stored everything the generator managed to send: the generator is the limit.
      ok = Math.max(ok ?? 0, Math.floor(r.achievedRate ?? 0));
      genLimited = true;
      break;
    } else fail = Math.min(fail ?? Number.POSITIVE_INFINITY, rate);
    if (fail === undefined) rate = Math.round(rate * 1.5);
    else if (ok === undefined) rate = Math.round(rate / 2);
    else {
      if ((fail - ok) / ok <= 0.1) break;
      rate = Math.round((ok + fail) / 2);
    }
    rate = Math.max(100, Math.min(200_000, Math.round(rate / 100) * 100));
  }
  return { system: sutDef.name, maxSustainedRate: ok, firstFailedRate: fail, generatorLimited: genLimited, steps };
}

// ---------------------------------------------------------------------------------------------
// Main

let activeCleanup: (() => Promise<void>) | undefined;
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.once(sig, () => {
    progress(`${sig}: stopping services`);
    const done = activeCleanup ? activeCleanup() : Promise.resolve();
    Promise.race([done, sleep(15_000)]).finally(() => process.exit(130));
  });
}

function loadDeviceIds(packDir: string): string[] {
  const raw = JSON.parse(readFileSync(join(packDir, 'devices.json'), 'utf8')) as
    | { devices: { id: string; transport?: string }[] }
    | { id: string; transport?: string }[];
  const list = Array.isArray(raw) ? raw : raw.devices;
  return list.filter((d) => (d.transport ?? 'mqtt') === 'mqtt').map((d) => d.id);
}

function kernelVersion(): string {
  try {
    return readFileSync('/proc/version', 'utf8').split(' ').slice(0, 3).join(' ');
  } catch {
    return 'unknown';
  }
}

/**
 * Mosquitto's window of unacknowledged QoS 1 messages per subscriber: our production setting
 * (infra/mosquitto/mosquitto.conf), not the default 20, so the broker is configured as deployed.
 */
const BROKER_MAX_INFLIGHT = 100;

/**
 * The machine's speed drifts by more than the differences we look for (the same system measured
 * 29.6 and 34-36 µs an hour apart), so systems are compared pair by pair: the i-th run of each
 * system against the i-th run of the first system, which ran just before it. One line per system:
 * the median and range of those differences.
 */
function pairedCpu(runs: RunResult[], systems: string[]): string[] {
  const [base, ...others] = systems;
  const cpuOf = (name: string | undefined): number[] =>
    runs.filter((r) => r.system === name).map((r) => r.cpuUsPerReading ?? Number.NaN);
  const baseCpu = cpuOf(base);
  const out: string[] = [];
  for (const name of others) {
    const diffs: number[] = [];
    const pct: number[] = [];
    cpuOf(name).forEach((c, i) => {
      const b = baseCpu[i];
      if (b === undefined || !Number.isFinite(b) || !Number.isFinite(c)) return;
      diffs.push(c - b);
      pct.push((100 * (c - b)) / b);
    });
    if (diffs.length === 0) continue;
    const median = (xs: number[]): number => {
      const v = [...xs].sort((a, b) => a - b);
      const m = v.length >> 1;
      return v.length % 2 ? v[m]! : (v[m - 1]! + v[m]!) / 2;
    };
    const sign = (x: number, digits = 1): string => `${x >= 0 ? '+' : ''}${x.toFixed(digits)}`;
    out.push(
      `${name}: median ${sign(median(diffs))} µs (${sign(median(pct))} %) over ${diffs.length} pair(s); ` +
        `pairs ${diffs.map((d) => sign(d)).join(', ')} µs`,
    );
  }
  return out;
}

async function main(): Promise<void> {
  const opts = parseOptions(process.argv.slice(2));
  const suts: SutDef[] = [];
  const skipped: { system: string; reason: string }[] = [];
  for (const name of opts.systems) {
    const def = systemVariant(name);
    if (!existsSync(join(REPO_ROOT, def.entry))) {
      skipped.push({ system: name, reason: `${def.entry} does not exist yet` });
      progress(`skipping ${name}: ${def.entry} does not exist yet`);
      continue;
    }
    suts.push(def);
  }
  if (suts.length === 0) throw new Error('no system under test available');
  for (const def of suts) {
    if (def.bundle || def.run) continue; // a variant (its system's bundle), or not bundled at all
    progress(`bundling ${def.name} (${def.entry})`);
    await bundle(join(REPO_ROOT, def.entry), bundlePath(def));
  }

  const citiesDir = await makeTempDir('cnx-bench-cities-');
  try {
    await writeSyntheticCityPack(join(citiesDir, CITY), { id: CITY, airStations: opts.devices });
    const deviceIds = loadDeviceIds(join(citiesDir, CITY));
    if (deviceIds.length !== opts.devices)
      throw new Error(`city pack has ${deviceIds.length} MQTT devices, expected ${opts.devices}`);
    const shared: Shared = { opts, citiesDir, deviceIds };
    const maxPerDevice = Math.max(...opts.rates, opts.findMax ? 200_000 : 0) / deviceIds.length;
    if (maxPerDevice > 1000) {
      progress(
        `note: above 1000 msg/s per device the per-device ts (unique, +1 ms) runs ahead of the clock; latency is then overstated`,
      );
    }
    const cpus = os.cpus();
    progress(
      `ingest bench: ${suts.map((s) => s.name).join(', ')}; rates ${opts.skipRates ? '-' : opts.rates.join(', ')}; ` +
        `${opts.durationS} s; ${deviceIds.length} devices; ${cpus.length} CPUs (${cpus[0]?.model ?? '?'})`,
    );

    const runs: RunResult[] = [];
    // Bound: at most 10 rates x systems + findSteps x systems runs.
    if (!opts.skipRates) {
      for (const rate of opts.rates) {
        for (const sut of suts) runs.push(await runOne(sut, rate, opts.durationS, shared));
      }
    }
    const maxima: FindMaxResult[] = [];
    if (opts.findMax) for (const sut of suts) maxima.push(await findMax(sut, shared, runs));

    const fixed = runs.filter((r) => !r.system.endsWith('(find-max)'));
    const search = runs.filter((r) => r.system.endsWith('(find-max)'));
    if (fixed.length > 0) {
      console.log('');
      console.log(
        `Ingest: Mosquitto -> system -> InfluxDB, QoS 1, ${deviceIds.length} devices, ${opts.durationS} s per run`,
      );
      console.log(table(fixed));
    }
    const paired = pairedCpu(
      fixed,
      suts.map((s) => s.name),
    );
    if (paired.length > 0) {
      console.log('');
      console.log(`CPU per reading against ${suts[0]!.name}, paired run by run (each pair ran back to back):`);
      for (const line of paired) console.log(`  ${line}`);
    }
    if (search.length > 0) {
      console.log('');
      console.log(`--find-max runs (${opts.findDurationS} s each):`);
      console.log(table(search));
    }
    if (maxima.length > 0) {
      console.log('');
      console.log(
        `Highest sustained zero-loss rate (zero loss, all stored within ${opts.findMaxDrainS} s after the load; ` +
          `${opts.findDurationS} s runs, at most ${opts.findSteps} per system):`,
      );
      for (const m of maxima) {
        const steps = m.steps.map((s) => `${s.rate}${s.sustained ? '✓' : '✗'}`).join(' ');
        console.log(
          `  ${m.system.padEnd(8)} ${m.maxSustainedRate === undefined ? 'none' : `${m.maxSustainedRate}/s`}` +
            `${m.generatorLimited ? ' (limited by the generator, not the system)' : ''}` +
            `${m.firstFailedRate ? `; failed at ${m.firstFailedRate}/s` : ''}  [${steps}]`,
        );
      }
    }
    for (const s of skipped) console.log(`skipped ${s.system}: ${s.reason}`);

    await mkdir(opts.out, { recursive: true });
    const stamp = new Date().toISOString().replace(/[:.]/g, '-');
    const file = join(opts.out, `ingest-${stamp}.json`);
    const report = {
      bench: 'ingest',
      startedAt: new Date(T0).toISOString(),
      wallS: (Date.now() - T0) / 1000,
      machine: {
        cpus: cpus.length,
        cpuModel: cpus[0]?.model,
        memMb: Math.round(os.totalmem() / 2 ** 20),
        kernel: kernelVersion(),
        node: process.version,
      },
      options: opts,
      systems: suts.map((s) => ({ name: s.name, description: s.description, entry: s.entry })),
      skipped,
      runs,
      findMax: maxima,
    };
    await writeFile(file, `${JSON.stringify(report, null, 1)}\n`);
    console.log(`\nResults: ${file}`);
    if (runs.some((r) => r.error)) process.exitCode = 1;
  } finally {
    await removeDir(citiesDir);
  }
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
