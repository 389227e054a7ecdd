import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { drain, openSpool, removeTempDirs, tempDir } from './helpers';

const here = path.dirname(fileURLToPath(import.meta.url));
const fixture = path.join(here, 'fixtures', 'append-child.ts');
const gatewayDir = path.resolve(here, '..', '..');

afterEach(() => removeTempDirs());

interface ChildRun {
  acked: number[];
  /** Last record number of each batch the child was about to commit / had committed. */
  intents: number[];
  done: number[];
  signal: NodeJS.Signals | null;
}

/** Run the fixture until it acknowledged at least `killAfter` records, then SIGKILL it. */
function runAndKill(dir: string, mode: 'append' | 'commit', first: number, killAfter: number): Promise<ChildRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', fixture, dir, mode, String(first)], {
      cwd: gatewayDir,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    let acks = 0;
    let killed = false;
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      out += chunk;
      if (killed) return;
      acks += chunk.split('A ').length - 1;
      if (acks >= killAfter) {
        killed = true;
        child.kill('SIGKILL');
      }
    });
    child.stderr.on('data', (chunk: string) => {
      err += chunk;
    });
    child.on('error', reject);
    // 'close' fires after stdout hit EOF: everything the child wrote before dying has been read.
    child.on('close', (code, signal) => {
      if (!killed) {
        reject(new Error(`child exited on its own (code ${code}, signal ${signal}): ${err}`));
        return;
      }
      const run: ChildRun = { acked: [], intents: [], done: [], signal };
      const lines = out.split('\n');
      lines.pop(); // the text after the last newline is not a complete line
      for (const line of lines) {
        const [kind, num] = line.split(' ');
        if (kind === 'A') run.acked.push(Number(num));
        else if (kind === 'R') run.intents.push(Number(num));
        else if (kind === 'C') run.done.push(Number(num));
      }
      resolve(run);
    });
  });
}

async function deliveredNumbers(dir: string): Promise<number[]> {
  // Fresh spool on the directory, read everything without committing.
  const spool = await openSpool(dir, { segmentBytes: 64 * 1024 });
  try {
    return drain(spool, 997, false).map((r) => (JSON.parse(r) as { n: number }).n);
  } finally {
    await spool.stop();
  }
}

function expectContiguous(nums: number[], from: number): void {
  expect(nums.length).toBeGreaterThan(0);
  expect(nums[0]).toBe(from);
  for (let i = 1; i < nums.length; i++) {
    if (nums[i] !== nums[i - 1]! + 1) {
      throw new Error(`delivered records not contiguous at index ${i}: ${nums[i - 1]} then ${nums[i]}`);
    }
  }
}

describe('Spool: SIGKILL of the appending process', () => {
  it('every acknowledged record survives exactly once, across two kills and restarts', async () => {
    const dir = tempDir();

    const r1 = await runAndKill(dir, 'append', 0, 3000 + Math.floor(Math.random() * 2000));
    expect(r1.signal).toBe('SIGKILL');
    expect(r1.acked.length).toBeGreaterThanOrEqual(3000);
    const d1 = await deliveredNumbers(dir);
    expectContiguous(d1, 0); // no duplicates, no holes
    const maxAck1 = r1.acked[r1.acked.length - 1]!;
    expect(d1[d1.length - 1]!).toBeGreaterThanOrEqual(maxAck1);
    // At most the write in progress (up to 3 records of an appendMany) was on disk but unacknowledged.
    expect(d1[d1.length - 1]! - maxAck1).toBeLessThanOrEqual(3);

    // Second life: continue numbering after what is on disk, get killed again.
    const next = d1[d1.length - 1]! + 1;
    const r2 = await runAndKill(dir, 'append', next, 2000 + Math.floor(Math.random() * 2000));
    const d2 = await deliveredNumbers(dir);
    expectContiguous(d2, 0);
    const maxAck2 = r2.acked[r2.acked.length - 1]!;
    expect(d2[d2.length - 1]!).toBeGreaterThanOrEqual(maxAck2);
    const delivered = new Set(d2);
    for (const a of [...r1.acked, ...r2.acked]) if (!delivered.has(a)) throw new Error(`acknowledged ${a} lost`);
  });

  it('with a committing writer: resumes at the old or the new checkpoint, never loses acknowledged records', async () => {
    const dir = tempDir();
    const r = await runAndKill(dir, 'commit', 0, 4000 + Math.floor(Math.random() * 2000));
    expect(r.done.length).toBeGreaterThan(0);
    const lastDone = r.done[r.done.length - 1]!;
    const lastIntent = r.intents[r.intents.length - 1]!;

    const d = await deliveredNumbers(dir);
    const first = d[0]!;
    // The checkpoint is either the last one reported committed, or the one being written when killed.
    expect(first - 1).toBeGreaterThanOrEqual(lastDone);
    expect(first - 1).toBeLessThanOrEqual(lastIntent);
    expectContiguous(d, first);
    const maxAck = r.acked[r.acked.length - 1]!;
    expect(d[d.length - 1]!).toBeGreaterThanOrEqual(maxAck);
  });
});
