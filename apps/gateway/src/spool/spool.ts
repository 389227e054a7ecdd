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
 *
 * The parts, by concern: spool-recovery.ts (start: disk back to a consistent state), segment-writer.ts
 * (appends, rotation, fsync, back-pressure), segment-reader.ts (batches after the read cursor), and
 * this file (lifecycle, commit and the checkpoint).
 *
 * The bus gate (`busGate`): the gateway also publishes every record on the bus, from memory, a
 * moment after it is durable. With the gate on, the checkpoint file never passes a record the bus
 * has not finished with (`busPublished(index)`), whatever the store confirmed: a process killed
 * between the spool write and the bus acknowledgement finds those records after the checkpoint at
 * the next start, where `replayReader()` hands them out to be published again (and the store gets
 * them again, idempotently). `commit()`, `rewind()` and `pendingRecords` keep meaning "what the
 * store confirmed"; only the checkpoint file and segment deletion wait for the bus.
 *
 * Why segment files and not a SQLite table in WAL
 * mode: measured in spool.bench.ts, one INSERT transaction per record cost 6 × the CPU of a
 * write(2) per record (docs/architecture.md, decision "The spool is append-only segment files").
 */
import { writeCheckpoint } from './checkpoint';
import { stripUndefined } from './segment-files';
import { type Pos, type ReadResult, SegmentReader } from './segment-reader';
import { SegmentWriter, type SpoolDisk } from './segment-writer';
import {
  SPOOL_DEFAULTS,
  type SpoolBatch,
  type SpoolInit,
  type SpoolLogger,
  type SpoolOptions,
  type SpoolPosition,
  type SpoolStats,
} from './spool-options';
import { deleteSegmentsBefore, recoverSpool } from './spool-recovery';

export {
  SPOOL_DEFAULTS,
  type SpoolBatch,
  type SpoolInit,
  type SpoolLogger,
  type SpoolOptions,
  type SpoolPosition,
  type SpoolStats,
} from './spool-options';

const noopLogger: SpoolLogger = { info() {}, warn() {}, error() {} };

let sessionCounter = 0;

export class Spool {
  private readonly opts: SpoolOptions;
  private readonly log: SpoolLogger;
  /** The in-memory checkpoint is ahead of the file (see checkpointIntervalMs). */
  private cpUnwritten = false;
  private cpTimer: NodeJS.Timeout | undefined;
  /** The last checkpoint write failed with this (cleared by the next one that succeeds). */
  private cpError: string | undefined;
  /** Retries a checkpoint write that failed in busPublished(), where no caller backs off for it. */
  private retryTimer: NodeJS.Timeout | undefined;
  private started = false;
  private session = 0;
  private disk: SpoolDisk = { dir: '', segments: [], active: { seq: 0, size: 0 }, bytes: 0, appended: 0, pending: 0 };
  private writer?: SegmentWriter;
  private reader?: SegmentReader;
  private committedCount = 0;
  /** What the store confirmed (index = records since session start): rewind() goes back to it. */
  private cp: Pos = { segment: 0, offset: 0, index: 0 };
  /** The checkpoint kept on disk: `cp`, or less while the bus gate holds it back. */
  private durable: Pos = { segment: 0, offset: 0, index: 0 };
  /** Store-confirmed positions past `durable`, oldest first (bus gate only). */
  private held: Pos[] = [];
  /** Records before this index are done with on the bus (bus gate); infinite without the gate. */
  private busIndex = Number.POSITIVE_INFINITY;
  /** The bus held half the spool: the checkpoint follows the store alone meanwhile (logged once). */
  private busBypass = false;
  /** Furthest position handed out by readBatch this session (commit may not go beyond it). */
  private delivered: Pos = { segment: 0, offset: 0, index: 0 };

  constructor(opts: SpoolInit) {
    const o = { ...SPOOL_DEFAULTS, ...stripUndefined(opts) };
    if (!o.dir) throw new TypeError('spool: dir is required');
    for (const k of ['maxBytes', 'segmentBytes', 'fsyncIntervalMs'] as const) {
      if (!Number.isSafeInteger(o[k]) || o[k] <= 0) throw new RangeError(`spool: ${k} must be a positive integer`);
    }
    if (o.fsync !== 'always' && o.fsync !== 'interval' && o.fsync !== 'never') {
      throw new RangeError(`spool: fsync must be 'always', 'interval' or 'never'`);
    }
    if (!Number.isSafeInteger(o.checkpointIntervalMs) || o.checkpointIntervalMs < 0)
      throw new RangeError('spool: checkpointIntervalMs must be a non-negative integer');
    this.opts = o;
    this.log = opts.logger ?? noopLogger;
  }

