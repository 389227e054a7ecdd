/**
 * Open-loop MQTT load generator. K MQTT connections (default 4), spread over T worker threads
 * (default 1), publish telemetry for a share of N devices on a fixed schedule: message i of a thread
 * is due at start + i / rate_t, whatever the broker's acks do (open loop). A cap on un-acked messages
 * per connection protects memory; when it binds, or a thread cannot keep up, the schedule slips and
 * the achieved send rate (reported) falls below the target. Nothing is sent after the duration: the
 * messages still due then are reported as `missed`. The total count is bounded by rate x duration.
 *
 * Payload (our JSON): {"ts": <epoch ms>, "seq": n, "values": {pm1, pm25, pm10, temperature, humidity}}
 * on cnx/v1/<city>/devices/<device>/telemetry, QoS 1. ts is unique per device: max(now, last + 1).
 * One message in every `sampleEvery` (per thread) is reported as (device, ts, publishedAt) for the
 * latency prober.
 *
 * The default client is a minimal batched MQTT 3.1.1 publisher (raw-publisher.ts): on a 2-core box
 * every µs the generator spends is taken from the system under test. `publisher: 'mqttjs'` uses one
 * mqtt.js client per connection instead (about 2-3x the generator CPU; one such client alone tops
 * out around 30k msg/s).
 *
 * CLI: node --import tsx bench/src/loadgen.ts --url mqtt://127.0.0.1:1883 --city bench \
 *        --rate 5000 --duration 10 [--devices 100 | --device-ids a,b,c] [--clients 4] [--threads 2]
 */
import { randomBytes } from 'node:crypto';
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import mqtt from 'mqtt';
import type { LatencySample } from './measure';
import { connectRawPublisher, type Publisher } from './raw-publisher';

/** 'raw': minimal batched MQTT 3.1.1 publisher (cheap); 'mqttjs': one mqtt.js client per connection. */
export type PublisherKind = 'raw' | 'mqttjs';

export interface LoadOptions {
  url: string;
  city: string;
  deviceIds: readonly string[];
  /** Target total rate, messages/s. */
  rate: number;
  durationS: number;
  /** MQTT connections in total (default 4); each device always publishes on the same one. */
  clients?: number;
  /** Worker threads the connections are spread over (default 1, at most `clients`; one thread with the raw publisher keeps up to ~80k msg/s). */
  threads?: number;
  /**
   * Scheduler granularity: when on schedule, a thread sleeps up to this long and then sends every
   * message that fell due meanwhile, one write per connection (default 5 ms; smaller costs more
   * generator CPU).
   */
  tickMs?: number;
  /** Client implementation (default 'raw'). */
  publisher?: PublisherKind;
  /** Max un-acked QoS 1 messages per connection (packet ids wrap at 65535). Default 20000. */
  maxInflight?: number;
  /** Record one latency sample every this many messages (per thread); 0 = none. */
  sampleEvery?: number;
  /** How long to wait for outstanding PUBACKs after the schedule ends. Default 30 s. */
  ackTimeoutMs?: number;
  onSamples?: (samples: LatencySample[]) => void;
  onProgress?: (p: LoadProgress) => void;
  /** Called once all threads are connected and the common start instant (epoch ms) is set. */
  onStart?: (startedAt: number) => void;
}

export interface LoadProgress {
  elapsedS: number;
  sent: number;
  acked: number;
  inflight: number;
  /** How far behind schedule the slowest thread is, ms. */
  lagMs: number;
}

export interface ThreadStats {
  thread: number;
  connections: number;
  devices: number;
  rate: number;
  planned: number;
  sent: number;
  acked: number;
  errors: number;
  /** Scheduled within the duration but not sent (behind schedule at the end). */
  missed: number;
  /** Ticks on which the in-flight cap stopped sending. */
  inflightCapHits: number;
  maxLagMs: number;
  maxInflight: number;
  /** Epoch ms of the first and last send. */
  firstSendAt: number;
  lastSendAt: number;
  /** Epoch ms when the last ack arrived. */
  lastAckAt: number;
  /** Connections found closed by the broker before the end. */
  closedConnections: number;
}

