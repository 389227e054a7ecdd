/**
 * Durable local spool between MQTT ingest and the store writer.
 *
 * Contract: the ingest path appends an accepted reading and only PUBACKs when `append()` returned true.
 * At that point the bytes were handed to the kernel with a synchronous write(2) (`fs.writeSync`), so they
 * survive the process dying in any way (SIGKILL, OOM kill, crash); with `fsync: 'always'` they also survive
 * power loss, with `'interval'` at most `fsyncIntervalMs` of acknowledged data is exposed to power loss.
 * The writer drains the spool with `readBatch()`, writes the batch to the store, and `commit()`s the batch
 * end only once the store confirmed it; after a failed write it calls `rewind()` and retries. After a
 * restart reading resumes at the checkpoint, so the last uncommitted batch may be delivered again —
 * harmless because store writes are idempotent. Loss is never acceptable, duplicates are.
 *
 * On disk: `dir/00000001.seg, 00000002.seg, …` — append-only segment files of '\n'-terminated UTF-8
 * records, a new one started when the current one reaches `segmentBytes`; `dir/checkpoint.json`
 * `{"segment":N,"offset":B}` — everything before byte B of segment N is committed. Segments older than
 * the checkpoint segment are deleted on commit. A commit either writes the checkpoint (when due) or
 * throws leaving everything as it was; `beforeCheckpoint` writes state kept with it (qc-snapshot.ts).
 *
 * Full policy is back-pressure, never dropping: once the segments on disk total `maxBytes` or more,
 * `append()` returns false (a warning is logged once per full episode) and the caller must not acknowledge
 * the message, so the broker redelivers it later. Space is freed only by the writer committing, which
 * deletes whole consumed segments (if the only segment left is the fully consumed write segment, it is
 * rotated out so that even `maxBytes < segmentBytes` cannot deadlock); an info line is logged when the
 * spool accepts again. The check happens before the write, so one write (a record or an `appendMany`
 * group) may take the total slightly past `maxBytes`. A disk that is really full (ENOSPC/EDQUOT) is
 * treated the same way: nothing partial is left behind and `append()` returns false.
 *
 * Single-threaded by design: all methods are synchronous except start/stop and run on the event loop,
 * so the reader can never observe a record half-written by `append()`; it still only hands out complete
 * lines (up to the last '\n' it has read) and keeps any remainder for the next call.
 */
import * as fs from 'node:fs';
import { type Checkpoint, readCheckpoint, writeCheckpoint } from './checkpoint';
import {
  byteAt,
  countNewlines,
  endOfLastLine,
  fdatasyncAsync,
  fsyncDir,
  fsyncDirSync,
  isNoSpace,
  listSegments,
  type SegmentInfo,
  segmentPath,
  stripUndefined,
} from './segment-files';
import {
  SPOOL_DEFAULTS,
  type SpoolBatch,
  type SpoolInit,
  type SpoolLogger,
  type SpoolOptions,
  type SpoolPosition,
  type SpoolStats,
} from './spool-options';

export {
  SPOOL_DEFAULTS,
  type SpoolBatch,
  type SpoolInit,
  type SpoolLogger,
  type SpoolOptions,
  type SpoolPosition,
  type SpoolStats,
} from './spool-options';

const NEWLINE = 0x0a;
const READ_CHUNK = 1024 * 1024;
const WRITE_SCRATCH = 256 * 1024;
const WRITE_SCRATCH_MAX = 4 * 1024 * 1024;
const noopLogger: SpoolLogger = { info() {}, warn() {}, error() {} };

let sessionCounter = 0;

interface Pos {
  segment: number;
  offset: number;
  index: number;
}

export class Spool {
  private readonly dir: string;
  private readonly maxBytes: number;
  private readonly segmentBytes: number;
  private readonly fsyncPolicy: SpoolOptions['fsync'];
  private readonly fsyncIntervalMs: number;
  private readonly checkpointIntervalMs: number;
  /** The in-memory checkpoint is ahead of the file (see checkpointIntervalMs). */
  private cpUnwritten = false;
  private cpTimer: NodeJS.Timeout | undefined;
  private readonly log: SpoolLogger;
  private readonly beforeCheckpoint: SpoolOptions['beforeCheckpoint'];

