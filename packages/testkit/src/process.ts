import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';

export interface ManagedProcessOptions {
  /** Short name used in every error message, e.g. 'influxd'. */
  name: string;
  command: string;
  args?: readonly string[];
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** How many of the last stdout/stderr lines to keep for error messages (default 80). */
  tailLines?: number;
}

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Set when the process could not be spawned at all (e.g. ENOENT). */
  error?: Error;
}

export interface ReadyOptions {
  /** Total time allowed for readiness (default 30 s). */
  timeoutMs?: number;
  /** Pause between probes (default 50 ms). */
  intervalMs?: number;
  /** What is being waited for, for the error message, e.g. 'GET /ping to answer 204'. */
  what?: string;
}

/** Thrown when a service exits or does not become ready; carries the child's last output lines. */
export class ServiceStartError extends Error {
  constructor(
    message: string,
    readonly output: string,
    readonly exit?: ExitInfo,
  ) {
    super(output ? `${message}\n--- last output ---\n${output}` : message);
    this.name = 'ServiceStartError';
  }
}

// Children still running when the test process exits (a crashed worker, a forgotten stop()) are
// killed here, so no stray broker or database outlives the suite and holds its port.
const live = new Set<ChildProcess>();
let exitHookInstalled = false;
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const child of live) child.kill('SIGKILL');
  });
}

/**
 * A child process owned by a test: spawn, keep its last output lines, wait for readiness with a
 * bounded timeout, stop with SIGTERM then SIGKILL after a grace period.
 */
export class ManagedProcess {
  readonly name: string;
  /** Resolves once the process has exited (never rejects). */
  readonly exited: Promise<ExitInfo>;
  private readonly child: ChildProcess;
  private readonly tail: string[] = [];
  private readonly tailLines: number;
  private readonly partial: Record<'stdout' | 'stderr', string> = { stdout: '', stderr: '' };
  private exitInfo: ExitInfo | undefined;

  private constructor(opts: ManagedProcessOptions) {
    this.name = opts.name;
    this.tailLines = opts.tailLines ?? 80;
    installExitHook();
    this.child = spawn(opts.command, opts.args ?? [], {
      cwd: opts.cwd,
      env: opts.env ?? process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    live.add(this.child);
    this.child.stdout?.setEncoding('utf8').on('data', (chunk: string) => this.capture('stdout', chunk));
    this.child.stderr?.setEncoding('utf8').on('data', (chunk: string) => this.capture('stderr', chunk));
    this.exited = new Promise<ExitInfo>((resolve) => {
      const finish = (info: ExitInfo) => {
        if (this.exitInfo) return;
        this.exitInfo = info;
        live.delete(this.child);
        this.flushPartial();
        resolve(info);
      };
      this.child.once('exit', (code, signal) => finish({ code, signal }));
      this.child.once('error', (error) => finish({ code: null, signal: null, error }));
    });
  }

  static spawn(opts: ManagedProcessOptions): ManagedProcess {
    return new ManagedProcess(opts);
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get running(): boolean {
    return this.exitInfo === undefined;
  }

  get exit(): ExitInfo | undefined {
    return this.exitInfo;
  }

  /** The last captured stdout/stderr lines, oldest first. */
  output(): string {
    const pending = (['stdout', 'stderr'] as const)
      .filter((s) => this.partial[s] !== '')
      .map((s) => `[${s}] ${this.partial[s]}`);
    return [...this.tail, ...pending].join('\n');
  }

  /**
   * Polls `probe` until it resolves true. Fails (and kills the child) when the child exits first or
   * the timeout passes; the error carries the child's last output.
   */
  async waitUntilReady(probe: () => Promise<boolean>, opts: ReadyOptions = {}): Promise<void> {
    const timeoutMs = opts.timeoutMs ?? 30_000;
    const intervalMs = opts.intervalMs ?? 50;
    const what = opts.what ?? 'readiness';
    const deadline = Date.now() + timeoutMs;
    // No pid means spawn failed (e.g. ENOENT); the 'error' event that says why comes a tick later.
    if (this.child.pid === undefined) await this.exited;
    for (;;) {
      if (!this.running) {
        throw new ServiceStartError(
          `${this.name} exited before ${what} (${describeExit(this.exitInfo)})`,
          this.output(),
          this.exitInfo,
        );
      }
      let ok = false;
      try {
        ok = await probe();
      } catch {
        ok = false;
      }
      if (ok && this.running) return;
      if (Date.now() >= deadline) {
        await this.kill('SIGKILL');
        throw new ServiceStartError(`${this.name}: timed out after ${timeoutMs} ms waiting for ${what}`, this.output());
      }
      await delay(intervalMs);
    }
  }

  /** SIGTERM, then SIGKILL if still running after `graceMs` (default 10 s). Idempotent. */
  async stop(graceMs = 10_000): Promise<ExitInfo> {
    if (!this.running) return this.exitInfo!;
    this.child.kill('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const grace = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), graceMs);
    });
    const result = await Promise.race([this.exited, grace]);
    clearTimeout(timer);
    if (result === 'timeout') return this.kill('SIGKILL');
    return result;
  }

  /** Sends `signal` (default SIGKILL: a crash) and waits for the exit. */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<ExitInfo> {
    if (!this.running) return this.exitInfo!;
    this.child.kill(signal);
    return this.exited;
  }

  private capture(stream: 'stdout' | 'stderr', chunk: string): void {
    const lines = (this.partial[stream] + chunk).split('\n');
    this.partial[stream] = lines.pop() ?? '';
    for (const line of lines) this.push(`[${stream}] ${line}`);
  }

  private flushPartial(): void {
    for (const stream of ['stdout', 'stderr'] as const) {
      if (this.partial[stream] !== '') this.push(`[${stream}] ${this.partial[stream]}`);
      this.partial[stream] = '';
    }
  }

  private push(line: string): void {
    this.tail.push(line);
    if (this.tail.length > this.tailLines) this.tail.splice(0, this.tail.length - this.tailLines);
  }
}

function describeExit(info: ExitInfo | undefined): string {
  if (!info) return 'still running';
  if (info.error) return `spawn failed: ${info.error.message}`;
  return info.signal ? `signal ${info.signal}` : `exit code ${info.code}`;
}

/** True when the captured output says the listen address was taken (a freePort() race). */
export function isAddressInUse(output: string): boolean {
  return /address already in use|bind: address|Address in use/i.test(output);
}

/** A fresh private directory under the OS temp dir. */
export function makeTempDir(prefix = 'cnx-test-'): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}

/** Removes a directory tree; missing directories are fine. */
export async function removeDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true, maxRetries: 3 });
}
