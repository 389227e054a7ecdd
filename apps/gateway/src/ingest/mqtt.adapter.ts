import { type DeviceStatusPayload, deviceStatusValidator, filters, parseTopic, TOPIC_ROOT } from '@cnx/protocol';
import type { Logger } from '@cnx/runtime';
import mqtt, { type IClientOptions, type IPublishPacket, type MqttClient } from 'mqtt';
import type { GatewayStats } from '../metrics';
import type { IngestPipeline } from './pipeline';

export interface MqttIngestOptions {
  url: string;
  clientId: string;
  city: string;
  username?: string;
  password?: string;
  busQos: 0 | 1;
}

/** How often to check whether a full spool has room again while intake is paused. */
const RESUME_CHECK_MS = 500;

/**
 * MQTT transport: a persistent session (clean: false, fixed client id) subscribed with QoS 1, so the
 * broker keeps messages while the gateway is down and redelivers any it did not acknowledge.
 *
 * Acknowledgement is explicit and batched: MQTT.js writes the PUBACK when `handleMessage`'s callback
 * runs. At the first message of an event-loop turn we cork the socket, so PUBACKs (and the bus
 * publishes) are only buffered in this process; at the end of the turn (setImmediate, after MQTT.js
 * has processed every packet of the received chunks) the pipeline flushes all staged readings to
 * the spool with one write(2), and only then the socket is uncorked and the PUBACKs leave. If the
 * flush fails the socket is destroyed, which discards the buffered PUBACKs: the broker redelivers.
 * One write(2) and one writev(2) per batch instead of per message (docs/performance.md).
 *
 * Back-pressure: when the spool is full the message is NOT acknowledged and the adapter disconnects
 * (MQTT 3.1.1 has no negative acknowledgement, and blocking the callback would also block MQTT.js's
 * keepalive handling). The broker keeps the unacknowledged message and the backlog in our persistent
 * session; the adapter reconnects as soon as the spool has room and the broker redelivers.
 */