  private started = false;
  private session = 0;
  /** Oldest first; the last one is the segment being appended to. Sizes are kept current in memory. */
  private segments: SegmentInfo[] = [];
  private active: SegmentInfo = { seq: 0, size: 0 };
  private bytes = 0;

  // writer
  private wfd = -1;
  private wbuf: Buffer = Buffer.alloc(0);
  private dirty = false;
  private fullEpisode = false;
  private noSpaceEpisode = false;

  // counters
  private appendedCount = 0;
  private committedCount = 0;
  private pending = 0;

  // committed checkpoint (index = records since session start)
  private cp: Pos = { segment: 0, offset: 0, index: 0 };
  /** Furthest position handed out by readBatch this session (commit may not go beyond it). */
  private delivered: Pos = { segment: 0, offset: 0, index: 0 };

  // reader: rbuf[rPos, rLen) holds the bytes of segment rSeg starting at file offset rOff
  private rSeg: SegmentInfo = { seq: 0, size: 0 };
  private rOff = 0;
  private rIndex = 0;
  private rFd = -1;
  private rFdSeq = -1;
  private rbuf: Buffer = Buffer.alloc(0);
  private rview: Buffer = Buffer.alloc(0);
  private rPos = 0;
  private rLen = 0;

  // background fsync (interval policy)
  private timer: NodeJS.Timeout | undefined;
  private readonly inflight = new Map<number, number>();
  private readonly closeWhenIdle = new Set<number>();
  private readonly pendingSyncs = new Set<Promise<void>>();

  constructor(opts: SpoolInit) {
    const o = { ...SPOOL_DEFAULTS, ...stripUndefined(opts) };
    if (!o.dir) throw new TypeError('spool: dir is required');
    for (const k of ['maxBytes', 'segmentBytes', 'fsyncIntervalMs'] as const) {
      if (!Number.isSafeInteger(o[k]) || o[k] <= 0) throw new RangeError(`spool: ${k} must be a positive integer`);
    }
    if (o.fsync !== 'always' && o.fsync !== 'interval' && o.fsync !== 'never') {
      throw new RangeError(`spool: fsync must be 'always', 'interval' or 'never'`);
    }
    this.dir = o.dir;
    this.maxBytes = o.maxBytes;
    this.segmentBytes = o.segmentBytes;
    this.fsyncPolicy = o.fsync;
    this.fsyncIntervalMs = o.fsyncIntervalMs;
    if (!Number.isSafeInteger(o.checkpointIntervalMs) || o.checkpointIntervalMs < 0)
      throw new RangeError('spool: checkpointIntervalMs must be a non-negative integer');
    this.checkpointIntervalMs = o.checkpointIntervalMs;
    this.log = opts.logger ?? noopLogger;
    this.beforeCheckpoint = opts.beforeCheckpoint;
  }

  // ---------------------------------------------------------------------------------------------------
  // lifecycle

  /** Create the directory if needed and recover the on-disk state (see the class comment). */
  async start(): Promise<void> {
    if (this.started) throw new Error('spool: already started');
    try {
      this.recover();
    } catch (err) {
      if (this.wfd >= 0) fs.closeSync(this.wfd);
      this.wfd = -1;
      throw err;
    }
  }