  // ---------------------------------------------------------------------------------------------------
  // lifecycle

  /** Create the directory if needed and recover the on-disk state (spool-recovery.ts). */
  async start(): Promise<void> {
    if (this.started) throw new Error('spool: already started');
    const { dir } = this.opts;
    const r = recoverSpool(dir, this.opts, this.log);
    this.session = ++sessionCounter;
    this.disk = { dir, segments: r.segments, active: r.active, bytes: r.bytes, appended: 0, pending: r.pending };
    this.committedCount = 0;
    this.cp = { ...r.checkpoint, index: 0 };
    this.durable = { ...this.cp };
    this.held = [];
    this.busIndex = this.opts.busGate ? 0 : Number.POSITIVE_INFINITY;
    this.delivered = { ...this.cp };
    this.writer = new SegmentWriter(this.disk, r.wfd, this.opts, this.log);
    this.reader = new SegmentReader(this.disk, r.scratch, this.log);
    this.reader.reset(this.cp);
    this.started = true;
    this.log.info(
      {
        dir,
        segments: r.segments.length,
        bytes: r.bytes,
        pendingRecords: r.pending,
        checkpoint: r.checkpoint,
      },
      'spool: started',
    );
  }

  /** fdatasync (unless `fsync: 'never'`) and close everything. Idempotent. */
  async stop(): Promise<void> {
    if (!this.started) return;
    this.started = false;
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    if (this.opts.beforeCheckpoint) this.cpUnwritten = true; // the state kept with it may have changed
    this.flushCheckpoint(true);
    await this.writer?.close();
    this.reader?.closeFd();
  }

  // ---------------------------------------------------------------------------------------------------
  // writing (hot path: segment-writer.ts)

  /**
   * Append one record (a line of UTF-8 text, typically JSON, without '\n'). Returns true once the bytes are
   * in the kernel (and on disk with `fsync: 'always'`), false when the spool is full — do not acknowledge
   * then. Throws on I/O errors and on a record containing '\n' (that would split it into two records).
   */
  append(record: string): boolean {
    return this.writing().append(record);
  }

  /** Append several records with one write(2); all or none of them are accepted. */
  appendMany(records: readonly string[]): boolean {
    return this.writing().appendMany(records);
  }

  private writing(): SegmentWriter {
    if (!this.started || !this.writer) throw new Error('spool: not started');
    return this.writer;
  }

  // ---------------------------------------------------------------------------------------------------
  // reading (segment-reader.ts)

  /**
   * The next records after the read cursor (at most `maxRecords`, and at most `maxBytes` of record bytes
   * unless a single record is bigger), or undefined when caught up. Advances the read cursor, not the
   * checkpoint. With `decode` false the records are only counted and stepped over, not turned into
   * strings (`records` is empty): the writer does that when it still holds them in memory.
   */
  readBatch(maxRecords: number, maxBytes = Number.POSITIVE_INFINITY, decode = true): SpoolBatch | undefined {
    if (!this.started || !this.reader) throw new Error('spool: not started');
    if (!(maxRecords >= 1)) throw new RangeError('spool: maxRecords must be >= 1');
    const got = this.reader.read(maxRecords, maxBytes, decode);
    if (!got) return undefined;
    const { end } = got;
    if (end.index > this.delivered.index) this.delivered = { ...end };
    return { records: got.records, count: got.count, end: { ...end, session: this.session } };
  }

  /** Move the read cursor back to the committed checkpoint (after a failed store write, to retry). */
  rewind(): void {
    if (!this.started || !this.reader) throw new Error('spool: not started');
    this.reader.reset(this.cp);
  }

  // ---------------------------------------------------------------------------------------------------
  // committing

