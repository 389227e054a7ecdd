/**
 * The spool checkpoint: `checkpoint.json` = `{"segment":N,"offset":B}` meaning "every record before byte B
 * of segment N (and every older segment) is confirmed by the store". Written atomically (temp file +
 * rename), so a reader only ever sees the old or the new content; a missing or unreadable checkpoint makes
 * the spool replay from the oldest segment (duplicates are harmless, store writes are idempotent).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fsyncDirSync } from './segment-files';

export const CHECKPOINT_FILE = 'checkpoint.json';
export const CHECKPOINT_TMP_FILE = 'checkpoint.json.tmp';

export interface Checkpoint {
  segment: number;
  offset: number;
}

export type CheckpointRead =
  | { kind: 'ok'; checkpoint: Checkpoint }
  | { kind: 'missing' }
  | { kind: 'corrupt'; reason: string; content: string };

export function readCheckpoint(dir: string): CheckpointRead {
  let text: string;
  try {
    text = fs.readFileSync(path.join(dir, CHECKPOINT_FILE), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { kind: 'missing' };
    throw err;
  }
  const content = text.length > 200 ? `${text.slice(0, 200)}…` : text;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    return { kind: 'corrupt', reason: `invalid JSON: ${(err as Error).message}`, content };
  }
  if (typeof parsed !== 'object' || parsed === null) return { kind: 'corrupt', reason: 'not an object', content };
  const { segment, offset } = parsed as Record<string, unknown>;
  if (!isNonNegativeInt(segment) || !isNonNegativeInt(offset)) {
    return { kind: 'corrupt', reason: 'segment/offset must be non-negative integers', content };
  }
  return { kind: 'ok', checkpoint: { segment, offset } };
}

/**
 * Atomically replace the checkpoint. With `durable`, the temp file is fdatasync'ed before the rename and
 * the directory fsync'ed after it, so the new checkpoint survives power loss; without, it survives a
 * process crash (the rename is atomic in the kernel) and at worst an older checkpoint comes back after
 * power loss, which only means replaying some already-stored records.
 */
export function writeCheckpoint(dir: string, cp: Checkpoint, durable: boolean): void {
  const tmp = path.join(dir, CHECKPOINT_TMP_FILE);
  const data = `${JSON.stringify({ segment: cp.segment, offset: cp.offset })}\n`;
  const fd = fs.openSync(tmp, 'w');
  try {
    fs.writeSync(fd, data);
    if (durable) fs.fdatasyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, path.join(dir, CHECKPOINT_FILE));
  if (durable) fsyncDirSync(dir);
}

function isNonNegativeInt(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}
