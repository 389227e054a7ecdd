import { type DeviceStatusPayload, deviceStatusValidator, filters, parseTopic, TOPIC_ROOT } from '@cnx/protocol';
import type { Logger } from '@cnx/runtime';
import type { GatewayStats } from '../metrics';
import { MqttSession } from './mqtt-session';
import type { IngestPipeline } from './pipeline';

export interface MqttIngestOptions {
  url: string;
  clientId: string;
  city: string;
  username?: string;
  password?: string;
  busQos: 0 | 1;
  /** PUBLISH packets bigger than this are skipped, acknowledged and dead-lettered (never buffered). */
  maxPacketBytes: number;
  /** Group commit (MqttSession): acknowledge after this many messages or this many ms. */
  ackBatch?: number;
  ackDelayMs?: number;
  /** Read coalescing (MqttSession): while messages stream in, read at most every this many ms. */
  readCoalesceMs?: number;
}

/** How often to check whether a full spool has room again while intake is paused. */
const RESUME_CHECK_MS = 500;

/**
 * MQTT transport: a persistent session (clean session off, fixed client id) subscribed with QoS 1,
 * so the broker keeps messages while the gateway is down and redelivers any it did not acknowledge.
 * Telemetry and history topics (logged past readings: same payloads, lateness not judged) both go to
 * the pipeline's `handle`; status topics keep the devices-online gauge.
 * The connection is our lean MQTT 3.1.1 client (mqtt-session.ts), not MQTT.js: see there why.
 *
 * Acknowledgement is batched and comes after durability: each message is handed to the pipeline
 * (validate, QC, stage for the spool) as it is decoded; the session's group commit (16 messages or
 * 2 ms, whichever comes first) calls `commit()`, which writes everything staged to the spool with
 * one write(2); only then are the PUBACKs written, in one buffer, in the order the messages came.
 * If the spool write fails the connection is dropped without them, and the broker redelivers.
 *
 * Back-pressure: when the spool is full the message is NOT acknowledged and intake pauses: what was
 * accepted before it is committed and acknowledged, then the connection closes (MQTT 3.1.1 has no
 * negative acknowledgement). The broker keeps the rest in our persistent session; the adapter
 * reconnects as soon as the spool has room and the broker redelivers.
 */
export class MqttIngestAdapter {
  private session?: MqttSession;
  private stopped = false;
  private resumeTimer?: NodeJS.Timeout;
  /** `cnx/v1/{city}/devices/`: telemetry topics are this + device id + `/telemetry` (history: `/history`). */
  private readonly telemetryPrefix: string;
  /** Failed spool flushes when the current turn's first message arrived (see commit()). */
  private turnFailures = -1;

  constructor(
    private readonly opts: MqttIngestOptions,
    private readonly pipeline: IngestPipeline,
    private readonly stats: GatewayStats,
    private readonly logger: Logger,
    private readonly spoolFull: () => boolean,
  ) {
    this.telemetryPrefix = `${TOPIC_ROOT}/${opts.city}/devices/`;
  }

  /** The bus publisher handed to the pipeline: publishes on this adapter's connection. */
  readonly publish = (topic: string, payload: string): void => {
    this.session?.publish(topic, payload, this.opts.busQos);
  };

  async start(): Promise<void> {
    const session = new MqttSession(
      {
        url: this.opts.url,
        clientId: this.opts.clientId,
        username: this.opts.username,
        password: this.opts.password,
        subscriptions: {
          [filters.allTelemetry(this.opts.city)]: 1,
          [filters.allHistory(this.opts.city)]: 1,
          [filters.allStatus(this.opts.city)]: 1,
        },
        maxPacketBytes: this.opts.maxPacketBytes,
        keepaliveSec: 30,
        reconnectMs: 1000,
        connectTimeoutMs: 10_000,
        ackBatch: this.opts.ackBatch,
        ackDelayMs: this.opts.ackDelayMs,
        readCoalesceMs: this.opts.readCoalesceMs,
        logger: this.logger,
        onDropped: () => {
          this.stats.busDropped++;
        },
      },
      {
        message: (topic, payload, receivedAt) => this.onMessage(topic, payload, receivedAt),
        oversized: (topic, head, bytes, receivedAt) => this.onOversized(topic, head, bytes, receivedAt),
        commit: () => this.commit(),
        connected: (sessionPresent) => {
          this.stats.mqttConnected = true;
          this.logger.info({ url: this.opts.url, sessionPresent }, 'mqtt connected');
        },
        disconnected: () => {
          this.stats.mqttConnected = false;
        },
        reconnecting: () => {
          this.stats.mqttReconnects++;
        },
      },
    );
    this.session = session;
    await session.start();
  }