  /**
   * Persist `end` (from a batch whose records the store confirmed) as the checkpoint and delete fully
   * consumed segments. Committing a position at or before the current checkpoint is a no-op.
   */
  commit(end: SpoolPosition): void {
    if (!this.started || !this.writer || !this.reader) throw new Error('spool: not started');
    if (end.session !== this.session) throw new Error('spool: position is from another spool session');
    if (end.index <= this.cp.index) return;
    if (end.index > this.delivered.index) throw new RangeError('spool: cannot commit beyond what was read');
    const seg = this.disk.segments.find((s) => s.seq === end.segment);
    if (!seg) throw new Error(`spool: segment ${end.segment} of commit position is gone`);
    const pos: Pos = { segment: end.segment, offset: end.offset, index: end.index };
    this.held.push(pos);
    try {
      this.advance();
    } catch (error) {
      this.held.pop(); // the checkpoint could not be written: the commit fails as a whole
      throw error;
    }
    const n = end.index - this.cp.index;
    this.committedCount += n;
    this.disk.pending -= n;
    // After advance() the checkpoint may have rotated past `pos` (then both are at the same record).
    this.cp = this.durable.index === pos.index ? { ...this.durable } : this.normalised(pos);
    const { reader } = this;
    if (reader.segment < this.durable.segment || reader.index < this.cp.index) {
      reader.closeFd(this.durable.segment);
      reader.reset(this.cp);
    }
  }

  /**
   * The bus is done with every record before `index` (published and acknowledged, or given up on
   * and counted): the checkpoint may move up to there. A checkpoint write that fails is logged,
   * shown in stats() (the health endpoint) and tried again every second until it succeeds (a crash
   * meanwhile only replays more).
   */
  busPublished(index: number): void {
    if (!this.started || index <= this.busIndex) return;
    this.busIndex = index;
    this.tryAdvance();
  }

  private tryAdvance(): void {
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    try {
      this.advance();
    } catch (error) {
      // A failed checkpoint write is logged where it happens; anything else is logged here.
      if (this.cpError === undefined)
        this.log.error({ err: String(error) }, 'spool: could not move the checkpoint, will retry');
      if (!this.started) return;
      this.retryTimer = setTimeout(() => this.tryAdvance(), Math.max(1000, this.opts.checkpointIntervalMs));
      this.retryTimer.unref();
    }
  }

  /**
   * Move the checkpoint to the newest held position the bus is done with. The bus may hold at most
   * half the spool: past that (a long broker outage while Modbus and HTTP push go on, or intake
   * paused because the spool is full, which also stops the bus) the checkpoint follows the store
   * alone, so the bus can never keep the spool full. The readings passed over are still in MQTT.js's
   * queue and go out when the broker is back; only a crash before then keeps them off the bus.
   */
  private advance(): void {
    const overBudget = this.disk.bytes >= this.opts.maxBytes / 2;
    const gate = overBudget ? Number.POSITIVE_INFINITY : this.busIndex;
    let i = -1;
    while (i + 1 < this.held.length && (this.held[i + 1] as Pos).index <= gate) i++;
    if (i < 0) return;
    if (overBudget && !this.busBypass && (this.held[i] as Pos).index > this.busIndex) {
      this.busBypass = true;
      this.log.warn(
        { behind: (this.held[i] as Pos).index - this.busIndex, bytes: this.disk.bytes, maxBytes: this.opts.maxBytes },
        'spool: the bus is behind by half the spool; the checkpoint follows the store alone until it catches up',
      );
    } else if (!overBudget && this.busBypass) {
      this.busBypass = false;
      this.log.info({ bytes: this.disk.bytes }, 'spool: the checkpoint waits for the bus again');
    }
    this.checkpointAt(this.held[i] as Pos);
    this.held.splice(0, i + 1);
  }

  /** Where a position points once the end of a sealed segment is the start of the next one. */
  private normalised(p: Pos): Pos {
    const { disk } = this;
    let seg = disk.segments.find((s) => s.seq === p.segment);
    if (!seg) throw new Error(`spool: segment ${p.segment} of commit position is gone`);
    let offset = p.offset;
    while (offset === seg.size && seg !== disk.active) {
      seg = disk.segments[disk.segments.indexOf(seg) + 1]!;
      offset = 0;
    }
    return { segment: seg.seq, offset, index: p.index };
  }

