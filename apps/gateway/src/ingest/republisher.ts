import { readingsBatchJson } from '@cnx/protocol';
import type { Committed } from './sink';

/** How the gateway publishes on the bus (the MQTT connection: mqtt-connection.ts). */
export interface BusPublisher {
  /**
   * `done` is called once the message is finished with: true when the broker acknowledged it (QoS 1)
   * or it was sent (QoS 0), false when it was given up on (dropped and counted).
   */
  publish(topic: string, payload: string, done?: (published: boolean) => void): void;
}

/** Records after the spool's checkpoint at start, to publish again (Spool.replayReader). */
export interface ReplaySource {
  read(maxRecords: number, maxBytes: number): { records: string[]; count: number } | undefined;
  close(): void;
}

/** A bus batch is published early once its records reach this many characters (~256 KB). */
const BUS_MAX_CHARS = 256 * 1024;
/** Replay batches in flight at once: the replay never crowds out live readings. */
const REPLAY_INFLIGHT = 8;

/**
 * Publishes committed readings on the bus (`cnx/v1/{city}/readings`, ReadingsBatchSchema): it
 * listens for the sink's "committed" and sends what came in `batchMs` as one message, in order.
 * The bus carries batches: one QoS 1 publish per reading cost more CPU than all the rest of ingest
 * (docs/performance.md). Readings reach the bus only after they are durable.
 *
 * It also tells the spool how far the bus is done (`onDone(index)`: every record before `index`
 * is acknowledged by the broker or given up on), so the spool's checkpoint never passes a record
 * still waiting in a batch or in flight; after a crash those are replayed (`replay`) at the start.
 */
export class Republisher {
  private pending: string[] = [];
  private chars = 0;
  private timer?: NodeJS.Timeout;
  /** Spool index of pending[0]; the index after the last record taken. */
  private pendingStart = 0;
  private nextIndex = 0;
  /** Published batches not finished with: first index -> end index. */
  private readonly inflight = new Map<number, number>();
  private doneIndex = 0;
  private closing = false;
  private replaying?: { source: ReplaySource; next: number; end: number; inflight: number; closed: boolean };

  constructor(
    private readonly topic: string,
    private readonly bus: BusPublisher,
    /** How long committed readings wait to go together (0: each commit is its own message). */
    private readonly batchMs = 25,
    /** Every record before `index` is done with on the bus (Spool.busPublished). */
    private readonly onDone?: (index: number) => void,
  ) {}

  /** The sink's listener. */
  readonly onCommitted = (c: Committed): void => {
    if (this.pending.length === 0) this.pendingStart = c.firstIndex;
    this.nextIndex = c.firstIndex + c.records.length;
    if (this.batchMs <= 0) {
      this.send(c.firstIndex, c.records);
      return;
    }
    for (const r of c.records) {
      this.pending.push(r);
      this.chars += r.length;
    }
    if (this.chars >= BUS_MAX_CHARS) this.flush();
    else this.timer ??= setTimeout(() => this.flush(), this.batchMs);
  };

  /**
   * Publish again the `count` records after the spool's checkpoint (indices 0 … count-1 of this
   * session), a few batches at a time beside live readings. Call before any commit.
   */
  replay(source: ReplaySource, count: number): void {
    if (count <= 0) {
      source.close();
      return;
    }
    this.nextIndex = Math.max(this.nextIndex, count);
    this.replaying = { source, next: 0, end: count, inflight: 0, closed: false };
    this.pump();
  }

  /** Replayed records not yet published (0 once the replay is done). */
  get replayLeft(): number {
    return this.replaying ? this.replaying.end - this.replaying.next : 0;
  }

  private pump(): void {
    const r = this.replaying;
    if (!r) return;
    while (r.inflight < REPLAY_INFLIGHT && r.next < r.end) {
      const got = r.source.read(r.end - r.next, BUS_MAX_CHARS);
      if (!got) {
        r.next = r.end; // the spool ended early: nothing more to replay
        break;
      }
      const first = r.next;
      r.next += got.count;
      r.inflight++;
      this.send(first, got.records, () => {
        r.inflight--;
        setImmediate(() => this.pump()); // never re-entered from inside a publish
      });
    }
    if (r.next >= r.end && !r.closed) {
      r.closed = true;
      r.source.close();
    }
    if (r.closed && r.inflight === 0) this.replaying = undefined;
    this.settle();
  }

  /** Publish what waits now (also before the connection closes). */
  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.pending.length === 0) return;
    const records = this.pending;
    this.pending = [];
    this.chars = 0;
    this.send(this.pendingStart, records);
  }

  /**
   * Publish what waits and stop giving up: a batch the connection fails from now on (it is closing)
   * stays unfinished, so the spool keeps it after its checkpoint and the next start publishes it.
   */
  close(): void {
    this.closing = true;
    this.flush();
  }

  private send(first: number, records: readonly string[], then?: () => void): void {
    this.inflight.set(first, first + records.length);
    this.bus.publish(this.topic, readingsBatchJson(records), (published) => {
      if (!published && this.closing) return;
      this.inflight.delete(first);
      then?.();
      this.settle();
    });
  }

  /** Report the first index the bus is not done with. */
  private settle(): void {
    if (!this.onDone) return;
    let low = this.pending.length > 0 ? this.pendingStart : this.nextIndex;
    if (this.replaying && this.replaying.next < low) low = this.replaying.next;
    for (const first of this.inflight.keys()) if (first < low) low = first;
    if (low > this.doneIndex) {
      this.doneIndex = low;
      this.onDone(low);
    }
  }
}
