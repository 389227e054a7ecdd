/**
 * Closed-loop HTTP/1.1 load generator for the API bench, in a worker thread: `connections` keep-alive
 * sockets (node:net, no HTTP library), each sending its next GET as soon as the previous answer is
 * complete; paths are taken round-robin. Requests are pre-encoded and answers are parsed only as far
 * as status, Content-Length or chunked framing, so the generator costs a few µs per request.
 * Latency = first byte of the request written -> last byte of the answer read.
 */
import net from 'node:net';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';

export interface HttpLoadOptions {
  host: string;
  port: number;
  /** Request paths (with query), used round-robin across all connections. */
  paths: readonly string[];
  connections: number;
  /** Measured seconds (after the warm-up). */
  durationS: number;
  /** Seconds of load before measuring (not counted). */
  warmupS: number;
  /** Extra request headers (default: `Accept: application/json` only). */
  headers?: Record<string, string>;
}

export interface HttpLoadResult {
  /** 2xx answers completed inside the measured window (sent and answered inside it). */
  requests: number;
  durationS: number;
  /** requests / durationS: successful answers per second. */
  rps: number;
  /** Latency of the 2xx answers. */
  latencyMs: { p50: number; p90: number; p99: number; max: number; mean: number };
  /** Answers by status code (measured window). */
  status: Record<string, number>;
  /** Non-2xx answers (measured window): not in requests, rps or latency. */
  non2xx: number;
  /** Sockets that failed or closed while a request was in flight (whole run). */
  socketErrors: number;
  /** Mean size of the 2xx answers in bytes, head + body. */
  bytesPerResponse: number;
}

export interface HttpLoadHooks {
  /** Called when the measured window starts (after the warm-up) and ends, for CPU marks. */
  onWindowStart?(): void;
  onWindowEnd?(): void;
}

interface WorkerConfig extends HttpLoadOptions {
  kind: 'cnx-api-loadgen';
}

const WORKER_BOOTSTRAP = `import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))})
  .then((m) => { m.register(); return import(${JSON.stringify(import.meta.url)}); })
  .catch((err) => { console.error(err); process.exit(1); });`;

/** Runs one load in a worker thread and returns its figures. */
export function runHttpLoad(opts: HttpLoadOptions, hooks: HttpLoadHooks = {}): Promise<HttpLoadResult> {
  if (opts.paths.length === 0) throw new Error('no paths');
  if (opts.connections < 1 || opts.connections > 1000) throw new Error('connections: 1..1000');
  if (opts.durationS <= 0 || opts.durationS > 600) throw new Error('duration: 0..600 s');
  return new Promise((resolve, reject) => {
    const cfg: WorkerConfig = { ...opts, paths: [...opts.paths], kind: 'cnx-api-loadgen' };
    const worker = new Worker(WORKER_BOOTSTRAP, { eval: true, workerData: cfg });
    let settled = false;
    worker.on('message', (m: ToParent) => {
      if (m.type === 'window-start') hooks.onWindowStart?.();
      else if (m.type === 'window-end') hooks.onWindowEnd?.();
      else {
        settled = true;
        if (m.type === 'done') resolve(m.result);
        else reject(new Error(`load generator: ${m.message}`));
        void worker.terminate();
      }
    });
    worker.once('error', (err) => {
      if (!settled) reject(err);
    });
    worker.once('exit', (code) => {
      if (!settled) reject(new Error(`load generator exited with code ${code}`));
    });
  });
}

type ToParent =
  | { type: 'window-start' }
  | { type: 'window-end' }
  | { type: 'done'; result: HttpLoadResult }
  | { type: 'error'; message: string };

const CRLFCRLF = Buffer.from('\r\n\r\n');
const CRLF = Buffer.from('\r\n');

/** Incremental parser of a stream of HTTP/1.1 answers; calls onDone(status, bytes) per answer. */
class ResponseReader {
  private pending: Buffer = Buffer.alloc(0);
  private state: 'head' | 'body' | 'chunk-size' | 'chunk-data' = 'head';
  private remaining = 0;
  private status = 0;
  private bytes = 0;

  constructor(private readonly onDone: (status: number, bytes: number) => void) {}

  reset(): void {
    this.pending = Buffer.alloc(0);
    this.state = 'head';
  }

