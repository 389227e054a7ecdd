/**
 * Every device's QC state (spike baseline, stuck run, recent sequence numbers), kept with the spool's
 * checkpoint so that a gateway restart does not forget it: a reading redelivered after the restart
 * gets the flags it got the first time, and a stuck run or a spike baseline carries on.
 *
 * On disk: `<spool dir>/qc-state.json` = `{"v":1,"savedAt":<ms>,"position":{"segment":N,"offset":B},
 * "state":2,"endian":"LE","devices":["<id>",...],"data":"<base64>"}`, `data` being the devices'
 * DeviceQcState.data arrays one after the other, as bytes (qcStateToJson's arrays of numbers cost
 * 212 ms a save for 1000 devices). Written atomically (temp file + rename; fdatasync and a directory
 * fsync with GATEWAY_SPOOL_FSYNC=always, like the checkpoint) just before a checkpoint write (the
 * spool's beforeCheckpoint hook): always when the checkpoint frees segments and at stop, else at
 * most every SAVE_EVERY_MS; serialised only then, never per reading.
 *
 * `position` is the spool's append end at that moment: the state covers every record before it.
 * It is never behind the checkpoint on disk (a checkpoint that frees segments saves first), so the
 * records after it are still on disk: at start, after the spool recovered and before intake begins,
 * the state is loaded and those records (appended after the save, before a crash) are run through
 * QC again, in order, to bring it up to date. Running a reading the state already holds through QC
 * again changes nothing (its seq is a redelivery; the same or an older time leaves the spike/stuck
 * state alone), so a state saved with a few readings not yet in the spool is fine.
 * Missing or unreadable: every device starts from the records still in the spool.
 */
import * as fs from 'node:fs';
import { endianness } from 'node:os';
import * as path from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import { applyQc, createQcState, type DeviceQcState, type QcConfig } from '@cnx/domain';
import type { Checkpoint } from './checkpoint';
import { fsyncDirSync, listSegments, segmentPath } from './segment-files';
import type { SpoolLogger } from './spool-options';

export const QC_STATE_FILE = 'qc-state.json';
const QC_STATE_TMP_FILE = 'qc-state.json.tmp';
const CHUNK = 1024 * 1024;
/**
 * Between checkpoints that free no segment, the state is saved at most this often: a crash then
 * replays at most this long a stretch of spool records through QC at start (about 1 µs each), and
 * a gateway on an SD card does not rewrite the whole state every second.
 */
const SAVE_EVERY_MS = 30_000;
/** The DeviceQcState layout these bytes are in (createQcState().v) and its length in doubles. */
const STATE_FORMAT = createQcState();

interface QcSnapshotFile {
  v: 1;
  savedAt: number;
  position: Checkpoint;
  state: number;
  endian: string;
  devices: string[];
  data: string;
}

export interface QcRestoreResult {
  /** Devices whose state was loaded from the file. */
  devices: number;
  /** Spool records run through QC again to bring the state up to date. */
  replayed: number;
}

export class QcSnapshot {
  private restored = false;
  private lastSaved = '';
  private lastSavedAt = 0;

  /**
   * `states` is the live map the ingest pipeline keeps its devices' states in (IngestPipeline's
   * `qcStates`): restore() fills it, save() reads it.
   */
  constructor(
    private readonly dir: string,
    private readonly states: Map<string, DeviceQcState>,
    private readonly config: QcConfig,
    private readonly durable: boolean,
    private readonly log: SpoolLogger,
  ) {}

  /**
   * Write the states as of spool append end `position` (the spool's beforeCheckpoint hook). `must`:
   * the checkpoint frees segments (or the spool stops), so save whatever the time. Throws on I/O errors.
   */
  save(position: Checkpoint, must = true): void {
    // Before restore() the map is empty: never overwrite a saved state with that.
    if (!this.restored) return;
    const at = `${position.segment}:${position.offset}`;
    // Nothing appended since the last save: the states only changed for readings not spooled (a
    // failed flush), which are redelivered and judged as redeliveries either way.
    if (at === this.lastSaved) return;
    const now = Date.now();
    if (!must && now - this.lastSavedAt < SAVE_EVERY_MS) return;
    const size = STATE_FORMAT.data.byteLength;
    const bytes = Buffer.allocUnsafe(this.states.size * size);
    const devices: string[] = [];
    for (const [id, st] of this.states) {
      bytes.set(new Uint8Array(st.data.buffer, st.data.byteOffset, size), devices.length * size);
      devices.push(id);
    }
    const head: Omit<QcSnapshotFile, 'data'> = {
      v: 1,
      savedAt: now,
      position,
      state: STATE_FORMAT.v,
      endian: endianness(),
      devices,
    };
    // base64 needs no JSON escaping: spliced in rather than scanned by JSON.stringify (~5 ms per 3 MB).
    const text = `${JSON.stringify(head).slice(0, -1)},"data":"${bytes.toString('base64')}"}`;
    const tmp = path.join(this.dir, QC_STATE_TMP_FILE);
    const fd = fs.openSync(tmp, 'w');
    try {
      fs.writeSync(fd, text);
      if (this.durable) fs.fdatasyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, path.join(this.dir, QC_STATE_FILE));
    if (this.durable) fsyncDirSync(this.dir);
    this.lastSaved = at;
    this.lastSavedAt = now;
  }

