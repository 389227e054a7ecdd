import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import type { DeviceLink, LinkFactory, LinkOptions, OutMessage } from './types';

export interface MqttLinkConfig {
  url: string;
  username?: string;
  password?: string;
  /** Seconds; typical ESP32 firmware uses 30–60. */
  keepalive?: number;
  /** Auto-reconnect period after an unplanned loss (broker restart), ms. */
  reconnectPeriod?: number;
  connectTimeout?: number;
  /** Upper bound for close(): after it the socket is destroyed (a dead broker must not hang stop). */
  closeTimeoutMs?: number;
}

const withTimeout = <T>(p: Promise<T>, ms: number): Promise<T | undefined> =>
  new Promise((resolve, reject) => {
    const timer = setTimeout(() => resolve(undefined), ms);
    p.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (e) => {
        clearTimeout(timer);
        reject(e);
      },
    );
  });

/**
 * MQTT.js adapter. Each connection episode gets a fresh MqttClient: after a forced end() MQTT.js keeps
 * callbacks of in-flight QoS 1 messages that never fire, so reusing the client after drop() would leave
 * close() waiting for acks forever. We track our own pending publishes and reject them on drop().
 */
export function mqttLinkFactory(cfg: MqttLinkConfig): LinkFactory {
  return (opts) => new MqttLink(cfg, opts);
}

class MqttLink implements DeviceLink {
  private client: MqttClient | undefined;
  private readonly pending = new Set<(err: Error) => void>();

  constructor(
    private readonly cfg: MqttLinkConfig,
    private readonly opts: LinkOptions,
  ) {}

  get connected(): boolean {
    return this.client?.connected ?? false;
  }

  private open(): MqttClient {
    const { will } = this.opts;
    const options: IClientOptions = {
      clientId: this.opts.clientId,
      clean: true,
      protocolVersion: 4,
      keepalive: this.cfg.keepalive ?? 30,
      reconnectPeriod: this.cfg.reconnectPeriod ?? 1000,
      connectTimeout: this.cfg.connectTimeout ?? 10_000,
      queueQoSZero: false,
      will: { topic: will.topic, payload: Buffer.from(will.payload), qos: will.qos, retain: will.retain },
    };
    if (this.cfg.username !== undefined) options.username = this.cfg.username;
    if (this.cfg.password !== undefined) options.password = this.cfg.password;
    const client = mqtt.connect(this.cfg.url, options);
    client.on('connect', () => this.opts.handlers.onConnect());
    client.on('close', () => this.opts.handlers.onClose());
    client.on('error', (err) => this.opts.handlers.onError(err));
    this.client = client;
    return client;
  }

  connect(): Promise<void> {
    const client = this.open();
    const timeoutMs = (this.cfg.connectTimeout ?? 10_000) + 1000;
    return new Promise((resolve, reject) => {
      const done = (err?: Error) => {
        clearTimeout(timer);
        client.off('connect', onConnect);
        client.off('error', onError);
        if (!err) return resolve();
        client.end(true);
        if (this.client === client) this.client = undefined;
        reject(new Error(`${this.opts.clientId}: cannot connect to ${this.cfg.url}: ${err.message}`));
      };
      const onConnect = () => done();
      const onError = (err: Error) => done(err);
      // MQTT.js retries silently when a broker accepts TCP but never answers CONNECT: bound the wait.
      const timer = setTimeout(() => done(new Error(`no CONNACK within ${timeoutMs} ms`)), timeoutMs);
      client.once('connect', onConnect);
      client.once('error', onError);
    });
  }

  publish(msg: OutMessage): Promise<void> {
    const client = this.client;
    if (!client?.connected) return Promise.reject(new Error('not connected'));
    return new Promise((resolve, reject) => {
      const fail = (err: Error) => {
        this.pending.delete(fail);
        reject(err);
      };
      this.pending.add(fail);
      client.publish(msg.topic, Buffer.from(msg.payload), { qos: msg.qos, retain: msg.retain }, (err) => {
        if (!this.pending.delete(fail)) return; // already failed by drop()
        if (err) reject(err);
        else resolve();
      });
    });
  }

  drop(): void {
    const client = this.client;
    this.client = undefined;
    if (!client) return;
    client.removeAllListeners();
    client.on('error', () => {}); // late socket errors from a dropped client are expected
    client.end(true); // destroys the socket without DISCONNECT: the broker fires the will
    for (const fail of [...this.pending]) fail(new Error('link dropped'));
    this.opts.handlers.onClose();
  }

  reconnect(): void {
    if (this.client) return;
    this.open();
  }

  async close(last?: OutMessage): Promise<void> {
    const client = this.client;
    if (!client) return;
    const limit = this.cfg.closeTimeoutMs ?? 5000;
    client.options.reconnectPeriod = 0; // no auto-reconnect while shutting down
    try {
      if (last && client.connected) await withTimeout(this.publish(last), limit);
    } catch {
      // best effort: the broker will still publish the will if the DISCONNECT does not arrive
    }
    // end(false) waits for in-flight QoS 1 acks, then sends DISCONNECT (the will is discarded).
    const ended = await withTimeout(
      client.endAsync(false).then(() => true),
      limit,
    ).catch(() => undefined);
    if (!ended) client.end(true);
    client.removeAllListeners();
    client.on('error', () => {});
    this.client = undefined;
    for (const fail of [...this.pending]) fail(new Error('link closed'));
  }
}
