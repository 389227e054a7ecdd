import { readingsBatchJson } from '@cnx/protocol';
import type { Committed } from './sink';

/** How the gateway publishes on the bus (the MQTT connection: mqtt-connection.ts). */
export interface BusPublisher {
  publish(topic: string, payload: string): void;
}

/** A bus batch is published early once its records reach this many characters (~256 KB). */
const BUS_MAX_CHARS = 256 * 1024;

/**
 * Publishes committed readings on the bus (`cnx/v1/{city}/readings`, ReadingsBatchSchema): it
 * listens for the sink's "committed" and sends what came in `batchMs` as one message, in order.
 * The bus carries batches: one QoS 1 publish per reading cost more CPU than all the rest of ingest
 * (docs/performance.md). Readings reach the bus only after they are durable.
 */
export class Republisher {
  private pending: string[] = [];
  private chars = 0;
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly topic: string,
    private readonly bus: BusPublisher,
    /** How long committed readings wait to go together (0: each commit is its own message). */
    private readonly batchMs = 25,
  ) {}

  /** The sink's listener. */
  readonly onCommitted = (c: Committed): void => {
    if (this.batchMs <= 0) {
      this.bus.publish(this.topic, readingsBatchJson(c.records));
      return;
    }
    for (const r of c.records) {
      this.pending.push(r);
      this.chars += r.length;
    }
    if (this.chars >= BUS_MAX_CHARS) this.flush();
    else this.timer ??= setTimeout(() => this.flush(), this.batchMs);
  };

  /** Publish what waits now (also before the connection closes). */
  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.pending.length === 0) return;
    const records = this.pending;
    this.pending = [];
    this.chars = 0;
    this.bus.publish(this.topic, readingsBatchJson(records));
  }
}
