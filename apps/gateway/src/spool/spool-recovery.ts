/**
 * The spool's start: what is on disk after any kind of stop (a clean one, SIGKILL, power loss, a
 * full disk) back to a consistent state: consumed segments deleted, a torn last record cut off (it
 * was never acknowledged), the committed position resolved and the records still to deliver
 * counted. The contract of the whole spool: spool.ts.
 */
import * as fs from 'node:fs';
import { type Checkpoint, readCheckpoint, writeCheckpoint } from './checkpoint';
import {
  byteAt,
  countNewlines,
  endOfLastLine,
  fsyncDirSync,
  listSegments,
  type SegmentInfo,
  segmentPath,
} from './segment-files';
import type { SpoolLogger, SpoolOptions } from './spool-options';

const NEWLINE = 0x0a;
const READ_CHUNK = 1024 * 1024;

export interface Recovered {
  segments: SegmentInfo[];
  active: SegmentInfo;
  /** The active segment, open for appending. */
  wfd: number;
  checkpoint: Checkpoint;
  bytes: number;
  /** Records after the checkpoint. */
  pending: number;
  /** A 1 MiB buffer for the reader. */
  scratch: Buffer;
}

/**
 * Delete the segment files before `seq` and return the rest of `segs`. During start-up a failure
 * throws; afterwards (a commit) it is logged and the files stay listed for the next commit to retry.
 */
export function deleteSegmentsBefore(
  dir: string,
  segs: SegmentInfo[],
  seq: number,
  log: SpoolLogger,
  why: string,
  started = false,
  onDeleted?: (s: SegmentInfo) => void,
): SegmentInfo[] {
  let i = 0;
  while (i < segs.length && segs[i]!.seq < seq) {
    const s = segs[i]!;
    try {
      fs.unlinkSync(segmentPath(dir, s.seq));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
        if (!started) throw err;
        // It stays listed and on disk (behind the checkpoint: never read again); the next commit retries.
        log.error({ segment: s.seq, err: String(err) }, 'spool: could not delete a consumed segment');
        break;
      }
    }
    onDeleted?.(s);
    i++;
  }
  if (i > 0 && !started) log.info({ deleted: i, upTo: seq - 1, why }, 'spool: deleted consumed segments');
  return i === 0 ? segs : segs.slice(i);
}

/** Bring `dir` to a consistent state and open the active segment. Throws on I/O errors (nothing left open). */
export function recoverSpool(
  dir: string,
  opts: Pick<SpoolOptions, 'fsync' | 'segmentBytes'>,
  log: SpoolLogger,
): Recovered {
  let wfd = -1;
  try {
    fs.mkdirSync(dir, { recursive: true });
    const scratch = Buffer.allocUnsafe(READ_CHUNK);

    const read = readCheckpoint(dir);
    let segs = listSegments(dir);
    let stored: Checkpoint | undefined;
    if (read.kind === 'ok') {
      stored = read.checkpoint;
      segs = deleteSegmentsBefore(dir, segs, stored.segment, log, 'consumed before last shutdown');
    } else if (read.kind === 'corrupt') {
      log.warn(
        { dir, reason: read.reason, content: read.content, segments: segs.length },
        'spool: checkpoint corrupt, replaying from the oldest segment (duplicates possible)',
      );
    } else if (segs.length > 0) {
      log.warn(
        { dir, segments: segs.length },
        'spool: checkpoint missing, replaying from the oldest segment (duplicates possible)',
      );
    }

    // A SIGKILL (or ENOSPC) in the middle of a write can leave an unterminated last record: cut it off.
    // Such a record was never acknowledged, because append() had not returned.
    for (const s of segs) {
      if (s.size === 0) continue;
      const fd = fs.openSync(segmentPath(dir, s.seq), 'r+');
      try {
        if (byteAt(fd, s.size - 1, scratch) !== NEWLINE) {
          const end = endOfLastLine(fd, s.size, scratch);
          fs.ftruncateSync(fd, end);
          if (opts.fsync !== 'never') fs.fdatasyncSync(fd);
          log.warn(
            { segment: s.seq, droppedBytes: s.size - end },
            'spool: truncated torn record at segment end (unacknowledged partial write)',
          );
          s.size = end;
        }
      } finally {
        fs.closeSync(fd);
      }
    }

    // The write segment: the newest one if it has room, else a new one numbered after everything seen
    // (including a checkpoint that points past the files on disk, so new data is never behind it).
    const last = segs[segs.length - 1];
    let active: SegmentInfo;
    if (last && last.size < opts.segmentBytes) {
      active = last;
      wfd = fs.openSync(segmentPath(dir, last.seq), 'a');
    } else {
      const seq = Math.max(last?.seq ?? 0, stored?.segment ?? 0) + 1;
      wfd = fs.openSync(segmentPath(dir, seq), 'ax');
      if (opts.fsync !== 'never') fsyncDirSync(dir);
      active = { seq, size: 0 };
      segs.push(active);
    }

    // Resolve the committed position.
    let cpSeg: SegmentInfo;
    let cpOff = 0;
    const exact = stored ? segs.find((s) => s.seq === stored.segment) : undefined;
    if (stored && exact) {
      cpSeg = exact;
      cpOff = stored.offset;
      if (cpOff > exact.size) {
        log.warn(
          { segment: exact.seq, offset: cpOff, size: exact.size },
          'spool: checkpoint beyond end of segment, resuming at its end',
        );
        cpOff = exact.size;
      } else if (cpOff > 0) {
        const fd = fs.openSync(segmentPath(dir, exact.seq), 'r');
        try {
          if (byteAt(fd, cpOff - 1, scratch) !== NEWLINE) {
            log.warn(
              { segment: exact.seq, offset: cpOff },
              'spool: checkpoint not on a record boundary, replaying the segment from its start',
            );
            cpOff = 0;
          }
        } finally {
          fs.closeSync(fd);
        }
      }
    } else if (stored) {
      // The checkpoint segment is gone (deleted after the checkpoint was written): everything before the
      // next segment was consumed.
      cpSeg = segs.find((s) => s.seq > stored.segment)!;
    } else {
      cpSeg = segs[0]!;
    }
    // A position at the end of a sealed segment is the start of the next one.
    while (cpOff === cpSeg.size && cpSeg !== active) {
      cpSeg = segs[segs.indexOf(cpSeg) + 1]!;
      cpOff = 0;
    }
    const segments = deleteSegmentsBefore(dir, segs, cpSeg.seq, log, 'fully consumed');
    if (!stored || stored.segment !== cpSeg.seq || stored.offset !== cpOff) {
      writeCheckpoint(dir, { segment: cpSeg.seq, offset: cpOff }, opts.fsync !== 'never');
    }

    // Sizes and the number of records still to deliver.
    let pending = 0;
    let bytes = 0;
    for (const s of segments) {
      bytes += s.size;
      const from = s === cpSeg ? cpOff : 0;
      if (s.size > from) {
        const fd = fs.openSync(segmentPath(dir, s.seq), 'r');
        try {
          pending += countNewlines(fd, from, s.size, scratch);
        } finally {
          fs.closeSync(fd);
        }
      }
    }

    return {
      segments,
      active,
      wfd,
      checkpoint: { segment: cpSeg.seq, offset: cpOff },
      bytes,
      pending,
      scratch,
    };
  } catch (err) {
    if (wfd >= 0) fs.closeSync(wfd);
    throw err;
  }
}
