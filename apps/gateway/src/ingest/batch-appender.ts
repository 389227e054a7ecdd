import type { Reading } from '@cnx/domain';
import type { SpoolAppender } from './pipeline';

/** Staged records are flushed at the latest this long after the first of them was staged. */
const AUTO_FLUSH_MS = 20;

/** What the batch appender needs from the spool. */
export interface SpoolSink {
  readonly full: boolean;
  readonly nextIndex: number;
  appendMany(records: readonly string[]): boolean;
}

/** Told about every batch that reached the spool: its first record's index and the readings. */
export type FlushListener = (firstIndex: number, records: readonly string[], readings: readonly Reading[]) => void;

/**
 * Stages spool records and writes everything staged with ONE write(2) when `flush()` is called.
 *
 * Why: appending per message costs a system call per reading. Transports stage, then acknowledge
 * only after `flush()` returned true (the MQTT session acknowledges after its group commit's flush;
 * HTTP push and Modbus flush before answering).
 * A flush is also scheduled automatically, so nothing staged can linger.
 */
export class BatchAppender implements SpoolAppender {
  private staged: string[] = [];
  private stagedReadings: Reading[] = [];
  private scheduled = false;
  private readonly listeners: FlushListener[] = [];
  private failedFlushes = 0;

  constructor(private readonly spool: SpoolSink) {}

  /**
   * How many flushes have failed so far. A flush writes what EVERY transport staged, so a transport
   * that staged during a turn must also check that no flush failed since it started staging:
   * otherwise another transport's failed flush could have dropped its records (see mqtt.adapter.ts).
   */
  get failures(): number {
    return this.failedFlushes;
  }

  /** Called after each successful flush (the writer's in-memory cache, the bus publisher). */
  onFlush(listener: FlushListener): void {
    this.listeners.push(listener);
  }

  get full(): boolean {
    return this.spool.full;
  }

  appendMany(records: string[], readings: Reading[]): boolean {
    for (const r of records) this.staged.push(r);
    for (const r of readings) this.stagedReadings.push(r);
    if (!this.scheduled) {
      // A safety net only: transports flush themselves before acknowledging (the MQTT session's group
      // commit within a few ms, HTTP push and Modbus at once), so nothing staged can linger.
      this.scheduled = true;
      setTimeout(() => {
        this.scheduled = false;
        this.flush();
      }, AUTO_FLUSH_MS);
    }
    return true;
  }

  /**
   * Write all staged records. False if the spool refused them (full, or the disk is full): the
   * staged records are dropped here, and the caller must NOT acknowledge the messages they came
   * from (the sender will deliver them again).
   */
  flush(): boolean {
    if (this.staged.length === 0) return true;
    const batch = this.staged;
    const readings = this.stagedReadings;
    this.staged = [];
    this.stagedReadings = [];
    const firstIndex = this.spool.nextIndex;
    if (!this.spool.appendMany(batch)) {
      this.failedFlushes++;
      return false;
    }
    for (const l of this.listeners) l(firstIndex, batch, readings);
    return true;
  }
}