  /** Make the turn's staged readings durable; false if that failed (or another transport's flush did). */
  private commit(): boolean {
    const before = this.turnFailures;
    this.turnFailures = -1;
    // Also false if another transport's flush failed meanwhile: it dropped our staged records too.
    return this.pipeline.flush() && (before < 0 || this.pipeline.flushFailures === before);
  }

  /** One message; true = acknowledge it after the commit. */
  private onMessage(topic: string, payload: Buffer, receivedAt: number): boolean {
    if (this.stopped) return false; // not acknowledged: the broker redelivers after restart
    if (this.turnFailures < 0) this.turnFailures = this.pipeline.flushFailures;
    // Fast path for telemetry (every message but a few): no split/allocation per message.
    if (topic.startsWith(this.telemetryPrefix) && topic.endsWith('/telemetry')) {
      const id = topic.slice(this.telemetryPrefix.length, -'/telemetry'.length);
      if (id.length > 0 && !id.includes('/')) return this.onTelemetry(id, topic, payload, receivedAt);
    }
    const t = parseTopic(topic);
    if (!t || t.city !== this.opts.city) {
      this.pipeline.reject('bad_topic', topic, 'unknown', payload, receivedAt, topic);
      return true;
    }
    if (t.kind === 'status') {
      this.onStatus(t.id, payload);
      return true;
    }
    if (t.kind === 'history') return this.onTelemetry(t.id, topic, payload, receivedAt, true);
    if (t.kind !== 'telemetry') return true;
    return this.onTelemetry(t.id, topic, payload, receivedAt);
  }

  private onTelemetry(deviceId: string, topic: string, payload: Buffer, receivedAt: number, history = false): boolean {
    const result = this.pipeline.handle(deviceId, payload, receivedAt, topic, history);
    if (result !== 'full') return true;
    this.pause();
    return false; // not acknowledged
  }

  /** Too big to be a reading: counted, dead-lettered with the head of its payload, acknowledged. */
  private onOversized(topic: string, head: Buffer, payloadBytes: number, receivedAt: number): void {
    if (this.turnFailures < 0) this.turnFailures = this.pipeline.flushFailures;
    const t = parseTopic(topic);
    const id = t && t.city === this.opts.city && (t.kind === 'telemetry' || t.kind === 'history') ? t.id : 'unknown';
    this.pipeline.rejectOversized(id, head, payloadBytes, receivedAt, topic);
  }

  /** Spool full: disconnect without acknowledging, reconnect once there is room again. */
  private pause(): void {
    const session = this.session;
    if (!session || this.resumeTimer || this.stopped) return;
    this.stats.spoolBlocked++;
    this.logger.warn(
      {},
      'spool full: pausing intake (disconnected; the broker keeps the backlog) until the store catches up',
    );
    session.pause();
    this.resumeTimer = setInterval(() => {
      if (this.spoolFull() || this.stopped) return;
      clearInterval(this.resumeTimer);
      this.resumeTimer = undefined;
      this.logger.info({}, 'spool has room again: resuming intake');
      session.resume();
    }, RESUME_CHECK_MS);
  }

  private onStatus(deviceId: string, payload: Buffer): void {
    if (payload.length === 0 || !this.pipeline.knows(deviceId)) return; // cleared retained message, or not ours
    let status: unknown;
    try {
      status = JSON.parse(payload.toString('utf8'));
    } catch {
      return; // status is informational; a broken one is ignored, not dead-lettered
    }
    if (!deviceStatusValidator.Check(status)) return;
    if ((status as DeviceStatusPayload).state === 'online') this.stats.devicesOnline.add(deviceId);
    else this.stats.devicesOnline.delete(deviceId);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.resumeTimer) clearInterval(this.resumeTimer);
    // The readings committed last are published on the bus before we disconnect.
    await this.session?.stop(() => this.pipeline.publishBus());
    this.stats.mqttConnected = false;
  }
}
