/**
 * Measurement for the ingest bench:
 * - ProcSampler: CPU time (utime + stime from /proc/<pid>/stat) and memory (VmRSS, VmHWM from
 *   /proc/<pid>/status) of named processes every 250 ms, plus whole-box CPU use from /proc/stat.
 * - LatencyProber: polls InfluxDB for sampled (device, ts) points and records publish-to-visible
 *   latency. The figure is an upper bound: it is taken when the poll that first saw the point
 *   answered, so it includes up to one poll interval (~25 ms) plus the query's own time.
 * - countStored / waitForQuiesce: the stored count, and waiting for it to stop growing after the load.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

/** Wall clock with sub-ms resolution, epoch ms (comparable across threads and processes). */
export const nowMs = (): number => performance.timeOrigin + performance.now();

let clkTck: number | undefined;
/** Kernel clock ticks per second (`getconf CLK_TCK`, almost always 100). */
export function clockTicks(): number {
  if (clkTck === undefined) {
    try {
      clkTck = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      clkTck = 100;
    }
  }
  return clkTck;
}

/** utime + stime of a process (all its threads), in seconds; undefined if it is gone. */
export function readCpuSeconds(pid: number): number | undefined {
  const split = readCpuSplit(pid);
  return split && split.user + split.system;
}

/** User and system (kernel) CPU seconds of a process so far. */
export function readCpuSplit(pid: number): { user: number; system: number } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after "(comm)": state is field 3, utime 14, stime 15 (1-based, see proc(5)).
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { user: Number(rest[11]) / clockTicks(), system: Number(rest[12]) / clockTicks() };
  } catch {
    return undefined;
  }
}

export interface MemInfo {
  rssKb: number;
  hwmKb: number;
}

/** VmRSS and VmHWM (peak RSS) of a process in kB; undefined if it is gone. */
export function readMem(pid: number): MemInfo | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const rss = /^VmRSS:\s+(\d+)/m.exec(status);
    const hwm = /^VmHWM:\s+(\d+)/m.exec(status);
    if (!rss || !hwm) return undefined;
    return { rssKb: Number(rss[1]), hwmKb: Number(hwm[1]) };
  } catch {
    return undefined;
  }
}

/** Aggregate busy and total jiffies of the whole box from /proc/stat. */
function readBoxJiffies(): { busy: number; total: number } {
  const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!;
  const v = line.trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal (guest time is already inside user/nice)
  const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] = v;
  const busy = user + nice + system + irq + softirq + steal;
  return { busy, total: busy + idle + iowait };
}

export interface ProcSample {
  /** ms since the sampler started */
  t: number;
  cpuS: number | undefined;
  rssKb: number | undefined;
}

export interface ProcSummary {
  pid: number;
  /** CPU seconds between mark('start') and mark('end') (or the last sample). */
  cpuSeconds: number;
  /** The part of cpuSeconds spent in the kernel (system calls: disk and socket writes, reads). */
  systemSeconds: number;
  /** Highest VmRSS seen by the sampler, MB. */
  peakSampledRssMb: number;
  /** VmHWM at the last successful read (the kernel's own peak-RSS record, whole lifetime), MB. */
  vmHwmMb: number;
  /** Mean CPU use over the window, in cores (1.0 = one core busy). */
  meanCores: number;
}

/** Samples CPU and RSS of named processes every intervalMs (bounded number of samples kept). */
export class ProcSampler {
  private timer: NodeJS.Timeout | undefined;
  private readonly t0 = nowMs();
  readonly series = new Map<string, ProcSample[]>();
  private readonly marks = new Map<
    string,
    {
      t: number;
      cpu: Map<string, number | undefined>;
      system: Map<string, number | undefined>;
      box: ReturnType<typeof readBoxJiffies>;
    }
  >();
  private readonly peakRss = new Map<string, number>();
  private readonly lastHwm = new Map<string, number>();
  private readonly maxSamples: number;

  constructor(
    private readonly pids: Record<string, number>,
    private readonly intervalMs = 250,
    maxSamples = 4 * 60 * 10,
  ) {
    this.maxSamples = maxSamples;
    for (const name of Object.keys(pids)) this.series.set(name, []);
  }

  start(): this {
    this.sample();
    this.timer = setInterval(() => this.sample(), this.intervalMs);
    return this;
  }

  sample(): void {
    const t = nowMs() - this.t0;
    for (const [name, pid] of Object.entries(this.pids)) {
      const cpuS = readCpuSeconds(pid);
      const mem = readMem(pid);
      if (mem) {
        this.peakRss.set(name, Math.max(this.peakRss.get(name) ?? 0, mem.rssKb));
        this.lastHwm.set(name, mem.hwmKb);
      }
      const s = this.series.get(name)!;
      if (s.length < this.maxSamples) s.push({ t, cpuS, rssKb: mem?.rssKb });
    }
  }

