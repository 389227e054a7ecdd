/**
 * The spool's read side: hands out complete records after the read cursor, segment after segment,
 * through one reused buffer. Single-threaded with the writer (both run on the event loop), so it
 * never sees a record half-written; it still only hands out complete lines (up to the last '\n' it
 * has read) and keeps any remainder for the next call. The contract of the whole spool: spool.ts.
 */
import * as fs from 'node:fs';
import { type SegmentInfo, segmentPath } from './segment-files';
import type { SpoolDisk } from './segment-writer';
import type { SpoolLogger } from './spool-options';

const NEWLINE = 0x0a;

/** A place in the spool: byte `offset` of segment `segment`, `index` records after the session's start. */
export interface Pos {
  segment: number;
  offset: number;
  index: number;
}

/** What readBatch found: the records (when decoded), how many, and where the batch ends. */
export interface ReadResult {
  records: string[];
  count: number;
  end: Pos;
}

export class SegmentReader {
  // rbuf[rPos, rLen) holds the bytes of segment rSeg starting at file offset rOff
  private rSeg: SegmentInfo = { seq: 0, size: 0 };
  private rOff = 0;
  private rIndex = 0;
  private rFd = -1;
  private rFdSeq = -1;
  private rview: Buffer;
  private rPos = 0;
  private rLen = 0;

  constructor(
    private readonly disk: SpoolDisk,
    private rbuf: Buffer,
    private readonly log: SpoolLogger,
  ) {
    this.rview = rbuf.subarray(0, 0);
  }

  /** The `index` of the next record readBatch returns. */
  get index(): number {
    return this.rIndex;
  }

  /** The segment the cursor is in. */
  get segment(): number {
    return this.rSeg.seq;
  }

  /**
   * The next records after the cursor (at most `maxRecords`, and at most `maxBytes` of record bytes
   * unless a single record is bigger), or undefined when caught up. With `decode` false the records
   * are only counted and stepped over, not turned into strings.
   */
  read(maxRecords: number, maxBytes: number, decode: boolean): ReadResult | undefined {
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
      if (this.rSeg === this.disk.active) break; // caught up
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
    return { records, count, end: { segment: this.rSeg.seq, offset: off, index: this.rIndex } };
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
      // Only possible if a write was torn and could not be truncated (SegmentWriter.undoPartialWrite).
      this.log.warn(
        { segment: seg.seq, droppedBytes: leftover },
        'spool: skipping unterminated record at end of sealed segment',
      );
    }
    const segments = this.disk.segments;
    const next = segments[segments.indexOf(seg) + 1];
    if (!next) throw new Error(`spool: no segment after ${seg.seq}`);
    this.rSeg = next;
    this.rOff = 0;
    this.rPos = 0;
    this.rLen = 0;
    this.rview = this.rbuf.subarray(0, 0);
  }

  private readFd(): number {
    if (this.rFdSeq !== this.rSeg.seq) {
      this.closeFd();
      this.rFd = fs.openSync(segmentPath(this.disk.dir, this.rSeg.seq), 'r');
      this.rFdSeq = this.rSeg.seq;
    }
    return this.rFd;
  }

  /** Close the open segment file (`before`: only if it is older than that segment). */
  closeFd(before = Number.POSITIVE_INFINITY): void {
    if (this.rFd >= 0 && this.rFdSeq < before) {
      fs.closeSync(this.rFd);
      this.rFd = -1;
      this.rFdSeq = -1;
    }
  }

  /** Put the cursor at `cp` (the committed checkpoint). */
  reset(cp: Pos): void {
    const seg = this.disk.segments.find((s) => s.seq === cp.segment);
    if (!seg) throw new Error(`spool: checkpoint segment ${cp.segment} missing`);
    this.rSeg = seg;
    this.rOff = cp.offset;
    this.rIndex = cp.index;
    this.rPos = 0;
    this.rLen = 0;
    this.rview = this.rbuf.subarray(0, 0);
  }
}