export class MqttIngestAdapter {
  private client?: MqttClient;
  private stopped = false;
  private resumeTimer?: NodeJS.Timeout;
  /** `cnx/v1/{city}/devices/`: telemetry topics are this + device id + `/telemetry`. */
  private readonly telemetryPrefix: string;
  private corked?: CorkableStream;

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
    this.client?.publish(topic, payload, { qos: this.opts.busQos });
  };

  async start(): Promise<void> {
    const options: IClientOptions = {
      clientId: this.opts.clientId,
      clean: false,
      protocolVersion: 4,
      reconnectPeriod: 1000,
      connectTimeout: 10_000,
      keepalive: 30,
      username: this.opts.username,
      password: this.opts.password,
      // Bounded: the bus publisher must not buffer unboundedly while the broker is away.
      queueQoSZero: false,
      // MQTT.js traces every packet through `debug` (~2 % of gateway CPU even when disabled); keep it
      // only when asked for with DEBUG=mqttjs*.
      ...(process.env.DEBUG?.includes('mqttjs') ? {} : { log: () => undefined }),
    };
    const client = mqtt.connect(this.opts.url, options);
    this.client = client;
    client.handleMessage = (packet, callback) => this.onPacket(packet as IPublishPacket, callback);
    client.on('connect', (connack) => {
      this.stats.mqttConnected = true;
      this.logger.info({ url: this.opts.url, sessionPresent: connack.sessionPresent }, 'mqtt connected');
      // Always (re)subscribe: harmless with a present session, required without one.
      client.subscribe(
        { [filters.allTelemetry(this.opts.city)]: { qos: 1 }, [filters.allStatus(this.opts.city)]: { qos: 1 } },
        (error) => {
          if (error) this.logger.error({ err: error }, 'mqtt subscribe failed');
        },
      );
    });
    client.on('reconnect', () => {
      this.stats.mqttReconnects++;
    });
    client.on('close', () => {
      if (this.stats.mqttConnected && !this.stopped)
        this.logger.warn({ url: this.opts.url }, 'mqtt connection lost, reconnecting');
      this.stats.mqttConnected = false;
    });
    client.on('error', (error) => this.logger.error({ err: error, url: this.opts.url }, 'mqtt error'));
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`MQTT broker ${this.opts.url} not reachable within 15 s`)),
        15_000,
      );
      client.once('connect', () => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  private onPacket(packet: IPublishPacket, callback: (error?: Error) => void): void {
    const receivedAt = Date.now();
    // Fast path for telemetry (every message but a few): no split/allocation per message.
    const topic = packet.topic;
    if (topic.startsWith(this.telemetryPrefix) && topic.endsWith('/telemetry')) {
      const id = topic.slice(this.telemetryPrefix.length, -'/telemetry'.length);
      if (id.length > 0 && !id.includes('/')) {
        this.onTelemetry(id, packet, receivedAt, callback);
        return;
      }
    }
    const t = parseTopic(topic);
    if (!t || t.city !== this.opts.city) {
      this.pipeline.reject('bad_topic', packet.topic, 'unknown', asBuffer(packet.payload), receivedAt, packet.topic);
      callback();
      return;
    }
    if (t.kind === 'status') {
      this.onStatus(t.id, asBuffer(packet.payload));
      callback();
      return;
    }
    if (t.kind !== 'telemetry') {
      callback();
      return;
    }
    this.onTelemetry(t.id, packet, receivedAt, callback);
  }

  private onTelemetry(
    deviceId: string,
    packet: IPublishPacket,
    receivedAt: number,
    callback: (error?: Error) => void,
  ): void {
    if (this.stopped) return; // not acknowledged: the broker redelivers after restart
    this.corkForTurn();
    const result = this.pipeline.handle(deviceId, asBuffer(packet.payload), receivedAt, packet.topic);
    if (result === 'full') {
      this.pause();
      return; // not acknowledged
    }
    callback(); // the PUBACK goes into the corked socket; it leaves after the flush
  }

  /** Cork the connection for the rest of this event-loop turn; flush then uncork at its end. */
  private corkForTurn(): void {
    if (this.corked) return;
    const stream = this.client?.stream as unknown as CorkableStream | undefined;
    if (!stream) return;
    this.corked = stream;
    stream.cork();
    const failuresBefore = this.pipeline.flushFailures;
    setImmediate(() => {
      this.corked = undefined;
      // Also fails if another transport's flush failed meanwhile: it dropped our staged records too.
      if (this.pipeline.flush() && this.pipeline.flushFailures === failuresBefore) {
        stream.uncork();
        return;
      }
      // The spool refused the batch: drop the buffered PUBACKs with the connection.
      this.logger.error({}, 'spool write failed: dropping the connection so the broker redelivers');
      stream.destroy();
      this.pause();
    });
  }

  /** Spool full: disconnect without acknowledging, reconnect once there is room again. */
  private pause(): void {
    const client = this.client;
    if (!client || this.resumeTimer || this.stopped) return;
    this.stats.spoolBlocked++;
    this.logger.warn(
      {},
      'spool full: pausing intake (disconnected; the broker keeps the backlog) until the store catches up',
    );
    client.end(true);
    this.resumeTimer = setInterval(() => {
      if (this.spoolFull() || this.stopped) return;
      clearInterval(this.resumeTimer);
      this.resumeTimer = undefined;
      this.logger.info({}, 'spool has room again: resuming intake');
      client.reconnect();
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
    const client = this.client;
    if (!client) return;
    await new Promise<void>((resolve) => client.end(false, {}, () => resolve()));
    this.stats.mqttConnected = false;
  }
}

interface CorkableStream {
  cork(): void;
  uncork(): void;
  destroy(): void;
}

const asBuffer = (p: Buffer | string): Buffer => (typeof p === 'string' ? Buffer.from(p) : p);