export interface LoadResult {
  targetRate: number;
  durationS: number;
  clients: number;
  threads: number;
  publisher: PublisherKind;
  devices: number;
  /** Epoch ms the schedule started; every published ts is >= this. */
  startedAt: number;
  /** Epoch ms the schedule ended. */
  endedAt: number;
  planned: number;
  sent: number;
  /** Acknowledged by the broker (PUBACK): the count that must be stored for zero loss. */
  acked: number;
  errors: number;
  missed: number;
  /** sent / durationS */
  achievedRate: number;
  ackedRate: number;
  maxLagMs: number;
  inflightCapHits: number;
  /** CPU seconds of this whole process (all generator threads) from the start to the last ack. */
  generatorCpuS: number;
  /** Largest ts published (epoch ms), for bounding count queries. */
  maxTs: number;
  threadStats: ThreadStats[];
}

interface WorkerConfig {
  kind: 'cnx-loadgen';
  thread: number;
  url: string;
  city: string;
  /** Devices of this thread, grouped by connection. */
  connections: { clientId: string; devices: string[] }[];
  rate: number;
  planned: number;
  durationMs: number;
  maxInflight: number;
  sampleEvery: number;
  ackTimeoutMs: number;
  publisher: PublisherKind;
  tickMs: number;
}

type ToParent =
  | { type: 'ready' }
  | { type: 'samples'; samples: LatencySample[] }
  | { type: 'progress'; sent: number; acked: number; inflight: number; lagMs: number }
  | { type: 'done'; stats: ThreadStats; maxTs: number }
  | { type: 'error'; message: string };

type ToWorker = { type: 'start'; startAt: number };

/**
 * Worker threads do not inherit tsx's loader hooks on Node 20, so each worker first registers tsx,
 * then imports this very module (which runs workerMain when it sees its workerData).
 */
const WORKER_BOOTSTRAP = `import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))})
  .then((m) => { m.register(); return import(${JSON.stringify(import.meta.url)}); })
  .catch((err) => { console.error(err); process.exit(1); });`;

const r1 = (x: number) => Math.round(x * 10) / 10;

/** The same Publisher shape over mqtt.js (one client, QoS 1, ack callback per message). */
async function mqttjsPublisher(url: string, clientId: string): Promise<Publisher> {
  const client = mqtt.connect(url, { clientId, clean: true, reconnectPeriod: 0, connectTimeout: 10_000 });
  await new Promise<void>((resolve, reject) => {
    client.once('connect', () => resolve());
    client.once('error', reject);
  });
  let acked = 0;
  let errors = 0;
  let closed = false;
  client.on('close', () => {
    closed = true;
  });
  client.on('error', () => undefined);
  const onAck = (err?: Error) => {
    if (err) errors++;
    else acked++;
  };
  return {
    publish: (topic, payload) => {
      client.publish(topic, payload, { qos: 1 }, onAck);
    },
    flush: () => undefined,
    get acked() {
      return acked;
    },
    get errors() {
      return errors;
    },
    get closed() {
      return closed;
    },
    end: () => new Promise<void>((resolve) => client.end(true, {}, () => resolve())),
  };
}

