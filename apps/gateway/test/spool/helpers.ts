import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Spool, type SpoolBatch, type SpoolInit, type SpoolLogger } from '../../src/spool/spool';

export interface LogLine {
  level: 'info' | 'warn' | 'error';
  obj: object;
  msg: string;
}

export function collectingLogger(): SpoolLogger & {
  lines: LogLine[];
  count(level: LogLine['level'], re: RegExp): number;
} {
  const lines: LogLine[] = [];
  return {
    lines,
    info: (obj, msg) => lines.push({ level: 'info', obj, msg }),
    warn: (obj, msg) => lines.push({ level: 'warn', obj, msg }),
    error: (obj, msg) => lines.push({ level: 'error', obj, msg }),
    count: (level, re) => lines.filter((l) => l.level === level && re.test(l.msg)).length,
  };
}

const dirs: string[] = [];

export function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cnx-spool-test-'));
  dirs.push(dir);
  return dir;
}

export function removeTempDirs(): void {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
}

/** Start a spool (fsync 'never' unless given: tests exercise crash semantics, not power loss). */
export async function openSpool(dir: string, opts: Partial<SpoolInit> = {}): Promise<Spool> {
  const spool = new Spool({ fsync: 'never', ...opts, dir });
  await spool.start();
  return spool;
}

const opened: Spool[] = [];
/** openSpool, remembered so that stopTracked() (afterEach) stops it. */
export async function spoolAt(...args: Parameters<typeof openSpool>): Promise<Spool> {
  const s = await openSpool(...args);
  opened.push(s);
  return s;
}
/** Forget the open spools without stopping them: what a killed process leaves behind. */
export function forgetTracked(): void {
  opened.splice(0);
}
/** afterEach: stop the spools spoolAt opened and remove the temp dirs. */
export async function stopTracked(): Promise<void> {
  for (const s of opened.splice(0)) await s.stop();
  removeTempDirs();
}

/** Read batches until caught up, optionally committing each one. */
export function drain(spool: Spool, batchSize = 1000, commit = true): string[] {
  const out: string[] = [];
  let b: SpoolBatch | undefined = spool.readBatch(batchSize);
  while (b) {
    out.push(...b.records);
    if (commit) spool.commit(b.end);
    b = spool.readBatch(batchSize);
  }
  return out;
}

export function segmentFiles(dir: string): string[] {
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.seg'))
    .sort();
}

export function rec(i: number, pad = 0): string {
  return JSON.stringify({ i, s: i % 3 === 0 ? 'เชียงใหม่ ฝุ่น PM2.5' : 'cnx', p: 'x'.repeat(pad) });
}

export function range(from: number, to: number): number[] {
  const out: number[] = [];
  for (let i = from; i < to; i++) out.push(i);
  return out;
}