  private recover(): void {
    const dir = this.dir;
    fs.mkdirSync(dir, { recursive: true });
    const scratch = Buffer.allocUnsafe(READ_CHUNK);

    const read = readCheckpoint(dir);
    let segs = listSegments(dir);
    let stored: Checkpoint | undefined;
    if (read.kind === 'ok') {
      stored = read.checkpoint;
      segs = this.deleteSegmentsBefore(segs, stored.segment, 'consumed before last shutdown');
    } else if (read.kind === 'corrupt') {
      this.log.warn(
        { dir, reason: read.reason, content: read.content, segments: segs.length },
        'spool: checkpoint corrupt, replaying from the oldest segment (duplicates possible)',
      );
    } else if (segs.length > 0) {
      this.log.warn(
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
          if (this.fsyncPolicy !== 'never') fs.fdatasyncSync(fd);
          this.log.warn(
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
    if (last && last.size < this.segmentBytes) {
      active = last;
      this.wfd = fs.openSync(segmentPath(dir, last.seq), 'a');
    } else {
      const seq = Math.max(last?.seq ?? 0, stored?.segment ?? 0) + 1;
      this.wfd = fs.openSync(segmentPath(dir, seq), 'ax');
      if (this.fsyncPolicy !== 'never') fsyncDirSync(dir);
      active = { seq, size: 0 };
      segs.push(active);
    }
    this.active = active;
    this.segments = segs;

    // Resolve the committed position.
    let cpSeg: SegmentInfo;
    let cpOff = 0;
    const exact = stored ? segs.find((s) => s.seq === stored.segment) : undefined;
    if (stored && exact) {
      cpSeg = exact;
      cpOff = stored.offset;
      if (cpOff > exact.size) {
        this.log.warn(
          { segment: exact.seq, offset: cpOff, size: exact.size },
          'spool: checkpoint beyond end of segment, resuming at its end',
        );
        cpOff = exact.size;
      } else if (cpOff > 0) {
        const fd = fs.openSync(segmentPath(dir, exact.seq), 'r');
        try {
          if (byteAt(fd, cpOff - 1, scratch) !== NEWLINE) {
            this.log.warn(
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
    this.segments = this.deleteSegmentsBefore(segs, cpSeg.seq, 'fully consumed');
    if (!stored || stored.segment !== cpSeg.seq || stored.offset !== cpOff) {
      writeCheckpoint(dir, { segment: cpSeg.seq, offset: cpOff }, this.fsyncPolicy !== 'never');
    }

    // Sizes and the number of records still to deliver.
    let pending = 0;
    let bytes = 0;
    for (const s of this.segments) {
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

    this.session = ++sessionCounter;
    this.bytes = bytes;
    this.pending = pending;
    this.appendedCount = 0;
    this.committedCount = 0;
    this.cp = { segment: cpSeg.seq, offset: cpOff, index: 0 };
    this.delivered = { ...this.cp };
    this.wbuf = Buffer.allocUnsafe(WRITE_SCRATCH);
    this.rbuf = scratch;
    this.resetReader();
    this.dirty = false;
    this.noSpaceEpisode = false;
    this.fullEpisode = bytes >= this.maxBytes;
    if (this.fullEpisode) {
      this.log.warn({ bytes, maxBytes: this.maxBytes }, 'spool: full, refusing appends until the writer catches up');
    }
    if (this.fsyncPolicy === 'interval') {
      this.timer = setInterval(() => this.tick(), this.fsyncIntervalMs);
      this.timer.unref();
    }
    this.started = true;
    this.log.info(
      {
        dir,
        segments: this.segments.length,
        bytes,
        pendingRecords: pending,
        checkpoint: { segment: cpSeg.seq, offset: cpOff },
      },
      'spool: started',
    );
  }

  /** fdatasync (unless `fsync: 'never'`) and close everything. Idempotent. */
  async stop(): Promise<void> {
    if (!this.started) return;
    this.started = false;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    if (this.beforeCheckpoint) this.cpUnwritten = true; // the state kept with it may have changed
    this.flushCheckpoint(true);
    while (this.pendingSyncs.size > 0) await Promise.all([...this.pendingSyncs]);
    if (this.wfd >= 0) {
      try {
        if (this.fsyncPolicy !== 'never' && this.dirty) fs.fdatasyncSync(this.wfd);
      } finally {
        fs.closeSync(this.wfd);
        this.wfd = -1;
      }
    }
    this.closeReadFd();
    this.rLen = 0;
    this.rPos = 0;
  }

  // ---------------------------------------------------------------------------------------------------
  // writing (hot path)

  /**
   * Append one record (a line of UTF-8 text, typically JSON, without '\n'). Returns true once the bytes are
   * in the kernel (and on disk with `fsync: 'always'`), false when the spool is full — do not acknowledge
   * then. Throws on I/O errors and on a record containing '\n' (that would split it into two records).
   */
  append(record: string): boolean {
    if (this.wfd < 0) throw new Error('spool: not started');
    if (this.bytes >= this.maxBytes) return this.refuseFull();
    if (record.indexOf('\n') !== -1) throw new TypeError('spool: a record must not contain a newline');
    // Encode into a reused scratch buffer: no per-record allocation, exact byte count.
    const bound = record.length * 3 + 1;
    const buf = bound <= this.wbuf.length ? this.wbuf : this.scratchFor(bound);
    const n = buf.write(record, 0);
    buf[n] = NEWLINE;
    return this.writeOut(buf, n + 1, 1);
  }

  /** Append several records with one write(2); all or none of them are accepted. */
  appendMany(records: readonly string[]): boolean {
    if (this.wfd < 0) throw new Error('spool: not started');
    const count = records.length;
    if (count === 0) return true;
    if (this.bytes >= this.maxBytes) return this.refuseFull();
    let bound = 0;
    for (let i = 0; i < count; i++) bound += records[i]!.length * 3 + 1;
    const buf = bound <= this.wbuf.length ? this.wbuf : this.scratchFor(bound);
    let n = 0;
    for (let i = 0; i < count; i++) {
      // Checked on the bytes written, not the string: String.indexOf would first copy a record
      // built by concatenation into a flat string (a copy and an allocation per record), where
      // Buffer.write copies its pieces straight into the buffer. '\n' is byte 10 in UTF-8 and never
      // part of a multi-byte sequence, so the first 10 at or after `start` must be our separator.
      const start = n;
      n += buf.write(records[i]!, n);
      buf[n] = NEWLINE;
      if (buf.indexOf(NEWLINE, start) !== n) throw new TypeError('spool: a record must not contain a newline');
      n++;
    }
    return this.writeOut(buf, n, count);
  }

  private scratchFor(bound: number): Buffer {
    if (bound > WRITE_SCRATCH_MAX) return Buffer.allocUnsafe(bound); // one-off for huge writes
    let size = this.wbuf.length;
    while (size < bound) size *= 2;
    this.wbuf = Buffer.allocUnsafe(size);
    return this.wbuf;
  }

  private writeOut(buf: Buffer, len: number, count: number): boolean {
    const active = this.active;
    let done = 0;
    try {
      while (done < len) {
        const w = fs.writeSync(this.wfd, buf, done, len - done);
        if (w <= 0) throw new Error(`spool: write returned ${w}`);
        done += w;
      }
    } catch (err) {
      // Never leave a partial record behind: it would be glued to the next one.
      if (done > 0) this.undoPartialWrite(active.size, done);
      if (isNoSpace(err)) return this.refuseNoSpace(err as NodeJS.ErrnoException);
      throw err;
    }
    active.size += len;
    this.bytes += len;
    this.appendedCount += count;
    this.pending += count;
    this.dirty = true;
    if (this.fsyncPolicy === 'always') {
      fs.fdatasyncSync(this.wfd);
      this.dirty = false;
    }
    if (this.noSpaceEpisode) {
      this.noSpaceEpisode = false;
      this.log.info({ bytes: this.bytes }, 'spool: disk writable again, accepting appends');
    }
    if (active.size >= this.segmentBytes) this.rotate();
    return true;
  }

  private undoPartialWrite(size: number, written: number): void {
    try {
      fs.ftruncateSync(this.wfd, size);
    } catch (err) {
      // Could not cut it off: seal the segment so the fragment is a torn tail, which the reader skips.
      this.log.error(
        { segment: this.active.seq, err: String(err) },
        'spool: could not truncate partial write, sealing segment',
      );
      this.active.size = size + written;
      this.bytes += written;
      this.rotate();
    }
  }

  private refuseFull(): false {
    if (!this.fullEpisode) {
      this.fullEpisode = true;
      this.log.warn(
        { bytes: this.bytes, maxBytes: this.maxBytes, pendingRecords: this.pending },
        'spool: full, refusing appends (back-pressure) until the writer catches up',
      );
    }
    return false;
  }

  private refuseNoSpace(err: NodeJS.ErrnoException): false {
    if (!this.noSpaceEpisode) {
      this.noSpaceEpisode = true;
      this.log.error(
        { code: err.code, bytes: this.bytes, pendingRecords: this.pending },
        'spool: disk full, refusing appends (back-pressure)',
      );
    }
    return false;
  }

  /** Start a new segment; the old one becomes sealed (read-only). */
  private rotate(): void {
    const oldFd = this.wfd;
    const wasDirty = this.dirty;
    const seq = this.active.seq + 1;
    const fd = fs.openSync(segmentPath(this.dir, seq), 'ax');
    const seg: SegmentInfo = { seq, size: 0 };
    this.segments.push(seg);
    this.active = seg;
    this.wfd = fd;
    this.dirty = false;
    if (this.fsyncPolicy === 'always') {
      // Data was synced by every append; make the new file's directory entry durable before using it.
      fsyncDirSync(this.dir);
      fs.closeSync(oldFd);
    } else if (this.fsyncPolicy === 'interval') {
      // Off the event loop: flush the sealed segment, then close it; persist the new directory entry.
      if (wasDirty) this.background(fdatasyncAsync(oldFd), oldFd);
      this.closeFd(oldFd);
      this.background(fsyncDir(this.dir));
    } else {
      this.closeFd(oldFd);
    }
  }

  private tick(): void {
    if (!this.dirty || this.wfd < 0 || this.inflight.has(this.wfd)) return;
    this.dirty = false;
    this.background(fdatasyncAsync(this.wfd), this.wfd);
  }

  /** Track a background sync; `fd` (if given) is not closed until the sync finished. */
  private background(p: Promise<void>, fd?: number): void {
    if (fd !== undefined) this.inflight.set(fd, (this.inflight.get(fd) ?? 0) + 1);
    const tracked = p
      .catch((err: unknown) => {
        this.log.error({ err: String(err) }, 'spool: background fsync failed (data may not be on disk)');
      })
      .finally(() => {
        this.pendingSyncs.delete(tracked);
        if (fd === undefined) return;
        const left = (this.inflight.get(fd) ?? 1) - 1;
        if (left > 0) {
          this.inflight.set(fd, left);
          return;
        }
        this.inflight.delete(fd);
        if (this.closeWhenIdle.delete(fd)) fs.closeSync(fd);
      });
    this.pendingSyncs.add(tracked);
  }

  private closeFd(fd: number): void {
    if (this.inflight.has(fd)) this.closeWhenIdle.add(fd);
    else fs.closeSync(fd);
  }

  // ---------------------------------------------------------------------------------------------------
  // reading

  /**
   * The next records after the read cursor (at most `maxRecords`, and at most `maxBytes` of record bytes
   * unless a single record is bigger), or undefined when caught up. Advances the read cursor, not the
   * checkpoint. With `decode` false the records are only counted and stepped over, not turned into
   * strings (`records` is empty): the writer does that when it still holds them in memory.
   */
  readBatch(maxRecords: number, maxBytes = Number.POSITIVE_INFINITY, decode = true): SpoolBatch | undefined {
    if (!this.started) throw new Error('spool: not started');
    if (!(maxRecords >= 1)) throw new RangeError('spool: maxRecords must be >= 1');
    const records: string[] = [];
    let count = 0;
    let bytes = 0;
    let buf = this.rbuf;
    let view = this.rview;
    let pos = this.rPos;
    let off = this.rOff;
    while (count < maxRecords) {
      const nl = view.indexOf(NEWLINE, pos);
      if (nl !== -1) {
        const n = nl - pos;
        if (bytes + n > maxBytes && count > 0) break;
        if (decode) records.push(buf.toString('utf8', pos, nl));
        count++;
        bytes += n;
        off += n + 1;
        pos = nl + 1;
        continue;
      }
      // No complete line buffered: move the remainder to the front and read more of the segment.
      this.rPos = pos;
      this.rOff = off;
      if (this.fill()) {
        buf = this.rbuf;
        view = this.rview;
        pos = this.rPos;
        continue;
      }
      if (this.rSeg === this.active) break; // caught up
      this.nextSegment();
      buf = this.rbuf;
      view = this.rview;
      pos = this.rPos;
      off = this.rOff;
    }
    this.rPos = pos;
    this.rOff = off;
    if (count === 0) return undefined;
    this.rIndex += count;
    const end: SpoolPosition = { segment: this.rSeg.seq, offset: off, index: this.rIndex, session: this.session };
    if (this.rIndex > this.delivered.index) this.delivered = { segment: end.segment, offset: off, index: this.rIndex };
    return { records, count, end };
  }

  /** Read more bytes of the current read segment into the buffer; false when at its known end. */
  private fill(): boolean {
    const seg = this.rSeg;
    const have = this.rLen - this.rPos;
    const fileOff = this.rOff + have;
    const avail = seg.size - fileOff;
    if (avail <= 0) return false;
    let buf = this.rbuf;
    if (this.rPos > 0) {
      if (have > 0) buf.copyWithin(0, this.rPos, this.rLen);
      this.rPos = 0;
      this.rLen = have;
    }
    if (have === buf.length) {
      // A record longer than the buffer: grow (kept for the session).
      const bigger = Buffer.allocUnsafe(buf.length * 2);
      buf.copy(bigger, 0, 0, have);
      buf = bigger;
      this.rbuf = bigger;
    }
    const fd = this.readFd();
    const want = Math.min(buf.length - have, avail);
    const n = fs.readSync(fd, buf, have, want, fileOff);
    if (n <= 0) throw new Error(`spool: segment ${seg.seq} shorter than expected (${fileOff} < ${seg.size})`);
    this.rLen = have + n;
    this.rview = buf.subarray(0, this.rLen);
    return true;
  }

  /** Move the read cursor from the end of a sealed segment to the start of the next one. */
  private nextSegment(): void {
    const seg = this.rSeg;
    const leftover = this.rLen - this.rPos;
    if (leftover > 0) {
      // Only possible if a write was torn and could not be truncated (see undoPartialWrite).
      this.log.warn(
        { segment: seg.seq, droppedBytes: leftover },
        'spool: skipping unterminated record at end of sealed segment',
      );
    }
    const next = this.segments[this.segments.indexOf(seg) + 1];
    if (!next) throw new Error(`spool: no segment after ${seg.seq}`);
    this.rSeg = next;
    this.rOff = 0;
    this.rPos = 0;
    this.rLen = 0;
    this.rview = this.rbuf.subarray(0, 0);
  }

  private readFd(): number {
    if (this.rFdSeq !== this.rSeg.seq) {
      this.closeReadFd();
      this.rFd = fs.openSync(segmentPath(this.dir, this.rSeg.seq), 'r');
      this.rFdSeq = this.rSeg.seq;
    }
    return this.rFd;
  }

  private closeReadFd(): void {
    if (this.rFd >= 0) fs.closeSync(this.rFd);
    this.rFd = -1;
    this.rFdSeq = -1;
  }

  /** Move the read cursor back to the committed checkpoint (after a failed store write, to retry). */
  rewind(): void {
    if (!this.started) throw new Error('spool: not started');
    this.resetReader();
  }

  private resetReader(): void {
    const seg = this.segments.find((s) => s.seq === this.cp.segment);
    if (!seg) throw new Error(`spool: checkpoint segment ${this.cp.segment} missing`);
    this.rSeg = seg;
    this.rOff = this.cp.offset;
    this.rIndex = this.cp.index;
    this.rPos = 0;
    this.rLen = 0;
    this.rview = this.rbuf.subarray(0, 0);
  }

  // ---------------------------------------------------------------------------------------------------
  // committing

  /**
   * Persist `end` (from a batch whose records the store confirmed) as the checkpoint and delete fully
   * consumed segments. Committing a position at or before the current checkpoint is a no-op.
   */
  commit(end: SpoolPosition): void {
    if (!this.started) throw new Error('spool: not started');
    if (end.session !== this.session) throw new Error('spool: position is from another spool session');
    if (end.index <= this.cp.index) return;
    if (end.index > this.delivered.index) throw new RangeError('spool: cannot commit beyond what was read');

    let seg = this.segments.find((s) => s.seq === end.segment);
    if (!seg) throw new Error(`spool: segment ${end.segment} of commit position is gone`);
    let offset = end.offset;
    while (offset === seg.size && seg !== this.active) {
      seg = this.segments[this.segments.indexOf(seg) + 1]!;
      offset = 0;
    }
    // The write segment is fully consumed but the spool is full: rotate it out so its space can be freed.
    if (seg === this.active && offset === seg.size && seg.size > 0 && this.bytes >= this.maxBytes) {
      this.rotate();
      seg = this.active;
      offset = 0;
    }

    const n = end.index - this.cp.index;
    const cp: Pos = { segment: seg.seq, offset, index: end.index };
    // Segments are deleted only behind a checkpoint on disk; otherwise the file may lag (see options).
    // Written before anything changes in memory: if that fails, the commit fails as a whole.
    const frees = (this.segments[0]?.seq ?? seg.seq) < seg.seq;
    if (frees || this.checkpointIntervalMs === 0) this.persistCheckpoint(cp, frees);
    else {
      this.cpUnwritten = true;
      if (!this.cpTimer) {
        this.cpTimer = setTimeout(() => this.flushCheckpoint(), this.checkpointIntervalMs);
        this.cpTimer.unref();
      }
    }
    this.committedCount += n;
    this.pending -= n;
    this.cp = cp;

    // Deleting after the checkpoint is written: a crash in between only leaves garbage start() removes.
    const readerGone = this.rSeg.seq < seg.seq;
    this.segments = this.deleteSegmentsBefore(this.segments, seg.seq, 'committed');
    if (readerGone || this.rIndex < this.cp.index) {
      if (this.rFdSeq !== -1 && this.rFdSeq < seg.seq) this.closeReadFd();
      this.resetReader();
    }

    if (this.fullEpisode && this.bytes < this.maxBytes) {
      this.fullEpisode = false;
      this.log.info({ bytes: this.bytes, maxBytes: this.maxBytes }, 'spool: space available again, accepting appends');
    }
  }

  /** Write checkpoint `cp` to its file (durably with fsync 'always'); throws if that failed. */
  private persistCheckpoint(cp: Pos = this.cp, mustSaveState = false): void {
    this.beforeCheckpoint?.({ segment: this.active.seq, offset: this.active.size }, mustSaveState);
    writeCheckpoint(this.dir, { segment: cp.segment, offset: cp.offset }, this.fsyncPolicy === 'always');
    clearTimeout(this.cpTimer);
    this.cpTimer = undefined;
    this.cpUnwritten = false;
  }

  /** Persist the checkpoint if the file lags behind it (timer, stop); a failure is logged and retried. */
  private flushCheckpoint(stopping = false): void {
    clearTimeout(this.cpTimer);
    this.cpTimer = undefined;
    if (!this.cpUnwritten) return;
    try {
      this.persistCheckpoint(this.cp, stopping);
    } catch (err) {
      // The file lags (a crash now replays a little more, idempotently); nothing is lost.
      this.log.error({ err: String(err) }, 'spool: could not write the checkpoint, will retry');
      if (!this.started) return;
      this.cpTimer = setTimeout(() => this.flushCheckpoint(), Math.max(1000, this.checkpointIntervalMs));
      this.cpTimer.unref();
    }
  }

  private deleteSegmentsBefore(segs: SegmentInfo[], seq: number, why: string): SegmentInfo[] {
    let i = 0;
    while (i < segs.length && segs[i]!.seq < seq) {
      const s = segs[i]!;
      try {
        fs.unlinkSync(segmentPath(this.dir, s.seq));
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
          if (!this.started) throw err;
          // It stays listed and on disk (behind the checkpoint: never read again); the next commit retries.
          this.log.error({ segment: s.seq, err: String(err) }, 'spool: could not delete a consumed segment');
          break;
        }
      }
      if (this.started) this.bytes -= s.size;
      i++;
    }
    if (i > 0 && !this.started) this.log.info({ deleted: i, upTo: seq - 1, why }, 'spool: deleted consumed segments');
    return i === 0 ? segs : segs.slice(i);
  }

  // ---------------------------------------------------------------------------------------------------

  /**
   * The `index` (see SpoolPosition) the next appended record will have: records between this
   * session's initial checkpoint and it. Lets the writer match records to readings it still holds
   * in memory (writer.service.ts) instead of parsing them back.
   */
  get nextIndex(): number {
    return this.cp.index + this.pending;
  }

  /** The `index` of the next record `readBatch` will return. */
  get readIndex(): number {
    return this.rIndex;
  }

  /** True while appends are refused (spool at its bound, or the disk is full). Cheap: no allocation. */
  get full(): boolean {
    return this.bytes >= this.maxBytes || this.noSpaceEpisode;
  }

  stats(): SpoolStats {
    return {
      bytes: this.bytes,
      segments: this.segments.length,
      pendingRecords: this.pending,
      full: this.bytes >= this.maxBytes,
      appended: this.appendedCount,
      committed: this.committedCount,
    };
  }
}