async function workerMain(cfg: WorkerConfig): Promise<void> {
  const port = parentPort!;
  const post = (m: ToParent) => port.postMessage(m);
  const pubs = await Promise.all(
    cfg.connections.map((c) =>
      cfg.publisher === 'raw' ? connectRawPublisher(cfg.url, c.clientId) : mqttjsPublisher(cfg.url, c.clientId),
    ),
  );

  // Flatten devices; device j publishes on connection connOf[j].
  const devices: string[] = [];
  const connOf: number[] = [];
  cfg.connections.forEach((c, ci) => {
    for (const d of c.devices) {
      devices.push(d);
      connOf.push(ci);
    }
  });
  const n = devices.length;
  const topics = devices.map((d) => `cnx/v1/${cfg.city}/devices/${d}/telemetry`);
  const lastTs = new Array<number>(n).fill(0);
  const seqs = new Array<number>(n).fill(0);
  // Per-device base values so each device's series is smooth and in range.
  const base = devices.map(() => 10 + Math.random() * 50);
  const sentOn = new Array<number>(pubs.length).fill(0);

  let sent = 0;
  let inflightCapHits = 0;
  let maxLagMs = 0;
  let maxInflight = 0;
  let firstSendAt = 0;
  let lastSendAt = 0;
  let maxTs = 0;
  let samples: LatencySample[] = [];
  const periodMs = 1000 / cfg.rate;
  const acked = () => pubs.reduce((a, p) => a + p.acked, 0);
  const errors = () => pubs.reduce((a, p) => a + p.errors, 0);

  /** Publish the next message in round-robin device order; false if its connection is at the cap. */
  const publishOne = (): boolean => {
    const i = sent % n;
    const c = connOf[i]!;
    const pub = pubs[c]!;
    if (sentOn[c]! - pub.acked - pub.errors >= cfg.maxInflight) return false;
    const now = Date.now();
    const ts = Math.max(now, lastTs[i]! + 1);
    lastTs[i] = ts;
    if (ts > maxTs) maxTs = ts;
    const seq = ++seqs[i]!;
    const b = base[i]! + Math.sin(seq / 50) * 5;
    const payload = `{"ts":${ts},"seq":${seq},"values":{"pm1":${r1(b * 0.7)},"pm25":${r1(b)},"pm10":${r1(b * 1.3)},"temperature":${r1(28 + Math.sin(seq / 300) * 3)},"humidity":${r1(60 + Math.sin(seq / 200) * 10)}}}`;
    if (cfg.sampleEvery > 0 && sent % cfg.sampleEvery === 0) {
      samples.push([devices[i]!, ts, performance.timeOrigin + performance.now()]);
    }
    sent++;
    sentOn[c]!++;
    pub.publish(topics[i]!, payload);
    if (firstSendAt === 0) firstSendAt = now;
    lastSendAt = now;
    return true;
  };

  const startAt: number = await new Promise((resolve) => {
    port.once('message', (m: ToWorker) => resolve(m.startAt));
    post({ type: 'ready' });
  });
  // Wait until the common start instant (all threads start together).
  while (Date.now() < startAt) await new Promise((r) => setTimeout(r, Math.max(0, startAt - Date.now())));

  const t0 = performance.now();
  const endT = t0 + cfg.durationMs;
  let lastReport = t0;

  await new Promise<void>((resolve) => {
    const tick = () => {
      const now = performance.now();
      const elapsed = now - t0;
      const due = Math.min(cfg.planned, Math.floor(elapsed / periodMs) + 1);
      let budget = 1000; // yield to I/O (acks) regularly
      let capped = false;
      while (sent < due && budget-- > 0) {
        if (!publishOne()) {
          inflightCapHits++;
          capped = true;
          break;
        }
      }
      for (const p of pubs) p.flush();
      // Samples go to the prober at once: a delay here would add to the measured latency's granularity.
      if (samples.length > 0) {
        post({ type: 'samples', samples });
        samples = [];
      }
      const inflight = sent - acked() - errors();
      if (inflight > maxInflight) maxInflight = inflight;
      const lag = sent < due ? elapsed - sent * periodMs : 0;
      if (lag > maxLagMs) maxLagMs = lag;
      if (now - lastReport >= 250) {
        lastReport = now;
        post({ type: 'progress', sent, acked: acked(), inflight, lagMs: lag });
      }
      if (sent >= cfg.planned || now >= endT) return resolve();
      if (sent < due && !capped) setImmediate(tick);
      else setTimeout(tick, Math.max(0, Math.min(cfg.tickMs, (sent + 1) * periodMs - elapsed)));
    };
    tick();
  });
  if (samples.length > 0) post({ type: 'samples', samples });
  samples = [];

  // Wait (bounded) for the outstanding PUBACKs.
  const ackDeadline = Date.now() + cfg.ackTimeoutMs;
  let lastAckAt = Date.now();
  let lastAcked = acked();
  let lastReportAt = 0;
  for (;;) {
    const a = acked();
    if (a !== lastAcked) {
      lastAcked = a;
      lastAckAt = Date.now();
    }
    if (sent - a - errors() <= 0 || Date.now() >= ackDeadline || pubs.every((p) => p.closed)) break;
    if (Date.now() - lastReportAt >= 250) {
      lastReportAt = Date.now();
      post({ type: 'progress', sent, acked: a, inflight: sent - a - errors(), lagMs: 0 });
    }
    await new Promise((r) => setTimeout(r, 5));
  }
  const closedConnections = pubs.filter((p) => p.closed).length;
  const finalAcked = acked();
  const finalErrors = errors();
  await Promise.all(pubs.map((p) => p.end()));
  post({
    type: 'done',
    maxTs,
    stats: {
      thread: cfg.thread,
      connections: pubs.length,
      devices: n,
      rate: cfg.rate,
      planned: cfg.planned,
      sent,
      acked: finalAcked,
      errors: finalErrors,
      missed: cfg.planned - sent,
      inflightCapHits,
      maxLagMs: Math.round(maxLagMs),
      maxInflight,
      firstSendAt,
      lastSendAt,
      lastAckAt,
      closedConnections,
    },
  });
}

