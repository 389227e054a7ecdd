import type { Reading } from '@cnx/domain';
import type { Logger } from '@cnx/runtime';
import type { ReadingStore } from '@cnx/store';
import type { Committed } from './ingest/sink';
import type { GatewayMetrics, GatewayStats } from './metrics';
import { QuarantineFiles } from './quarantine';
import { readingFromRecord } from './spool/records';
import type { Spool, SpoolBatch } from './spool/spool';
import { refusesReadings } from './store-errors';

/**
 * At most this many readings are kept in memory for the writer: ten of its 5000-reading batches.
 * Only a writer that is behind (a saturated machine, the store slow) fills it; beyond it the writer
 * reads back and parses the spool, which costs more CPU per reading just when there is none to
 * spare (32k readings/s: 22.7 against 28.7 µs with 10,000).
 */
const HOT_MAX = 50_000;

export interface WriterOptions {
  batchSize: number;
  flushIntervalMs: number;
  maxBackoffMs: number;
  /** Where readings the store refuses as invalid are kept (never silently dropped). */
  quarantineDir: string;
}

/** Whether the store can be written to, and who restarts it (StoreStarter); absent: always ready. */
export interface StoreLifecycle {
  readonly started: boolean;
  /** A write failed with `error`: restart the store if that error says it is not usable as started. */
  lost(error: unknown): void;
}

export interface WriterStatus {
  /** The writer is waiting for the store to start. */
  waitingForStore: boolean;
  /** The last write or spool operation failed; retrying after a pause. */
  backingOff: boolean;
  retryInMs?: number;
  lastError?: string;
  /** The last failure was the gateway's own disk (spool checkpoint, quarantine file), not the store. */
  filesystemError: boolean;
}

/**
 * Drains the spool into the store in batches. The checkpoint advances only after the store
 * confirmed a batch, so a crash or an outage replays from the last confirmed batch (writes are
 * idempotent). Nothing is written until the store is started (StoreLifecycle). Failures back off
 * exponentially and retry the same batch forever, except readings the store refuses as invalid
 * (store-errors.ts): the batch is halved until the refused readings are alone, and those go to a
 * quarantine file. A filesystem error (checkpoint, quarantine file, reading the spool) is logged
 * and backed off like a store failure: the spool advances only once everything succeeded.
 */
export class StoreWriter {
  /**
   * Readings still in memory, in spool order: hot[i] is the record with spool index hotStart + i.
   * When the batch read back from the spool lies in this window (the usual case: the writer keeps
   * up), the objects are used instead of parsing the lines again. Bounded: beyond HOT_MAX (store
   * down, writer behind) the oldest are dropped and read back from disk as usual.
   */
  private hot: (Reading | undefined)[] = [];
  /** Receive (flush) time of each hot reading, for the ingest-to-store lag histogram. */
  private hotAt: number[] = [];
  private hotHead = 0;
  private hotStart = 0;
  private timer?: NodeJS.Timeout;
  private running = false;
  private stopped = false;
  private backoffMs = 0;
  private inFlight?: Promise<void>;
  private lastError?: string;
  private filesystemError = false;
  /**
   * Records per batch now: batchSize, halved while isolating readings the store refuses, doubled
   * again with every batch it takes.
   */
  private cap: number;
  private readonly quarantineFiles: QuarantineFiles;

  constructor(
    private readonly spool: Spool,
    private readonly store: ReadingStore,
    private readonly opts: WriterOptions,
    private readonly stats: GatewayStats,
    private readonly metrics: GatewayMetrics,
    private readonly logger: Logger,
    private readonly lifecycle?: StoreLifecycle,
  ) {
    this.cap = opts.batchSize;
    this.quarantineFiles = new QuarantineFiles(opts.quarantineDir);
  }

  /** The sink's listener: the readings of records just committed to the spool, kept for the writer. */
  readonly onCommitted = (c: Committed): void => {
    const { firstIndex, readings, at } = c;
    if (this.hot.length - this.hotHead === 0 || firstIndex !== this.hotStart + this.hot.length - this.hotHead) {
      this.restartHot(firstIndex);
    }
    for (let i = 0; i < readings.length; i++) {
      this.hot.push(readings[i]);
      this.hotAt.push(at);
    }
    const excess = this.hot.length - this.hotHead - HOT_MAX;
    if (excess > 0) this.dropHot(excess);
  };