  push(chunk: Buffer): void {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    let buf = this.pending;
    let off = 0;
    for (;;) {
      if (this.state === 'head') {
        const end = buf.indexOf(CRLFCRLF, off);
        if (end < 0) break;
        const head = buf.toString('latin1', off, end);
        this.status = Number(head.slice(9, 12));
        this.bytes = end + 4 - off;
        off = end + 4;
        const length = /\r\ncontent-length:\s*(\d+)/i.exec(head);
        if (/\r\ntransfer-encoding:\s*chunked/i.test(head)) this.state = 'chunk-size';
        else {
          this.remaining = length ? Number(length[1]) : 0;
          this.state = 'body';
        }
      } else if (this.state === 'body') {
        const take = Math.min(this.remaining, buf.length - off);
        off += take;
        this.remaining -= take;
        this.bytes += take;
        if (this.remaining > 0) break;
        this.state = 'head';
        this.onDone(this.status, this.bytes);
      } else if (this.state === 'chunk-size') {
        const eol = buf.indexOf(CRLF, off);
        if (eol < 0) break;
        const size = Number.parseInt(buf.toString('latin1', off, eol), 16);
        this.bytes += eol + 2 - off;
        off = eol + 2;
        // Each chunk's data is followed by CRLF; the last chunk (size 0) by the final CRLF (no trailers),
        // which the 'body' state consumes before reporting the answer.
        this.remaining = size + 2;
        this.state = size === 0 ? 'body' : 'chunk-data';
      } else {
        const take = Math.min(this.remaining, buf.length - off);
        off += take;
        this.remaining -= take;
        this.bytes += take;
        if (this.remaining > 0) break;
        this.state = 'chunk-size';
      }
    }
    buf = buf.subarray(off);
    this.pending = buf;
  }
}

async function workerMain(cfg: WorkerConfig): Promise<void> {
  const requests = cfg.paths.map((p) =>
    Buffer.from(
      `GET ${p} HTTP/1.1\r\nHost: ${cfg.host}:${cfg.port}\r\n` +
        Object.entries(cfg.headers ?? { Accept: 'application/json' })
          .map(([k, v]) => `${k}: ${v}\r\n`)
          .join('') +
        '\r\n',
      'latin1',
    ),
  );
  const latencies: number[] = [];
  const status: Record<string, number> = {};
  let next = 0;
  let socketErrors = 0;
  let bytes = 0;
  const now = () => performance.now();
  const start = now();
  const measureFrom = start + cfg.warmupS * 1000;
  const measureTo = measureFrom + cfg.durationS * 1000;
  const post = (m: ToParent) => parentPort!.postMessage(m);
  const windowTimers = [
    setTimeout(() => post({ type: 'window-start' }), measureFrom - now()),
    setTimeout(() => post({ type: 'window-end' }), measureTo - now()),
  ];

  const connection = (): Promise<void> =>
    new Promise<void>((resolve) => {
      let sentAt = 0;
      let inFlight = false;
      const socket = net.connect({ host: cfg.host, port: cfg.port });
      socket.setNoDelay(true);
      const send = () => {
        if (now() >= measureTo) {
          socket.end();
          return;
        }
        const req = requests[next++ % requests.length]!;
        sentAt = now();
        inFlight = true;
        socket.write(req);
      };
      const reader = new ResponseReader((code, size) => {
        inFlight = false;
        const done = now();
        if (sentAt >= measureFrom && done <= measureTo) {
          status[code] = (status[code] ?? 0) + 1;
          if (code >= 200 && code < 300) {
            latencies.push(done - sentAt);
            bytes += size;
          }
        }
        send();
      });
      socket.on('connect', send);
      socket.on('data', (chunk: Buffer) => reader.push(chunk));
      socket.on('error', () => undefined);
      socket.on('close', () => {
        if (inFlight) socketErrors++;
        // Reconnect while the run lasts (a server that closed the connection, e.g. after an error).
        if (now() < measureTo) {
          reader.reset();
          setTimeout(() => void connection().then(resolve), inFlight ? 10 : 0);
        } else resolve();
      });
    });

  await Promise.all(Array.from({ length: cfg.connections }, connection));
  for (const t of windowTimers) clearTimeout(t);
  latencies.sort((a, b) => a - b);
  const pct = (p: number) =>
    latencies.length === 0
      ? 0
      : latencies[Math.min(latencies.length - 1, Math.ceil((p / 100) * latencies.length) - 1)]!;
  const r3 = (x: number) => Math.round(x * 1000) / 1000;
  const non2xx = Object.entries(status)
    .filter(([code]) => !code.startsWith('2'))
    .reduce((n, [, c]) => n + c, 0);
  const result: HttpLoadResult = {
    requests: latencies.length,
    durationS: cfg.durationS,
    rps: Math.round((latencies.length / cfg.durationS) * 100) / 100,
    latencyMs: {
      p50: r3(pct(50)),
      p90: r3(pct(90)),
      p99: r3(pct(99)),
      max: r3(latencies.at(-1) ?? 0),
      mean: r3(latencies.reduce((a, b) => a + b, 0) / Math.max(1, latencies.length)),
    },
    status,
    non2xx,
    socketErrors,
    bytesPerResponse: Math.round(bytes / Math.max(1, latencies.length)),
  };
  post({ type: 'done', result });
}

if (!isMainThread && (workerData as WorkerConfig | undefined)?.kind === 'cnx-api-loadgen') {
  workerMain(workerData as WorkerConfig).catch((err) => {
    parentPort?.postMessage({ type: 'error', message: String(err?.stack ?? err) } satisfies ToParent);
    process.exit(1);
  });
}