/** Run the load: spawn the threads, connect, start them together, collect their stats. */
export async function runLoad(opts: LoadOptions): Promise<LoadResult> {
  const clients = Math.max(1, Math.min(opts.clients ?? 4, opts.deviceIds.length, 64));
  const threads = Math.max(1, Math.min(opts.threads ?? 1, clients, 16));
  const durationMs = Math.round(opts.durationS * 1000);
  const totalPlanned = Math.round(opts.rate * opts.durationS);
  const maxInflight = Math.min(opts.maxInflight ?? 20_000, 60_000);
  const publisher = opts.publisher ?? 'raw';
  const runId = randomBytes(3).toString('hex');
  // Device d -> connection d % clients; connection c -> thread c % threads.
  const conns = Array.from({ length: clients }, (_, c) => ({
    clientId: `cnx-bench-${runId}-${c}`,
    devices: [] as string[],
  }));
  opts.deviceIds.forEach((d, i) => {
    conns[i % clients]!.devices.push(d);
  });

  const workers: Worker[] = [];
  const progress = new Map<number, Omit<LoadProgress, 'elapsedS'>>();
  const done = new Map<number, { stats: ThreadStats; maxTs: number }>();
  const exits: Promise<void>[] = [];
  const readies: Promise<void>[] = [];
  const errors: string[] = [];
  let assigned = 0;
  for (let t = 0; t < threads; t++) {
    const mine = conns.filter((_, c) => c % threads === t);
    const nDev = mine.reduce((a, c) => a + c.devices.length, 0);
    const share = nDev / opts.deviceIds.length;
    const planned = t === threads - 1 ? totalPlanned - assigned : Math.round(totalPlanned * share);
    assigned += planned;
    const cfg: WorkerConfig = {
      kind: 'cnx-loadgen',
      thread: t,
      url: opts.url,
      city: opts.city,
      connections: mine,
      rate: opts.rate * share,
      planned,
      durationMs,
      maxInflight,
      sampleEvery: opts.sampleEvery ?? 0,
      ackTimeoutMs: opts.ackTimeoutMs ?? 30_000,
      publisher,
      tickMs: opts.tickMs ?? 5,
    };
    const worker = new Worker(WORKER_BOOTSTRAP, { eval: true, workerData: cfg });
    workers.push(worker);
    let readyResolve!: () => void;
    readies.push(new Promise<void>((r) => (readyResolve = r)));
    worker.on('message', (m: ToParent) => {
      switch (m.type) {
        case 'ready':
          readyResolve();
          break;
        case 'samples':
          opts.onSamples?.(m.samples);
          break;
        case 'progress':
          progress.set(t, { sent: m.sent, acked: m.acked, inflight: m.inflight, lagMs: m.lagMs });
          break;
        case 'done':
          done.set(t, { stats: m.stats, maxTs: m.maxTs });
          break;
        case 'error':
          errors.push(m.message);
          break;
      }
    });
    exits.push(
      new Promise<void>((resolve) => {
        worker.once('error', (err) => {
          errors.push(String(err));
          resolve();
        });
        worker.once('exit', () => resolve());
      }),
    );
  }
  const anyExit = Promise.race(exits).then(() => {
    throw new Error(`loadgen: a thread exited before it was ready: ${errors.join('; ')}`);
  });
  const readyTimeout = new Promise<never>((_, reject) =>
    setTimeout(() => reject(new Error('loadgen: threads not ready after 30 s')), 30_000).unref(),
  );
  try {
    await Promise.race([Promise.all(readies), anyExit, readyTimeout]);
  } catch (err) {
    await Promise.all(workers.map((wk) => wk.terminate()));
    throw err;
  }

  const startedAt = Date.now() + 100;
  const cpu0 = process.cpuUsage();
  opts.onStart?.(startedAt);
  for (const wk of workers) wk.postMessage({ type: 'start', startAt: startedAt } satisfies ToWorker);
  const progressTimer = opts.onProgress
    ? setInterval(() => {
        let sent = 0;
        let acked = 0;
        let inflight = 0;
        let lagMs = 0;
        for (const p of progress.values()) {
          sent += p.sent;
          acked += p.acked;
          inflight += p.inflight;
          lagMs = Math.max(lagMs, p.lagMs);
        }
        opts.onProgress?.({ elapsedS: (Date.now() - startedAt) / 1000, sent, acked, inflight, lagMs });
      }, 1000)
    : undefined;
  // Hard bound: schedule + ack wait + slack.
  const hardTimer = setTimeout(
    () => {
      errors.push('hard timeout');
      for (const wk of workers) void wk.terminate();
    },
    durationMs + (opts.ackTimeoutMs ?? 30_000) + 30_000,
  );
  try {
    await Promise.all(exits);
  } finally {
    if (progressTimer) clearInterval(progressTimer);
    clearTimeout(hardTimer);
  }
  const cpu = process.cpuUsage(cpu0);
  const stats = [...done.values()].map((d) => d.stats).sort((a, b) => a.thread - b.thread);
  if (stats.length !== threads) {
    throw new Error(`loadgen: only ${stats.length}/${threads} threads reported: ${errors.join('; ')}`);
  }
  const sum = (f: (s: ThreadStats) => number) => stats.reduce((a, s) => a + f(s), 0);
  const sent = sum((s) => s.sent);
  const acked = sum((s) => s.acked);
  return {
    targetRate: opts.rate,
    durationS: opts.durationS,
    clients,
    threads,
    publisher,
    devices: opts.deviceIds.length,
    startedAt,
    endedAt: startedAt + durationMs,
    planned: totalPlanned,
    sent,
    acked,
    errors: sum((s) => s.errors),
    missed: sum((s) => s.missed),
    achievedRate: sent / opts.durationS,
    ackedRate: acked / opts.durationS,
    maxLagMs: Math.max(...stats.map((s) => s.maxLagMs)),
    inflightCapHits: sum((s) => s.inflightCapHits),
    generatorCpuS: (cpu.user + cpu.system) / 1e6,
    maxTs: Math.max(...[...done.values()].map((d) => d.maxTs)),
    threadStats: stats,
  };
}

