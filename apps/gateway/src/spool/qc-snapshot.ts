/**
 * Every device's QC state (spike baseline, stuck run, recent sequence numbers), kept with the spool's
 * checkpoint so that a gateway restart does not forget it: a reading redelivered after the restart
 * gets the flags it got the first time, and a stuck run or a spike baseline carries on.
 *
 * On disk: `<spool dir>/qc-state.json` =
 * `{"v":1,"savedAt":<ms>,"position":{"segment":N,"offset":B},"devices":{"<id>":<qcStateToJson>}}`,
 * written atomically (temp file + rename; fdatasync and a directory fsync with GATEWAY_SPOOL_FSYNC
 * =always, like the checkpoint) just before every checkpoint write (the spool's beforeCheckpoint
 * hook: at most every GATEWAY_SPOOL_CHECKPOINT_MS, when segments are freed, and at stop). The
 * state is serialised only then, never per reading. `position` is the spool's append end at that
 * moment: the state covers every record before it. It is never behind the checkpoint, so the
 * records after it are still on disk: at start, after the spool recovered and before intake
 * begins, the state is loaded and those records (appended after the save, before a crash) are run
 * through QC again, in order, to bring it up to date. Running a reading the state already holds
 * through QC again changes nothing (its seq is a redelivery; the same or an older time leaves the
 * spike/stuck state alone), so a state saved with a few readings not yet in the spool is fine.
 * Missing or unreadable: every device starts from the records still in the spool.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import {
  applyQc,
  createQcState,
  type DeviceQcState,
  type QcConfig,
  type QcStateJson,
  qcStateFromJson,
  qcStateToJson,
} from '@cnx/domain';
import type { Checkpoint } from './checkpoint';
import { fsyncDirSync, listSegments, segmentPath } from './segment-files';
import type { SpoolLogger } from './spool-options';

export const QC_STATE_FILE = 'qc-state.json';
const QC_STATE_TMP_FILE = 'qc-state.json.tmp';
const CHUNK = 1024 * 1024;

interface QcSnapshotFile {
  v: 1;
  savedAt: number;
  position: Checkpoint;
  devices: Record<string, QcStateJson>;
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

  /** Write the states as of spool append end `position` (the spool's beforeCheckpoint hook). Throws on I/O errors. */
  save(position: Checkpoint): void {
    // Before restore() the map is empty: never overwrite a saved state with that.
    if (!this.restored) return;
    const at = `${position.segment}:${position.offset}`;
    // Nothing appended since the last save: the states only changed for readings not spooled (a
    // failed flush), which are redelivered and judged as redeliveries either way.
    if (at === this.lastSaved) return;
    const devices: Record<string, QcStateJson> = {};
    for (const [id, state] of this.states) devices[id] = qcStateToJson(state);
    const file: QcSnapshotFile = { v: 1, savedAt: Date.now(), position, devices };
    const tmp = path.join(this.dir, QC_STATE_TMP_FILE);
    const fd = fs.openSync(tmp, 'w');
    try {
      fs.writeSync(fd, JSON.stringify(file));
      if (this.durable) fs.fdatasyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, path.join(this.dir, QC_STATE_FILE));
    if (this.durable) fsyncDirSync(this.dir);
    this.lastSaved = at;
  }

  /** Load the saved states and replay the spool records after them. Call after the spool started, before intake. */
  restore(): QcRestoreResult {
    const saved = this.read();
    let devices = 0;
    for (const [id, json] of Object.entries(saved?.devices ?? {})) {
      try {
        this.states.set(id, qcStateFromJson(json));
        devices++;
      } catch (err) {
        this.log.warn({ device: id, err: String(err) }, 'qc state: a device state is unreadable; it starts afresh');
      }
    }
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
      if (f?.v !== 1 || !Number.isSafeInteger(p?.segment) || !Number.isSafeInteger(p?.offset) || !f.devices)
        throw new Error('not a QC state file of version 1');
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
    const receivedAt = typeof r.receivedAt === 'number' ? r.receivedAt : r.ts;
    applyQc(state, { ts: r.ts, seq: r.seq, values: r.values as Record<string, number> }, receivedAt, this.config);
    return true;
  }
}
