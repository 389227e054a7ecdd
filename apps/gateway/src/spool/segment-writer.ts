/**
 * The spool's write side: appends records to the active segment with one write(2) per call, rotates
 * segments, fdatasyncs them by policy (off the event loop for `interval`), and refuses appends while
 * the spool is at its bound or the disk is full (back-pressure: the caller must not acknowledge).
 * The contract of the whole spool is in spool.ts.
 */
import * as fs from 'node:fs';
import { fdatasyncAsync, fsyncDir, fsyncDirSync, isNoSpace, type SegmentInfo, segmentPath } from './segment-files';
import type { SpoolLogger, SpoolOptions } from './spool-options';

const NEWLINE = 0x0a;
const WRITE_SCRATCH = 256 * 1024;
const WRITE_SCRATCH_MAX = 4 * 1024 * 1024;

/** The segments on disk, shared by the writer, the reader and the spool's commit. */
export interface SpoolDisk {
  readonly dir: string;
  /** Oldest first; the last one is the segment being appended to. Sizes are kept current in memory. */
  segments: SegmentInfo[];
  active: SegmentInfo;
  /** Bytes of all segment files. */
  bytes: number;
  /** Records appended this session. */
  appended: number;
  /** Appended and not committed (counted from disk at start). */
  pending: number;
}

export type WriterOptions = Pick<SpoolOptions, 'maxBytes' | 'segmentBytes' | 'fsync' | 'fsyncIntervalMs'>;

export class SegmentWriter {
  private wbuf = Buffer.allocUnsafe(WRITE_SCRATCH);
  private dirty = false;
  /** Refusing appends because of the bound (logged once per episode). */
  private fullEpisode: boolean;
  private noSpaceEpisode = false;
  private timer: NodeJS.Timeout | undefined;
  private readonly inflight = new Map<number, number>();
  private readonly closeWhenIdle = new Set<number>();
  private readonly pendingSyncs = new Set<Promise<void>>();

  /** `fd`: the active segment, opened for appending. */
  constructor(
    private readonly disk: SpoolDisk,
    private fd: number,
    private readonly opts: WriterOptions,
    private readonly log: SpoolLogger,
  ) {
    this.fullEpisode = disk.bytes >= opts.maxBytes;
    if (this.fullEpisode) {
      this.log.warn(
        { bytes: disk.bytes, maxBytes: opts.maxBytes },
        'spool: full, refusing appends until the writer catches up',
      );
    }
    if (opts.fsync === 'interval') {
      this.timer = setInterval(() => this.tick(), opts.fsyncIntervalMs);
      this.timer.unref();
    }
  }

  /** True while appends are refused (at the bound, or the disk full). */
  get full(): boolean {
    return this.disk.bytes >= this.opts.maxBytes || this.noSpaceEpisode;
  }

  get atBound(): boolean {
    return this.disk.bytes >= this.opts.maxBytes;
  }

  append(record: string): boolean {
    if (this.fd < 0) throw new Error('spool: not started');
    if (this.atBound) return this.refuseFull();
    if (record.indexOf('\n') !== -1) throw new TypeError('spool: a record must not contain a newline');
    // Encode into a reused scratch buffer: no per-record allocation, exact byte count.
    const bound = record.length * 3 + 1;
    const buf = bound <= this.wbuf.length ? this.wbuf : this.scratchFor(bound);
    const n = buf.write(record, 0);
    buf[n] = NEWLINE;
    return this.writeOut(buf, n + 1, 1);
  }

  appendMany(records: readonly string[]): boolean {
    if (this.fd < 0) throw new Error('spool: not started');
    const count = records.length;
    if (count === 0) return true;
    if (this.atBound) return this.refuseFull();
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
    const disk = this.disk;
    const active = disk.active;
    let done = 0;
    try {
      while (done < len) {
        const w = fs.writeSync(this.fd, buf, done, len - done);
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
    disk.bytes += len;
    disk.appended += count;
    disk.pending += count;
    this.dirty = true;
    if (this.opts.fsync === 'always') {
      fs.fdatasyncSync(this.fd);
      this.dirty = false;
    }
    if (this.noSpaceEpisode) {
      this.noSpaceEpisode = false;
      this.log.info({ bytes: disk.bytes }, 'spool: disk writable again, accepting appends');
    }
    if (active.size >= this.opts.segmentBytes) this.rotate();
    return true;
  }

  private undoPartialWrite(size: number, written: number): void {
    try {
      fs.ftruncateSync(this.fd, size);
    } catch (err) {
      // Could not cut it off: seal the segment so the fragment is a torn tail, which the reader skips.
      this.log.error(
        { segment: this.disk.active.seq, err: String(err) },
        'spool: could not truncate partial write, sealing segment',
      );
      this.disk.active.size = size + written;
      this.disk.bytes += written;
      this.rotate();
    }
  }

  private refuseFull(): false {
    if (!this.fullEpisode) {
      this.fullEpisode = true;
      this.log.warn(
        { bytes: this.disk.bytes, maxBytes: this.opts.maxBytes, pendingRecords: this.disk.pending },
        'spool: full, refusing appends (back-pressure) until the writer catches up',
      );
    }
    return false;
  }

  private refuseNoSpace(err: NodeJS.ErrnoException): false {
    if (!this.noSpaceEpisode) {
      this.noSpaceEpisode = true;
      this.log.error(
        { code: err.code, bytes: this.disk.bytes, pendingRecords: this.disk.pending },
        'spool: disk full, refusing appends (back-pressure)',
      );
    }
    return false;
  }

  /** After a commit freed space: leave a full episode (logged). */
  freed(): void {
    if (this.fullEpisode && !this.atBound) {
      this.fullEpisode = false;
      this.log.info(
        { bytes: this.disk.bytes, maxBytes: this.opts.maxBytes },
        'spool: space available again, accepting appends',
      );
    }
  }

  /** Start a new segment; the old one becomes sealed (read-only). */
  rotate(): void {
    const disk = this.disk;
    const oldFd = this.fd;
    const wasDirty = this.dirty;
    const seq = disk.active.seq + 1;
    const fd = fs.openSync(segmentPath(disk.dir, seq), 'ax');
    const seg: SegmentInfo = { seq, size: 0 };
    disk.segments.push(seg);
    disk.active = seg;
    this.fd = fd;
    this.dirty = false;
    if (this.opts.fsync === 'always') {
      // Data was synced by every append; make the new file's directory entry durable before using it.
      fsyncDirSync(disk.dir);
      fs.closeSync(oldFd);
    } else if (this.opts.fsync === 'interval') {
      // Off the event loop: flush the sealed segment, then close it; persist the new directory entry.
      if (wasDirty) this.background(fdatasyncAsync(oldFd), oldFd);
      this.closeFd(oldFd);
      this.background(fsyncDir(disk.dir));
    } else {
      this.closeFd(oldFd);
    }
  }

  private tick(): void {
    if (!this.dirty || this.fd < 0 || this.inflight.has(this.fd)) return;
    this.dirty = false;
    this.background(fdatasyncAsync(this.fd), this.fd);
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

  /** Wait for background syncs, fdatasync (unless `fsync: 'never'`) and close. */
  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    while (this.pendingSyncs.size > 0) await Promise.all([...this.pendingSyncs]);
    if (this.fd < 0) return;
    try {
      if (this.opts.fsync !== 'never' && this.dirty) fs.fdatasyncSync(this.fd);
    } finally {
      fs.closeSync(this.fd);
      this.fd = -1;
    }
  }
}