function isEntry(): boolean {
  if (!process.argv[1]) return false;
  try {
    return realpathSync(process.argv[1]) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (!isMainThread && (workerData as WorkerConfig | undefined)?.kind === 'cnx-loadgen') {
  workerMain(workerData as WorkerConfig).catch((err) => {
    parentPort?.postMessage({ type: 'error', message: String(err?.stack ?? err) } satisfies ToParent);
    process.exit(1);
  });
} else if (isMainThread && isEntry()) {
  const { values } = parseArgs({
    options: {
      url: { type: 'string', default: 'mqtt://127.0.0.1:1883' },
      city: { type: 'string', default: 'bench' },
      rate: { type: 'string', default: '1000' },
      duration: { type: 'string', default: '10' },
      devices: { type: 'string', default: '100' },
      'device-ids': { type: 'string' },
      clients: { type: 'string', default: '4' },
      threads: { type: 'string', default: '1' },
      publisher: { type: 'string', default: 'raw' },
    },
  });
  const deviceIds = values['device-ids']
    ? values['device-ids'].split(',')
    : Array.from(
        { length: Math.min(10_000, Number(values.devices)) },
        (_, i) => `bench-dev-${String(i + 1).padStart(3, '0')}`,
      );
  const t = Date.now();
  runLoad({
    url: values.url,
    city: values.city,
    deviceIds,
    rate: Math.min(500_000, Number(values.rate)),
    durationS: Math.min(600, Number(values.duration)),
    clients: Number(values.clients),
    threads: Number(values.threads),
    publisher: values.publisher === 'mqttjs' ? 'mqttjs' : 'raw',
    onProgress: (p) =>
      console.error(`t=${p.elapsedS.toFixed(1)}s sent=${p.sent} acked=${p.acked} lag=${p.lagMs.toFixed(0)}ms`),
  }).then(
    (r) => {
      const { threadStats: _t, ...rest } = r;
      console.log(JSON.stringify({ ...rest, wallS: (Date.now() - t) / 1000 }, null, 2));
    },
    (err) => {
      console.error(err);
      process.exit(1);
    },
  );
}