  /** Load the saved states and replay the spool records after them. Call after the spool started, before intake. */
  restore(): QcRestoreResult {
    const saved = this.read();
    const size = STATE_FORMAT.data.byteLength;
    const bytes = saved ? Buffer.from(saved.data, 'base64') : Buffer.alloc(0);
    const ids = saved?.devices ?? [];
    for (const [i, id] of ids.entries()) {
      const data = new Float64Array(STATE_FORMAT.data.length);
      new Uint8Array(data.buffer).set(bytes.subarray(i * size, (i + 1) * size));
      this.states.set(id, { v: STATE_FORMAT.v, data });
    }
    const devices = ids.length;
    const replayed = this.replay(saved?.position);
    this.restored = true;
    this.log.info({ devices, replayed, savedAt: saved?.savedAt }, 'qc state restored');
    return { devices, replayed };
  }

  private read(): QcSnapshotFile | undefined {
    let text: string;
    try {
      text = fs.readFileSync(path.join(this.dir, QC_STATE_FILE), 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
    try {
      const f = JSON.parse(text) as QcSnapshotFile;
      const p = f?.position;
      const ok =
        f?.v === 1 &&
        Number.isSafeInteger(p?.segment) &&
        Number.isSafeInteger(p?.offset) &&
        Array.isArray(f.devices) &&
        f.devices.every((id) => typeof id === 'string') &&
        typeof f.data === 'string';
      if (!ok) throw new Error('not a QC state file of version 1');
      // Another state layout (a QC engine upgrade) or byte order: rebuild from the spool instead.
      if (f.state !== STATE_FORMAT.v || f.endian !== endianness())
        throw new Error(
          `QC state of format ${f.state} (${f.endian}); this gateway reads ${STATE_FORMAT.v} (${endianness()})`,
        );
      if (Buffer.byteLength(f.data, 'base64') !== f.devices.length * STATE_FORMAT.data.byteLength)
        throw new Error('data does not match the devices listed');
      return f;
    } catch (err) {
      this.log.warn({ err: String(err) }, 'qc state: file unreadable; rebuilding from the spool');
      return undefined;
    }
  }

  /** Run every spool record from `from` on (all of them without it) through QC; returns how many. */
  private replay(from: Checkpoint | undefined): number {
    const segments = listSegments(this.dir);
    let start = 0;
    if (from) {
      const at = segments.find((s) => s.seq === from.segment);
      if (at && from.offset <= at.size) start = from.offset;
      else if (at || segments.some((s) => s.seq < from.segment)) {
        this.log.warn({ position: from }, 'qc state: saved position not in the spool; replaying its segment');
      }
    }
    let replayed = 0;
    for (const seg of segments) {
      if (from && seg.seq < from.segment) continue;
      const offset = from && seg.seq === from.segment ? start : 0;
      replayed += this.replaySegment(segmentPath(this.dir, seg.seq), offset, seg.size);
    }
    return replayed;
  }

  private replaySegment(file: string, offset: number, size: number): number {
    const fd = fs.openSync(file, 'r');
    const buf = Buffer.allocUnsafe(CHUNK);
    const utf8 = new StringDecoder('utf8'); // a character cut by a chunk boundary stays whole
    let carry = '';
    let n = 0;
    try {
      for (let pos = offset; pos < size; ) {
        const got = fs.readSync(fd, buf, 0, Math.min(CHUNK, size - pos), pos);
        if (got <= 0) break;
        pos += got;
        const lines = (carry + utf8.write(buf.subarray(0, got))).split('\n');
        carry = lines.pop() ?? '';
        for (const line of lines) if (line && this.apply(line)) n++;
      }
    } finally {
      fs.closeSync(fd);
    }
    return n;
  }

  private apply(line: string): boolean {
    let r: { device?: unknown; ts?: unknown; seq?: number; values?: unknown; receivedAt?: unknown };
    try {
      r = JSON.parse(line);
    } catch {
      return false; // the writer quarantines it; nothing to learn here
    }
    if (typeof r.device !== 'string' || typeof r.ts !== 'number' || typeof r.values !== 'object' || !r.values)
      return false;
    let state = this.states.get(r.device);
    if (!state) {
      state = createQcState();
      this.states.set(r.device, state);
    }
    // Judged with the gateway's config whatever topic the reading came on: the configs differ only
    // in lateness (`stale`, not judged on the history topic), which never touches the state.
    const receivedAt = typeof r.receivedAt === 'number' ? r.receivedAt : r.ts;
    applyQc(state, { ts: r.ts, seq: r.seq, values: r.values as Record<string, number> }, receivedAt, this.config);
    return true;
  }
}
