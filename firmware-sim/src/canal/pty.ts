/**
 * A virtual serial line: a socat pseudo-terminal pair (Debian package `socat`). The simulator opens
 * one end, a Modbus master (the gateway, mbpoll) the other; bytes written on one end are read on the
 * other, as over a null-modem cable.
 *
 *   socat -d -d pty,raw,echo=0,link=<simPath> pty,raw,echo=0,link=<masterPath>
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';

export interface PtyPair {
  /** The end the simulator opens. */
  readonly simPath: string;
  /** The end for the master (gateway, mbpoll). */
  readonly masterPath: string;
  readonly pid: number | undefined;
  /** Ends socat (its links go with it). Idempotent. */
  stop(): Promise<void>;
}

// socat address syntax uses these as separators: keep them out of paths we hand it.
const UNSAFE = /[,:!;{}\s"'\\]/;

/** socat children still running: ended if this process exits without stopping them (one listener for all). */
const live = new Set<ChildProcess>();
let exitHook = false;
function track(child: ChildProcess): void {
  live.add(child);
  child.once('exit', () => live.delete(child));
  if (!exitHook) {
    exitHook = true;
    process.once('exit', () => {
      for (const c of live) c.kill('SIGTERM');
    });
  }
}

export async function createPtyPair(opts: {
  simPath: string;
  masterPath: string;
  timeoutMs?: number;
  socat?: string;
}): Promise<PtyPair> {
  for (const p of [opts.simPath, opts.masterPath]) {
    if (UNSAFE.test(p))
      throw new Error(`pty path ${JSON.stringify(p)}: socat cannot take , : ! ; { } quotes or spaces`);
  }
  const child: ChildProcess = spawn(
    opts.socat ?? 'socat',
    ['-d', '-d', `pty,raw,echo=0,link=${opts.simPath}`, `pty,raw,echo=0,link=${opts.masterPath}`],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr?.on('data', (d) => {
    if (stderr.length < 4000) stderr += String(d);
  });
  const exited = new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    child.once('error', () => resolve());
  });
  let spawnError: Error | undefined;
  child.once('error', (e) => {
    spawnError = e;
  });
  track(child);

  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= (async () => {
      live.delete(child);
      if (child.exitCode === null && child.signalCode === null && !spawnError) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 2000);
        await exited;
        clearTimeout(timer);
      }
    })();
    return stopping;
  };

  // socat creates the links once both ptys exist ("starting data transfer loop" in its -d -d log).
  const deadline = Date.now() + (opts.timeoutMs ?? 5000);
  while (!(existsSync(opts.simPath) && existsSync(opts.masterPath) && /starting data transfer loop/.test(stderr))) {
    if (spawnError || child.exitCode !== null) {
      await stop();
      const why = spawnError ? spawnError.message : `exited with ${child.exitCode}`;
      throw new Error(`socat ${why}${stderr ? `: ${stderr.trim().split('\n').slice(-2).join(' / ')}` : ''}`);
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(
        `socat did not create ${opts.simPath} and ${opts.masterPath} within ${opts.timeoutMs ?? 5000} ms`,
      );
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  return { simPath: opts.simPath, masterPath: opts.masterPath, pid: child.pid, stop };
}
