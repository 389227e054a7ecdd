import type { Checkpoint } from './checkpoint';

/** The spool's options and the types it hands out (the Spool itself: spool.ts). */

export interface SpoolLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface SpoolOptions {
  dir: string;
  /** Total bytes on disk before the spool reports full (default 512 MiB). */
  maxBytes: number;
  /** Segment file size at which a new segment starts (default 16 MiB). */
  segmentBytes: number;
  /** 'interval': fdatasync at most every fsyncIntervalMs (default); 'always': before append returns; 'never'. */
  fsync: 'always' | 'interval' | 'never';
  fsyncIntervalMs: number;
  /**
   * Write the checkpoint file at most this often (0: at every commit, the default). A commit that
   * frees segments writes it at once (segments are only deleted behind a checkpoint on disk), and
   * stop() writes the last one. After a crash the reader restarts from the last checkpoint written,
   * so at most this much committed data is delivered again: harmless, store writes are idempotent.
   * The gateway uses 1000 ms (GATEWAY_SPOOL_CHECKPOINT_MS): a checkpoint write + rename per writer
   * batch was ~3 % of its CPU at 10k readings/s.
   */
  checkpointIntervalMs: number;
  logger?: SpoolLogger;
  /**
   * Called before every checkpoint file write (and at stop) with the append end, to persist state
   * kept with the checkpoint (the gateway's QC state: qc-snapshot.ts). `must`: the checkpoint frees
   * segments (records before it are deleted) or the spool stops. If it throws, the checkpoint is not
   * written and the commit fails as a whole.
   */
  beforeCheckpoint?: (appendEnd: Checkpoint, must: boolean) => void;
  /**
   * Hold the checkpoint back until the bus is done with the records too (`busPublished`), so what a
   * crash kept off the bus is replayed at the next start (`replayReader`). Default false.
   */
  busGate?: boolean;
}

/** Options accepted by the constructor: everything but `dir` has a default. */
export type SpoolInit = Pick<SpoolOptions, 'dir'> & Partial<Omit<SpoolOptions, 'dir'>>;

export const SPOOL_DEFAULTS = {
  maxBytes: 512 * 1024 * 1024,
  segmentBytes: 16 * 1024 * 1024,
  fsync: 'interval',
  fsyncIntervalMs: 200,
  checkpointIntervalMs: 0,
} as const satisfies Omit<SpoolOptions, 'dir'>;

/**
 * Opaque position handed out with a batch; pass it back to `commit()` unchanged. Only valid for the
 * `start()`…`stop()` session of the spool instance that produced it.
 */
export interface SpoolPosition {
  readonly segment: number;
  readonly offset: number;
  /** Records between the session's initial checkpoint and this position. */
  readonly index: number;
  readonly session: number;
}

export interface SpoolBatch {
  /** The records' text; empty when read with `decode` false. */
  records: string[];
  /** How many records the batch spans. */
  count: number;
  /** opaque position to commit */
  end: SpoolPosition;
}

export interface SpoolStats {
  /** Bytes of all segment files on disk (committed-but-not-yet-deleted records included). */
  bytes: number;
  segments: number;
  /** Appended but not committed; recomputed from disk on start. */
  pendingRecords: number;
  full: boolean;
  /** Records appended since start. */
  appended: number;
  /** Records committed since start. */
  committed: number;
  /** Why the last checkpoint write failed (the gateway's own disk); absent once one succeeds. */
  checkpointError?: string;
}