  /** Persist `end` as the checkpoint and delete the segments wholly before it. */
  private checkpointAt(end: Pos): void {
    const { disk, writer } = this;
    if (!writer) throw new Error('spool: not started');
    let { segment, offset } = this.normalised(end);
    // The write segment is fully consumed but the spool is full: rotate it out so its space can be freed.
    if (segment === disk.active.seq && offset === disk.active.size && offset > 0 && writer.atBound) {
      writer.rotate();
      segment = disk.active.seq;
      offset = 0;
    }
    const cp: Pos = { segment, offset, index: end.index };
    // Segments are deleted only behind a checkpoint on disk; otherwise the file may lag (see options).
    // Written before anything changes in memory: if that fails, nothing changed.
    const frees = (disk.segments[0]?.seq ?? segment) < segment;
    if (frees || this.opts.checkpointIntervalMs === 0) this.persistCheckpoint(cp, frees);
    else {
      this.cpUnwritten = true;
      if (!this.cpTimer) {
        this.cpTimer = setTimeout(() => this.flushCheckpoint(), this.opts.checkpointIntervalMs);
        this.cpTimer.unref();
      }
    }
    this.durable = cp;
    // Deleting after the checkpoint is written: a crash in between only leaves garbage start() removes.
    disk.segments = deleteSegmentsBefore(disk.dir, disk.segments, segment, this.log, 'committed', true, (s) => {
      disk.bytes -= s.size;
    });
    writer.freed();
  }

  /**
   * A reader of the records after the checkpoint as the spool was started (the bus gate's replay:
   * records the bus may not have carried before a crash). Its own cursor; the bus gate keeps its
   * segments until `busPublished` passes them. Close it when done.
   */
  replayReader(): { read(maxRecords: number, maxBytes: number): ReadResult | undefined; close(): void } {
    if (!this.started) throw new Error('spool: not started');
    const reader = new SegmentReader(this.disk, Buffer.allocUnsafe(64 * 1024), this.log);
    reader.reset({ ...this.durable, index: this.durable.index });
    const endIndex = this.cp.index + this.disk.pending; // only what was there at the start
    let done = false;
    return {
      read: (maxRecords, maxBytes) => {
        const left = endIndex - reader.index;
        if (done || left <= 0) return undefined;
        return reader.read(Math.min(maxRecords, left), maxBytes, true);
      },
      close: () => {
        done = true;
        reader.closeFd();
      },
    };
  }

  /** Write checkpoint `cp` to its file (durably with fsync 'always'); throws if that failed. */
  private persistCheckpoint(cp: Pos = this.durable, mustSaveState = false): void {
    try {
      this.opts.beforeCheckpoint?.({ segment: this.disk.active.seq, offset: this.disk.active.size }, mustSaveState);
      writeCheckpoint(this.opts.dir, { segment: cp.segment, offset: cp.offset }, this.opts.fsync === 'always');
    } catch (error) {
      const message = (error as Error)?.message ?? String(error);
      // Logged once per distinct error, not at every retry.
      if (message !== this.cpError)
        this.log.error({ err: message }, 'spool: could not write the checkpoint, will retry');
      this.cpError = message;
      throw error;
    }
    if (this.cpError !== undefined) this.log.info({}, 'spool: the checkpoint is written again');
    this.cpError = undefined;
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
      this.persistCheckpoint(this.durable, stopping);
    } catch {
      // The file lags (a crash now replays a little more, idempotently); nothing is lost. Logged above.
      if (!this.started) return;
      this.cpTimer = setTimeout(() => this.flushCheckpoint(), Math.max(1000, this.opts.checkpointIntervalMs));
      this.cpTimer.unref();
    }
  }

  // ---------------------------------------------------------------------------------------------------

  /**
   * The `index` (see SpoolPosition) the next appended record will have: records between this
   * session's initial checkpoint and it. Lets the writer match records to readings it still holds
   * in memory (writer.service.ts) instead of parsing them back.
   */
  get nextIndex(): number {
    return this.cp.index + this.disk.pending;
  }

  /** The `index` of the next record `readBatch` will return. */
  get readIndex(): number {
    return this.reader?.index ?? 0;
  }

  /** True while appends are refused (spool at its bound, or the disk is full). Cheap: no allocation. */
  get full(): boolean {
    return this.writer?.full ?? false;
  }

  stats(): SpoolStats {
    return {
      bytes: this.disk.bytes,
      segments: this.disk.segments.length,
      pendingRecords: this.disk.pending,
      full: this.disk.bytes >= this.opts.maxBytes,
      appended: this.disk.appended,
      committed: this.committedCount,
      ...(this.cpError === undefined ? {} : { checkpointError: this.cpError }),
    };
  }
}