  /** Record the CPU counters of every process now, under a label ('start', 'end', ...). */
  mark(label: string): void {
    this.sample();
    const cpu = new Map<string, number | undefined>();
    const system = new Map<string, number | undefined>();
    for (const [name, pid] of Object.entries(this.pids)) {
      const split = readCpuSplit(pid);
      cpu.set(name, split && split.user + split.system);
      system.set(name, split?.system);
    }
    this.marks.set(label, { t: nowMs(), cpu, system, box: readBoxJiffies() });
  }

  hasMark(label: string): boolean {
    return this.marks.has(label);
  }

  /** Mean whole-box CPU busy fraction between two marks (0..1). */
  boxBusy(from = 'start', to = 'end'): number {
    const a = this.marks.get(from);
    const b = this.marks.get(to);
    if (!a || !b) return Number.NaN;
    const total = b.box.total - a.box.total;
    return total > 0 ? (b.box.busy - a.box.busy) / total : Number.NaN;
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  summary(from = 'start', to = 'end'): Record<string, ProcSummary> {
    const a = this.marks.get(from);
    const b = this.marks.get(to);
    const out: Record<string, ProcSummary> = {};
    for (const [name, pid] of Object.entries(this.pids)) {
      const c0 = a?.cpu.get(name);
      const c1 = b?.cpu.get(name);
      const cpuSeconds = c0 !== undefined && c1 !== undefined ? c1 - c0 : Number.NaN;
      const s0 = a?.system.get(name);
      const s1 = b?.system.get(name);
      const wallS = a && b ? (b.t - a.t) / 1000 : Number.NaN;
      out[name] = {
        pid,
        cpuSeconds,
        systemSeconds: s0 !== undefined && s1 !== undefined ? s1 - s0 : Number.NaN,
        peakSampledRssMb: (this.peakRss.get(name) ?? 0) / 1024,
        vmHwmMb: (this.lastHwm.get(name) ?? 0) / 1024,
        meanCores: cpuSeconds / wallS,
      };
    }
    return out;
  }
}

// ---------------------------------------------------------------------------------------------
// InfluxDB queries

interface InfluxResponse {
  results?: { statement_id?: number; series?: { values?: unknown[][] }[]; error?: string }[];
  error?: string;
}

export async function influxQuery(url: string, db: string, q: string, timeoutMs = 10_000): Promise<InfluxResponse> {
  const res = await fetch(`${url}/query?db=${encodeURIComponent(db)}&epoch=ms`, {
    method: 'POST',
    body: new URLSearchParams({ q }),
    signal: AbortSignal.timeout(timeoutMs),
  });
  const body = (await res.json()) as InfluxResponse;
  if (!res.ok || body.error)
    throw new Error(`influx query failed (${res.status}): ${body.error ?? ''} [${q.slice(0, 120)}]`);
  return body;
}

/** Number of stored readings (points with a pm25 field) with from <= time < to (epoch ms). */
export async function countStored(url: string, db: string, from: number, to: number): Promise<number> {
  const r = await influxQuery(
    url,
    db,
    `SELECT count(pm25) FROM reading WHERE time >= ${Math.floor(from)}ms AND time < ${Math.ceil(to)}ms`,
  );
  const v = r.results?.[0]?.series?.[0]?.values?.[0]?.[1];
  return typeof v === 'number' ? v : 0;
}

export interface QuiesceResult {
  count: number;
  /** Epoch ms of the check that first saw the final count. */
  lastGrowthAt: number;
  waitedMs: number;
  timedOut: boolean;
}

/**
 * After the load: poll the count until it reaches `target`, or has not grown for `stableMs`, or
 * `maxMs` passed. `onGrowth` runs when the count changes (e.g. to snapshot CPU counters).
 */
export async function waitForQuiesce(
  count: () => Promise<number>,
  target: number,
  opts: {
    stableMs?: number;
    maxMs?: number;
    pollMs?: number;
    onGrowth?: (n: number) => void;
    onPoll?: (n: number) => void;
  } = {},
): Promise<QuiesceResult> {
  const { stableMs = 3000, maxMs = 60_000, pollMs = 250 } = opts;
  const t0 = Date.now();
  let last = -1;
  let lastGrowthAt = Date.now();
  for (;;) {
    const n = await count().catch(() => last);
    if (n !== last) {
      last = n;
      lastGrowthAt = Date.now();
      opts.onGrowth?.(n);
    }
    opts.onPoll?.(n);
    if (n >= target) return { count: n, lastGrowthAt, waitedMs: Date.now() - t0, timedOut: false };
    if (Date.now() - lastGrowthAt >= stableMs)
      return { count: n, lastGrowthAt, waitedMs: Date.now() - t0, timedOut: false };
    if (Date.now() - t0 >= maxMs) return { count: n, lastGrowthAt, waitedMs: Date.now() - t0, timedOut: true };
    await sleep(pollMs);
  }
}

// ---------------------------------------------------------------------------------------------
// Latency prober

/** One sampled publish: device id, device ts (epoch ms, the point's time) and publish time (epoch ms). */
export type LatencySample = [device: string, ts: number, publishedAt: number];

export interface LatencySummary {
  samples: number;
  seen: number;
  /** Sampled points never seen stored (lost, or not stored before the prober gave up). */
  unseen: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  maxMs: number;
  /** Mean time between the last poll that did not see a point and the answer that did: the resolution. */
  meanResolutionMs: number;
  pollIntervalMs: number;
  polls: number;
}

interface Pending {
  device: string;
  ts: number;
  publishedAt: number;
  /** When the last poll that did not find it was sent (for the resolution figure). */
  lastMissAt: number;
}

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i]!;
}

