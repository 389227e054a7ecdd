import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

export interface PtyPair {
  /** The master's end (the gateway opens this). */
  a: string;
  /** The slave's end (the simulated devices). */
  b: string;
  dir: string;
  /** Kill socat: both ends disappear (a serial adapter unplugged). */
  kill(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * A virtual RS-485 line: two pseudo-terminals joined by socat
 * (`socat -d -d pty,raw,echo=0,link=$DIR/a pty,raw,echo=0,link=$DIR/b`); resolves once both links exist.
 */
export async function startPtyPair(dir = mkdtempSync(path.join(tmpdir(), 'cnx-pty-'))): Promise<PtyPair> {
  const a = path.join(dir, 'a');
  const b = path.join(dir, 'b');
  const child: ChildProcess = spawn('socat', ['-d', '-d', `pty,raw,echo=0,link=${a}`, `pty,raw,echo=0,link=${b}`], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (d) => {
    stderr += d.toString();
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const deadline = Date.now() + 5000;
  while (!(existsSync(a) && existsSync(b))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`socat did not create ${a} and ${b}: ${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 10));
  }
  const kill = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      await exited;
    }
  };
  return {
    a,
    b,
    dir,
    kill,
    async stop() {
      await kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
