import net from 'node:net';
import tls from 'node:tls';
import type { Logger } from '@cnx/runtime';
import {
  CONNACK_REASONS,
  type DecodeHandler,
  DISCONNECT,
  encodeConnect,
  encodePubacks,
  encodePublish,
  encodeSubscribe,
  MqttDecoder,
  PINGREQ,
} from './mqtt-codec';

export interface MqttSessionOptions {
  /** mqtt:// or tcp:// (plain), mqtts:// or ssl:// (TLS, verified against the system CAs). */
  url: string;
  clientId: string;
  username?: string;
  password?: string;
  /** Topic filters and their QoS (0 or 1), subscribed after every CONNACK. */
  subscriptions: Readonly<Record<string, 0 | 1>>;
  /** Bigger PUBLISH packets are skipped and reported as oversized (see MqttDecoder). */
  maxPacketBytes: number;
  keepaliveSec?: number;
  reconnectMs?: number;
  connectTimeoutMs?: number;
  /** Group commit (see ack()): at most this long a message waits for its PUBACK (default 2 ms)... */
  ackDelayMs?: number;
  /** ...or until this many are pending (default 16; keep it below the broker's in-flight window). */
  ackBatch?: number;
  /**
   * Read coalescing (plain TCP; see onRead): when a read comes less than this many ms after the
   * previous one, reading pauses for this long, so the messages of a busy stream are read a batch
   * at a time. 0: read whenever data is there. Default 0 here; the gateway configures 2.
   */
  readCoalesceMs?: number;
  /**
   * Our QoS 1 publishes waiting for the broker's PUBACK (default 1000 messages, 8 MiB); beyond
   * either bound new ones are dropped, counted and logged (the bus is not the durable path: the
   * readings are in the spool).
   */
  maxInflight?: number;
  maxInflightBytes?: number;
  /** Called for each publish dropped that way. */
  onDropped?: () => void;
  logger: Logger;
}

/** What the session hands its owner. Every call is synchronous, inside the socket's read. */
export interface SessionHandler {
  /**
   * One PUBLISH (payload valid only during the call). True: acknowledge it (QoS 1) once `commit()`
   * succeeds; false: leave it unacknowledged (the broker redelivers it on the next connection).
   */
  message(topic: string, payload: Buffer, receivedAt: number): boolean;
  /** A PUBLISH above maxPacketBytes; it is acknowledged (it can never be accepted). */
  oversized(topic: string, head: Buffer, payloadBytes: number, receivedAt: number): void;
  /**
   * Group commit (see MqttSession.ack): make the messages accepted since the last commit durable.
   * True: their PUBACKs leave now; false: the connection is dropped without them.
   */
  commit(): boolean;
  connected(sessionPresent: boolean): void;
  disconnected(): void;
  /** A new connection attempt after a failed or lost one. */
  reconnecting(): void;
}

const RESUBSCRIBE_ID = 1;

/**
 * A lean MQTT 3.1.1 client for the gateway's intake: one persistent session (clean session off),
 * subscribed with QoS 1, acknowledging in batches, and publishing the bus on the same connection.
 *
 * Why not MQTT.js here: per message it costs a nextTick, a handler chain, events and two stream
 * writes for the PUBACK; at 10k messages/s that was a third of the gateway's CPU. This client reads
 * the socket with `onread` (no stream machinery, one reused buffer), decodes PUBLISH packets in
 * place (mqtt-codec.ts) and writes the turn's PUBACKs as one buffer after the spool write, which is
 * also what makes "acknowledged = durable" hold (docs/performance.md, docs/architecture.md).
 *
 * Behaviour kept from MQTT.js: reconnect every `reconnectMs`, connect timeout, keepalive pings,
 * (re)subscribe after every CONNACK, QoS 1 publishes re-sent with DUP after a reconnect. MQTT 3.1.1
 * (4.6) wants PUBACKs in the order the PUBLISH packets came: they are written in that order.
 */
export class MqttSession {
  private socket?: net.Socket;
  private readonly decoder: MqttDecoder;
  private readonly readBuffer = Buffer.allocUnsafe(64 * 1024);
  private stopped = true;
  private paused = false;
  private isConnected = false;
  private reconnectTimer?: NodeJS.Timeout;
  private connectTimer?: NodeJS.Timeout;
  private keepaliveTimer?: NodeJS.Timeout;
  private lastWrite = 0;
  private pingSentAt = 0;
  /** Message ids to acknowledge after this turn's commit. */
  private acks: number[] = [];
  private commitTimer?: NodeJS.Timeout;
  /** Read coalescing (onRead): when the last read was, and the timer that resumes reading. */
  private lastReadAt = 0;
  private readResumeTimer?: NodeJS.Timeout;
  private commitNow?: NodeJS.Immediate;
  private nextId = 1;
  private readonly inflight = new Map<number, Buffer>();
  private inflightBytes = 0;
  private droppedPublishes = 0;
  /** Connection errors since the last successful CONNACK (logged first and every 60th). */
  private failures = 0;
  private readonly url: URL;