  private restartHot(start: number): void {
    this.hot = [];
    this.hotAt = [];
    this.hotHead = 0;
    this.hotStart = start;
  }

  private dropHot(n: number): void {
    // Clear the slots so the dropped readings can be collected before the array is compacted.
    for (let i = this.hotHead, end = this.hotHead + n; i < end; i++) this.hot[i] = undefined;
    this.hotHead += n;
    this.hotStart += n;
    if (this.hotHead > 4096 && this.hotHead * 2 > this.hot.length) {
      this.hot = this.hot.slice(this.hotHead);
      this.hotAt = this.hotAt.slice(this.hotHead);
      this.hotHead = 0;
    }
  }

  /** How many consecutive readings from spool index `from` on are still in memory. */
  private hotFrom(from: number): number {
    const i = from - this.hotStart;
    const have = this.hot.length - this.hotHead;
    return i >= 0 && i < have ? have - i : 0;
  }

  /** The entries for spool indices [from, from + n) if all still in memory. */
  private fromHot(from: number, n: number): Reading[] | undefined {
    if (this.hotFrom(from) < n) return undefined;
    const start = this.hotHead + from - this.hotStart;
    return this.hot.slice(start, start + n) as Reading[];
  }

  start(): void {
    this.stopped = false;
    this.schedule(0);
  }

