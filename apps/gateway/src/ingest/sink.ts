import type { Reading } from '@cnx/domain';
import type { Logger } from '@cnx/runtime';
import type { GatewayStats } from '../metrics';
import type { Accepted } from './step';

/** What the sink needs from the spool (spool/spool.ts). */
export interface DurableLog {
  /** True while appends are refused (spool at its bound, or the disk full). */
  readonly full: boolean;
  /** The index the next appended record will have (the writer matches readings by it). */
  readonly nextIndex: number;
  /** All records with one write(2), in the kernel when it returns true; false: refused (full). */
  appendMany(records: readonly string[]): boolean;
}

/** Readings just made durable: their spool indices start at `firstIndex`. */
export interface Committed {
  firstIndex: number;
  records: readonly string[];
  readings: readonly Reading[];
  /** When they were committed, epoch ms. */
  at: number;
}

export type CommittedListener = (c: Committed) => void;

/**
 * The durable sink: commits accepted readings to the spool, synchronously, one message at a time,
 * and only then tells its listeners (the bus republisher, the store writer's in-memory window).
 * A transport acknowledges a message only when `commit` returned true (MQTT: the PUBACK; HTTP push:
 * the 200; Modbus: the poll counts as done). Each transport commits its own messages: nothing is
 * staged between transports, so one transport's failure can never drop another's readings.
 */
export class SpoolSink {
  private readonly listeners: CommittedListener[] = [];

  constructor(
    private readonly log: DurableLog,
    private readonly stats: GatewayStats,
    private readonly logger: Logger,
  ) {}

  /** No room (back-pressure): transports stop taking messages instead of judging them. */
  get full(): boolean {
    return this.log.full;
  }

  onCommitted(listener: CommittedListener): void {
    this.listeners.push(listener);
  }

  /**
   * Make the readings durable (a write(2) into the kernel; fdatasync as the spool's policy says).
   * False: not committed (spool full, disk full, an I/O error): do NOT acknowledge, the sender
   * delivers again.
   */
  commit(accepted: Accepted, at = Date.now()): boolean {
    const { records, readings } = accepted;
    const firstIndex = this.log.nextIndex;
    try {
      if (!this.log.appendMany(records)) return false;
    } catch (error) {
      this.logger.error({ err: error }, 'spool write failed; not acknowledging');
      return false;
    }
    const n = records.length;
    this.stats.spooled += n;
    this.stats.accepted += n;
    if (accepted.history) this.stats.historyAccepted += n;
    const committed: Committed = { firstIndex, records, readings, at };
    for (const listener of this.listeners) listener(committed);
    return true;
  }
}
