/** One measured target of the API bench (api.bench.ts): quiet-box wait, load, server CPU, and the table. */
import os from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { connectionsOf, DESCRIPTIONS, headersOf, type Options, progress, type Target } from './api-config';
import { type HttpLoadResult, runHttpLoad } from './api-loadgen';
import type { Server } from './api-servers';
import { ProcSampler } from './measure';

export interface RunResult {
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
export async function waitForQuietBox(maxS: number): Promise<number> {
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

export async function measure(target: Target, server: Server, paths: string[], opts: Options): Promise<RunResult> {
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

export function table(runs: RunResult[]): string {
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
