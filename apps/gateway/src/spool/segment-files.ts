/**
 * File-level helpers for the spool: segment naming, directory listing, newline scanning and the torn-tail
 * repair. Everything here is synchronous on purpose (called from `Spool.start()` and the hot path).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

export const SEGMENT_SUFFIX = '.seg';
const SEGMENT_RE = /^(\d{8,})\.seg$/;
const NEWLINE = 0x0a;

/** `1` -> `00000001.seg`. Eight digits cover 99,999,999 segments (1.5 PiB at 16 MiB); longer names still sort. */
export function segmentFileName(seq: number): string {
  return `${String(seq).padStart(8, '0')}${SEGMENT_SUFFIX}`;
}

export function segmentPath(dir: string, seq: number): string {
  return path.join(dir, segmentFileName(seq));
}

export interface SegmentInfo {
  seq: number;
  size: number;
}

/** Segment files in `dir`, oldest first, with their current sizes. Other files are ignored. */
export function listSegments(dir: string): SegmentInfo[] {
  const out: SegmentInfo[] = [];
  for (const name of fs.readdirSync(dir)) {
    const m = SEGMENT_RE.exec(name);
    if (!m) continue;
    const seq = Number(m[1]);
    if (!Number.isSafeInteger(seq)) continue;
    const st = fs.statSync(path.join(dir, name));
    if (!st.isFile()) continue;
    out.push({ seq, size: st.size });
  }
  out.sort((a, b) => a.seq - b.seq);
  return out;
}

/**
 * Byte offset just after the last '\n' in the first `size` bytes of `fd` (0 when there is none), reading
 * backwards in chunks of `scratch.length`. Used to find a torn (unterminated) last record.
 */
export function endOfLastLine(fd: number, size: number, scratch: Buffer): number {
  let end = size;
  while (end > 0) {
    const len = Math.min(scratch.length, end);
    const start = end - len;
    readFully(fd, scratch, len, start);
    const i = scratch.lastIndexOf(NEWLINE, len - 1);
    if (i >= 0) return start + i + 1;
    end = start;
  }
  return 0;
}

/** Number of '\n' bytes in `[from, to)` of `fd`. */
export function countNewlines(fd: number, from: number, to: number, scratch: Buffer): number {
  let count = 0;
  let pos = from;
  while (pos < to) {
    const len = Math.min(scratch.length, to - pos);
    readFully(fd, scratch, len, pos);
    const view = len === scratch.length ? scratch : scratch.subarray(0, len);
    let i = view.indexOf(NEWLINE);
    while (i !== -1) {
      count++;
      i = view.indexOf(NEWLINE, i + 1);
    }
    pos += len;
  }
  return count;
}

/** The byte at `offset` of `fd`. */
export function byteAt(fd: number, offset: number, scratch: Buffer): number {
  readFully(fd, scratch, 1, offset);
  return scratch[0]!;
}

/** pread exactly `len` bytes into the start of `buf`; a short file is an error (someone truncated it). */
export function readFully(fd: number, buf: Buffer, len: number, position: number): void {
  let got = 0;
  while (got < len) {
    const n = fs.readSync(fd, buf, got, len - got, position + got);
    if (n === 0) throw new Error(`spool: unexpected end of file at ${position + got} (wanted ${len} bytes)`);
    got += n;
  }
}

/** fsync a directory so that file creations, renames and deletions in it are durable. */
export function fsyncDirSync(dir: string): void {
  const fd = fs.openSync(dir, 'r');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

export async function fsyncDir(dir: string): Promise<void> {
  const h = await fs.promises.open(dir, 'r');
  try {
    await h.sync();
  } finally {
    await h.close();
  }
}

export function fdatasyncAsync(fd: number): Promise<void> {
  return new Promise((resolve, reject) => fs.fdatasync(fd, (err) => (err ? reject(err) : resolve())));
}

export function isNoSpace(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ENOSPC' || code === 'EDQUOT';
}

export function stripUndefined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}