/**
 * Polls InfluxDB every `intervalMs` (one query in flight at a time) for the oldest `batch` pending
 * samples, as one multi-statement query `SELECT count(pm25) FROM reading WHERE device='..' AND
 * time = <ts>ms; ...`. A point's latency is (answer time of the poll that first saw it) - (publish
 * time): an upper bound that includes the polling granularity.
 */
export class LatencyProber {
  private pending: Pending[] = [];
  private readonly latencies: number[] = [];
  private readonly resolutions: number[] = [];
  private total = 0;
  private polls = 0;
  private running = false;
  private loop: Promise<void> | undefined;

  constructor(
    private readonly url: string,
    private readonly db: string,
    private readonly intervalMs = 25,
    private readonly batch = 20,
    private readonly maxSamples = 5000,
  ) {}

  add(samples: readonly LatencySample[]): void {
    for (const [device, ts, publishedAt] of samples) {
      if (this.total >= this.maxSamples) return;
      this.total++;
      this.pending.push({ device, ts, publishedAt, lastMissAt: publishedAt });
    }
  }

  start(): void {
    this.running = true;
    this.loop = (async () => {
      while (this.running) {
        const t = nowMs();
        await this.pollOnce().catch(() => undefined);
        const spent = nowMs() - t;
        await sleep(Math.max(1, this.intervalMs - spent));
      }
    })();
  }

  private async pollOnce(): Promise<void> {
    if (this.pending.length === 0) return;
    const batch = this.pending.slice(0, this.batch);
    const q = batch
      .map((p) => `SELECT count(pm25) FROM reading WHERE device='${p.device}' AND time = ${p.ts}ms`)
      .join(';');
    const sentAt = nowMs();
    const r = await influxQuery(this.url, this.db, q, 5000);
    const answeredAt = nowMs();
    this.polls++;
    const found = new Set<Pending>();
    for (const res of r.results ?? []) {
      const p = batch[res.statement_id ?? -1];
      if (p && (res.series?.length ?? 0) > 0) {
        found.add(p);
        this.latencies.push(answeredAt - p.publishedAt);
        this.resolutions.push(answeredAt - Math.max(p.lastMissAt, p.publishedAt));
      }
    }
    for (const p of batch) if (!found.has(p)) p.lastMissAt = sentAt;
    if (found.size > 0) this.pending = this.pending.filter((p) => !found.has(p));
  }

  /** Stop polling; then check every still-pending sample once more (bounded). */
  async stop(finalCheck = true): Promise<void> {
    this.running = false;
    await this.loop;
    if (!finalCheck) return;
    // Final pass: anything still pending is checked once, without contributing a latency (it would
    // only measure how long the bench waited).
    const still: Pending[] = [];
    for (let i = 0; i < this.pending.length; i += this.batch) {
      const batch = this.pending.slice(i, i + this.batch);
      const q = batch
        .map((p) => `SELECT count(pm25) FROM reading WHERE device='${p.device}' AND time = ${p.ts}ms`)
        .join(';');
      const r = await influxQuery(this.url, this.db, q, 10_000).catch(() => undefined);
      const seen = new Set<number>();
      for (const res of r?.results ?? []) if ((res.series?.length ?? 0) > 0) seen.add(res.statement_id ?? -1);
      batch.forEach((p, j) => {
        if (!seen.has(j)) still.push(p);
      });
    }
    this.lateSeen = this.pending.length - still.length;
    this.pending = still;
  }

  /** Samples seen only in the final pass (stored, but later than the prober kept polling). */
  lateSeen = 0;

  summary(): LatencySummary {
    const sorted = [...this.latencies].sort((a, b) => a - b);
    const res = this.resolutions;
    return {
      samples: this.total,
      seen: this.latencies.length + this.lateSeen,
      unseen: this.pending.length,
      p50Ms: percentile(sorted, 50),
      p95Ms: percentile(sorted, 95),
      p99Ms: percentile(sorted, 99),
      maxMs: sorted.length ? sorted[sorted.length - 1]! : Number.NaN,
      meanResolutionMs: res.length ? res.reduce((a, b) => a + b, 0) / res.length : Number.NaN,
      pollIntervalMs: this.intervalMs,
      polls: this.polls,
    };
  }
}
