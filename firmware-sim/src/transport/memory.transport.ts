import type { DeviceLink, LinkFactory, LinkOptions, OutMessage } from './types';

export interface MemoryMessage extends OutMessage {
  clientId: string;
  /** true when the fake broker published it as a last will. */
  will: boolean;
}

/**
 * An in-process fake broker for unit tests: records every message (including last wills fired by
 * drop()), keeps retained messages, acks synchronously-after-a-microtask. No sockets, no timers, so
 * fault behaviour can be asserted step by step.
 */
export interface MemoryBroker {
  readonly factory: LinkFactory;
  readonly messages: MemoryMessage[];
  readonly retained: Map<string, MemoryMessage>;
  /** Number of CONNECTs per client id. */
  readonly connects: Map<string, number>;
  /** Make the next connect() of this client fail (tests of start-up errors). */
  refuse(clientId: string): void;
}

export function createMemoryBroker(): MemoryBroker {
  const messages: MemoryMessage[] = [];
  const retained = new Map<string, MemoryMessage>();
  const connects = new Map<string, number>();
  const refused = new Set<string>();

  const deliver = (m: MemoryMessage) => {
    messages.push(m);
    if (m.retain) retained.set(m.topic, m);
  };

  class MemoryLink implements DeviceLink {
    connected = false;
    constructor(private readonly opts: LinkOptions) {}

    private up(): void {
      this.connected = true;
      connects.set(this.opts.clientId, (connects.get(this.opts.clientId) ?? 0) + 1);
      this.opts.handlers.onConnect();
    }

    async connect(): Promise<void> {
      await Promise.resolve();
      if (refused.delete(this.opts.clientId)) throw new Error(`${this.opts.clientId}: connection refused`);
      this.up();
    }

    async publish(msg: OutMessage): Promise<void> {
      if (!this.connected) throw new Error('not connected');
      deliver({ ...msg, clientId: this.opts.clientId, will: false });
      await Promise.resolve();
    }

    drop(): void {
      if (!this.connected) return;
      this.connected = false;
      deliver({ ...this.opts.will, clientId: this.opts.clientId, will: true });
      this.opts.handlers.onClose();
    }

    reconnect(): void {
      if (this.connected) return;
      queueMicrotask(() => {
        if (!this.connected) this.up();
      });
    }

    async close(last?: OutMessage): Promise<void> {
      if (!this.connected) return;
      if (last) await this.publish(last);
      this.connected = false;
      this.opts.handlers.onClose();
    }
  }

  return {
    factory: (opts) => new MemoryLink(opts),
    messages,
    retained,
    connects,
    refuse: (id) => refused.add(id),
  };
}