  constructor(
    private readonly opts: MqttSessionOptions,
    private readonly handler: SessionHandler,
  ) {
    this.url = new URL(opts.url);
    if (!['mqtt:', 'tcp:', 'mqtts:', 'ssl:'].includes(this.url.protocol))
      throw new Error(`MQTT URL ${opts.url}: the gateway connects with mqtt://, tcp://, mqtts:// or ssl://`);
    this.decoder = new MqttDecoder(this.decodeHandler(), opts.maxPacketBytes);
  }

  /** Connect; resolves at the first CONNACK, rejects if none came within `timeoutMs`. */
  start(timeoutMs = 15_000): Promise<void> {
    this.stopped = false;
    this.paused = false;
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.onFirstConnect = undefined;
        reject(new Error(`MQTT broker ${this.opts.url} not reachable within ${timeoutMs / 1000} s`));
      }, timeoutMs);
      this.onFirstConnect = () => {
        clearTimeout(timer);
        resolve();
      };
      this.connect();
    });
  }

  private onFirstConnect?: () => void;

  /**
   * Publish on the connection. QoS 1 publishes are kept until the broker acknowledges them and are
   * sent again after a reconnect. While disconnected, QoS 0 publishes are dropped and QoS 1 ones
   * wait (bounded by maxInflight).
   */
  publish(topic: string, payload: string, qos: 0 | 1): void {
    if (qos === 0) {
      if (this.isConnected) this.write(encodePublish(topic, payload, 0));
      return;
    }
    if (
      this.inflight.size >= (this.opts.maxInflight ?? 1000) ||
      this.inflightBytes >= (this.opts.maxInflightBytes ?? 8 * 1024 * 1024)
    ) {
      this.droppedPublishes++;
      this.opts.onDropped?.();
      if (this.droppedPublishes === 1 || this.droppedPublishes % 1000 === 0)
        this.opts.logger.warn(
          { inflight: this.inflight.size, dropped: this.droppedPublishes },
          'mqtt: broker is not acknowledging our publishes; dropping bus messages (readings are in the spool)',
        );
      return;
    }
    const id = this.allocateId();
    const packet = encodePublish(topic, payload, 1, id);
    this.inflight.set(id, packet);
    this.inflightBytes += packet.length;
    if (this.isConnected) this.write(packet);
  }

  /**
   * Stop taking messages: what was accepted so far is committed and acknowledged, then the
   * connection closes; messages after it stay unacknowledged (the broker keeps them in the session).
   * No reconnect until `resume()`.
   */
  pause(): void {
    if (this.paused) return;
    this.paused = true;
    const socket = this.socket;
    const acks = this.acks;
    this.acks = [];
    if (!socket) return;
    if (acks.length > 0 && this.handler.commit()) socket.end(encodePubacks(acks));
    else socket.destroy();
  }

  resume(): void {
    if (!this.paused || this.stopped) return;
    this.paused = false;
    this.connect();
  }

  /**
   * Commit and acknowledge what was accepted, run `beforeDisconnect`, send DISCONNECT and close
   * (bounded). Messages that arrive after this are not acknowledged (the broker keeps them).
   */
  async stop(beforeDisconnect?: () => void): Promise<void> {
    this.stopped = true;
    const acks = this.acks;
    this.acks = [];
    clearTimeout(this.reconnectTimer);
    clearTimeout(this.readResumeTimer);
    const socket = this.socket;
    if (!socket || socket.destroyed) return;
    if (this.isConnected && acks.length > 0 && this.handler.commit()) this.write(encodePubacks(acks));
    if (this.isConnected) beforeDisconnect?.(); // e.g. the last bus batch, on this connection
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        socket.destroy();
      }, 2_000);
      socket.once('close', () => {
        clearTimeout(timer);
        resolve();
      });
      if (this.isConnected) socket.end(DISCONNECT);
      else socket.destroy();
    });
  }

  private allocateId(): number {
    for (;;) {
      const id = this.nextId;
      this.nextId = id === 65_535 ? 1 : id + 1;
      if (id !== RESUBSCRIBE_ID && !this.inflight.has(id)) return id;
    }
  }

  private connect(): void {
    if (this.stopped || this.paused) return;
    const { url } = this;
    const secure = url.protocol === 'mqtts:' || url.protocol === 'ssl:';
    const host = url.hostname.replace(/^\[|\]$/g, '');
    const port = Number(url.port) || (secure ? 8883 : 1883);
    // Plain TCP is read with `onread` into one reused buffer (no stream machinery, no allocation per
    // read); TLS through its stream ('data' events).
    const onread = { buffer: this.readBuffer, callback: (n: number, buf: Buffer) => this.onRead(n, buf) };
    const socket: net.Socket = secure
      ? tls.connect({ host, port, servername: net.isIP(host) ? undefined : host })
      : net.connect({ host, port, onread });
    if (secure) socket.on('data', (chunk: Buffer) => this.decoder.push(chunk));
    socket.setNoDelay(true);
    this.socket = socket;
    this.decoder.reset();
    this.acks = [];
    socket.once(secure ? 'secureConnect' : 'connect', () => {
      if (this.socket !== socket) return;
      this.write(
        encodeConnect({
          clientId: this.opts.clientId,
          clean: false,
          keepaliveSec: this.opts.keepaliveSec ?? 30,
          username: this.opts.username,
          password: this.opts.password,
        }),
      );
    });
    this.connectTimer = setTimeout(() => {
      if (this.socket === socket && !this.isConnected) {
        this.opts.logger.error({ url: this.opts.url }, 'mqtt: no CONNACK in time, retrying');
        socket.destroy();
      }
    }, this.opts.connectTimeoutMs ?? 10_000);
    socket.on('error', (error) => {
      this.failures++;
      if (this.failures === 1 || this.failures % 60 === 0)
        this.opts.logger.error({ err: error, url: this.opts.url, attempts: this.failures }, 'mqtt connection error');
    });
    socket.on('close', () => this.onClose(socket));
  }

  private onClose(socket: net.Socket): void {
    if (this.socket !== socket) return;
    clearTimeout(this.connectTimer);
    clearTimeout(this.readResumeTimer);
    clearInterval(this.keepaliveTimer);
    this.socket = undefined;
    this.acks = [];
    const was = this.isConnected;
    this.isConnected = false;
    if (was) this.handler.disconnected();
    if (this.stopped || this.paused) return;
    if (was) this.opts.logger.warn({ url: this.opts.url }, 'mqtt connection lost, reconnecting');
    this.reconnectTimer = setTimeout(() => {
      this.handler.reconnecting();
      this.connect();
    }, this.opts.reconnectMs ?? 1000);
  }

  private write(buf: Buffer): void {
    const socket = this.socket;
    if (!socket || socket.destroyed) return;
    socket.write(buf);
    this.lastWrite = Date.now();
  }

  /**
   * One read of the socket. Read coalescing: at 10k messages/s they arrive a few per read, and every
   * read is a wake-up of the process (epoll, a context switch, a read(2), a call into JS) costing
   * more than the messages in it. So while messages stream in (this read came soon after the last),
   * reading pauses for `readCoalesceMs` and the next read takes what gathered meanwhile in the
   * socket buffer, like interrupt moderation in a network card. A message waits at most that long
   * (the group commit waits up to ackDelayMs anyway); one after a quiet spell is read at once.
   */
  private onRead(n: number, buf: Buffer): boolean {
    this.decoder.push(buf.subarray(0, n));
    const wait = this.opts.readCoalesceMs ?? 0;
    if (wait <= 0 || n === buf.length) return true; // a full buffer: more is waiting, read on
    const now = performance.now();
    const streaming = now - this.lastReadAt < wait;
    this.lastReadAt = now;
    const socket = this.socket;
    if (!streaming || !socket || this.paused || this.stopped) return true;
    clearTimeout(this.readResumeTimer);
    this.readResumeTimer = setTimeout(() => {
      if (this.socket !== socket || socket.destroyed || this.paused || this.stopped) return;
      this.lastReadAt = performance.now(); // the stream is still on: the next read may pause again
      socket.resume();
    }, wait);
    return false; // pauses reading (net.Socket onread)
  }

  private decodeHandler(): DecodeHandler {
    return {
      publish: (topic, payload, qos, messageId) => {
        if (this.stopped || this.paused || !this.isConnected) return;
        const ok = this.handler.message(topic, payload, Date.now());
        if (this.paused) return; // the handler paused intake: nothing more is acknowledged
        if (ok && qos > 0) this.ack(messageId);
      },
      oversized: (topic, head, payloadBytes, qos, messageId) => {
        if (this.stopped || this.paused || !this.isConnected) return;
        this.handler.oversized(topic, head, payloadBytes, Date.now());
        if (qos > 0) this.ack(messageId);
      },
      connack: (sessionPresent, returnCode) => this.onConnack(sessionPresent, returnCode),
      puback: (messageId) => {
        const packet = this.inflight.get(messageId);
        if (!packet) return;
        this.inflight.delete(messageId);
        this.inflightBytes -= packet.length;
      },
      suback: (_messageId, granted) => {
        const refused = granted.filter((g) => g === 0x80).length;
        if (refused > 0)
          this.opts.logger.error(
            { url: this.opts.url, refused, filters: Object.keys(this.opts.subscriptions) },
            'mqtt: the broker refused a subscription (check the ACL for this user)',
          );
      },
      pingresp: () => {
        this.pingSentAt = 0;
      },
      protocolError: (message) => {
        this.opts.logger.error({ url: this.opts.url, problem: message }, 'mqtt: protocol error, reconnecting');
        this.socket?.destroy();
      },
    };
  }

  private onConnack(sessionPresent: boolean, returnCode: number): void {
    clearTimeout(this.connectTimer);
    if (returnCode !== 0) {
      this.opts.logger.error(
        { url: this.opts.url, returnCode, reason: CONNACK_REASONS[returnCode] ?? 'unknown' },
        'mqtt: connection refused by the broker',
      );
      this.socket?.destroy();
      return;
    }
    this.isConnected = true;
    this.failures = 0;
    this.pingSentAt = 0;
    // Always (re)subscribe: harmless with a present session, required without one.
    this.write(encodeSubscribe(RESUBSCRIBE_ID, this.opts.subscriptions));
    // Our unacknowledged QoS 1 publishes go again, in order, marked DUP (MQTT 3.1.1, 4.4).
    for (const packet of this.inflight.values()) {
      packet[0] = (packet[0] as number) | 0x08;
      this.write(packet);
    }
    const keepaliveMs = (this.opts.keepaliveSec ?? 30) * 1000;
    clearInterval(this.keepaliveTimer);
    this.keepaliveTimer = setInterval(() => this.keepalive(keepaliveMs), Math.max(250, keepaliveMs / 4));
    this.keepaliveTimer.unref();
    this.handler.connected(sessionPresent);
    const first = this.onFirstConnect;
    this.onFirstConnect = undefined;
    first?.();
  }

  private keepalive(keepaliveMs: number): void {
    const now = Date.now();
    if (this.pingSentAt > 0 && now - this.pingSentAt > keepaliveMs) {
      this.opts.logger.warn({ url: this.opts.url }, 'mqtt: no PINGRESP, connection presumed dead');
      this.socket?.destroy();
      return;
    }
    if (this.pingSentAt === 0 && now - this.lastWrite >= keepaliveMs / 2) {
      this.pingSentAt = now;
      this.write(PINGREQ);
    }
  }

  /**
   * Group commit: a message's PUBACK waits until `ackBatch` messages are pending (then at the end
   * of the current read) or `ackDelayMs` passed, whichever is first; then one spool write and one
   * socket write cover them all. At moderate rates messages trickle in a few per read, and a spool
   * write plus a PUBACK write per read cost more than the messages themselves (docs/performance.md).
   * `ackBatch` stays below the broker's in-flight window (Mosquitto's default is 20), so the broker
   * never waits for us.
   */
  private ack(messageId: number): void {
    this.acks.push(messageId);
    if (this.commitNow) return;
    if (this.acks.length >= (this.opts.ackBatch ?? 16)) {
      clearTimeout(this.commitTimer);
      this.commitTimer = undefined;
      const socket = this.socket;
      this.commitNow = setImmediate(() => this.endOfTurn(socket));
    } else if (!this.commitTimer) {
      const socket = this.socket;
      this.commitTimer = setTimeout(() => this.endOfTurn(socket), this.opts.ackDelayMs ?? 2);
    }
  }

  /** Commit (spool write), then the pending PUBACKs in one write. */
  private endOfTurn(socket: net.Socket | undefined): void {
    clearTimeout(this.commitTimer);
    this.commitTimer = undefined;
    if (this.commitNow) clearImmediate(this.commitNow);
    this.commitNow = undefined;
    const acks = this.acks;
    this.acks = [];
    if (acks.length === 0 || !socket || socket !== this.socket || this.paused || this.stopped) return;
    // The commit publishes the turn's bus batch on this socket: corked, it leaves with the PUBACKs
    // in one writev(2).
    socket.cork();
    if (!this.handler.commit()) {
      this.opts.logger.error({}, 'spool write failed: dropping the connection so the broker redelivers');
      socket.destroy();
      return;
    }
    this.write(encodePubacks(acks));
    socket.uncork();
  }
}