  /** Status for the health endpoint. */
  status(): WriterStatus {
    const s: WriterStatus = {
      waitingForStore: !(this.lifecycle?.started ?? true),
      backingOff: this.backoffMs > 0,
      filesystemError: this.backoffMs > 0 && this.filesystemError,
    };
    if (this.backoffMs > 0) s.retryInMs = this.backoffMs;
    if (this.lastError !== undefined) s.lastError = this.lastError;
    return s;
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.inFlight = this.drain().finally(() => {
        this.inFlight = undefined;
      });
    }, delayMs);
  }

  /** Write batches until the spool is caught up or something fails; then reschedule. */
  private async drain(): Promise<void> {
    if (this.running) return;
    this.running = true;
    let next = this.opts.flushIntervalMs;
    try {
      for (;;) {
        if (this.stopped) return;
        // Not started (yet, or again): nothing is read; the spool keeps everything meanwhile.
        if (this.lifecycle && !this.lifecycle.started) break;
        // Records the writer still holds as objects are only stepped over on disk, not decoded.
        const hot = this.hotFrom(this.spool.readIndex);
        const cap = this.cap;
        const batch =
          hot > 0
            ? this.spool.readBatch(Math.min(hot, cap), Number.POSITIVE_INFINITY, false)
            : this.spool.readBatch(cap);
        if (!batch) break;
        const outcome = await this.writeBatch(batch);
        if (outcome === 'retry') {
          next = this.backoffMs;
          break;
        }
        if (outcome === 'written' && batch.count < cap) break;
      }
    } catch (error) {
      // The gateway's own disk (checkpoint or quarantine write, reading the spool): nothing was
      // committed, so the batch is read and written again after a pause (writes are idempotent).
      next = this.failed(error, true);
      this.logger.error(
        { err: error, retryInMs: next },
        'writer: filesystem error; the spool is kept as it is, will retry',
      );
      try {
        this.spool.rewind();
      } catch (rewindError) {
        this.logger.error({ err: rewindError }, 'writer: could not rewind the spool reader');
      }
    } finally {
      this.running = false;
      this.schedule(next);
    }
  }

  /** Back off after a failure; returns the pause. */
  private failed(error: unknown, filesystem: boolean): number {
    this.lastError = (error as Error)?.message ?? String(error);
    this.filesystemError = filesystem;
    const retryAfter = (error as { retryAfterMs?: number }).retryAfterMs ?? 0;
    this.backoffMs = Math.min(this.opts.maxBackoffMs, Math.max(250, this.backoffMs * 2, retryAfter));
    return this.backoffMs;
  }

  /**
   * 'written': the store took the batch and the spool advanced past it; 'split': the store refused
   * readings in it, try again at once with a smaller batch (or the refused reading was quarantined);
   * 'retry': back off and retry the same batch.
   */
  private async writeBatch(batch: SpoolBatch): Promise<'written' | 'split' | 'retry'> {
    const n = batch.count;
    const firstIndex = batch.end.index - n;
    // Usually the readings are still in memory (the writer keeps up): no parsing back.
    let readings: Reading[] | undefined = this.fromHot(firstIndex, n);
    let oldest = this.oldestReceived(firstIndex);
    // Let go of the objects now: the store encodes them before its first await, and objects held
    // across the write's round trip survive two scavenges and get promoted (old-space growth, RSS;
    // docs/performance.md). A retry reads the spool lines again.
    const consumed = batch.end.index - this.hotStart;
    if (consumed > 0) this.dropHot(Math.min(consumed, this.hot.length - this.hotHead));
    const end = this.metrics.writeDuration.startTimer();
    try {
      if (!readings) {
        if (batch.records.length !== n) throw new Error('writer: undecoded spool batch is no longer in memory');
        readings = new Array<Reading>(n);
        oldest = Number.POSITIVE_INFINITY;
        for (let i = 0; i < n; i++) {
          const { reading, receivedAt } = readingFromRecord(batch.records[i] as string);
          if (receivedAt < oldest) oldest = receivedAt;
          readings[i] = reading;
        }
      }
      // Encoding for the backend (line protocol, SQL rows) is the store adapter's business.
      const pending = this.store.write(readings);
      readings = undefined;
      await pending;
      end();
    } catch (error) {
      end();
      this.stats.storeErrors++;
      if (refusesReadings(error)) return this.refused(batch, error as Error);
      this.lifecycle?.lost(error);
      this.spool.rewind();
      const retryInMs = this.failed(error, false);
      this.logger.warn({ err: error, batch: batch.count, retryInMs }, 'store write failed, will retry');
      return 'retry';
    }
    this.spool.commit(batch.end);
    this.stats.written += n;
    this.metrics.ingestLag.observe((Date.now() - oldest) / 1000);
    if (this.backoffMs > 0) this.logger.info({}, 'store writes recovered');
    this.backoffMs = 0;
    this.lastError = undefined;
    this.filesystemError = false;
    this.cap = Math.min(this.opts.batchSize, this.cap * 2);
    return 'written';
  }

  /**
   * The store refused readings of the batch as invalid. More than one: halve the batch and try
   * again at once, so only the refused readings end up quarantined (those it took are committed
   * as usual). One: quarantine it.
   */
  private refused(batch: SpoolBatch, error: Error): 'split' {
    this.spool.rewind();
    if (batch.count > 1) {
      if (this.cap === this.opts.batchSize) {
        this.logger.warn(
          { err: error, batch: batch.count },
          'store refused readings in a batch; splitting it to find them',
        );
      }
      this.cap = Math.ceil(batch.count / 2);
      return 'split';
    }
    this.quarantine(batch, error);
    return 'split';
  }

  /** Receive time of the oldest reading in a batch from the hot window (for the lag histogram). */
  private oldestReceived(firstIndex: number): number {
    const i = firstIndex - this.hotStart;
    return i >= 0 && i < this.hot.length - this.hotHead ? (this.hotAt[this.hotHead + i] as number) : Date.now();
  }

  /** Keep a refused batch (after splitting: one reading) in a quarantine file, then advance past it. */
  private quarantine(batch: SpoolBatch, error: Error): void {
    // The reader was rewound to the batch: read the same records again as text.
    const again = this.spool.readBatch(batch.count);
    if (!again || again.count !== batch.count || again.end.index !== batch.end.index)
      throw new Error('writer: could not re-read a refused batch for quarantine');
    const file = this.quarantineFiles.append(again.records);
    this.spool.commit(again.end);
    this.stats.storeRejected += batch.count;
    this.logger.error(
      { err: error, file, readings: batch.count },
      'store refused a reading as invalid; quarantined (replay it once fixed)',
    );
  }

  /** Stop after the in-flight batch (its checkpoint is only advanced if it succeeded). */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.inFlight;
  }

  /** Wait until everything spooled so far is confirmed by the store; bounded by `timeoutMs`. */
  async flush(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (this.spool.stats().pendingRecords > 0) {
      if (Date.now() >= deadline) return false;
      await new Promise((r) => setTimeout(r, 20));
    }
    return true;
  }
}
