import { readFileSync } from 'node:fs';
import type { Logger } from '@cnx/runtime';
import mqtt, { type IClientOptions, type IPublishPacket, type MqttClient, type Packet } from 'mqtt';
import type { GatewayStats } from '../metrics';
import type { BusPublisher } from './republisher';

export interface MqttTlsFiles {
  /** PEM file of the CA(s) that signed the broker's certificate (default: the system's CAs). */
  caFile?: string;
  /** PEM files of the gateway's client certificate and key (brokers with require_certificate). */
  certFile?: string;
  keyFile?: string;
}

export interface MqttConnectionOptions {
  /** mqtt://, mqtts://, ws:// or wss:// (tcp:// and ssl:// are aliases of mqtt:// and mqtts://). */
  url: string;
  clientId: string;
  username?: string;
  password?: string;
  /** 4 = MQTT 3.1.1, 5 = MQTT 5. */
  protocolVersion: 4 | 5;
  tls: MqttTlsFiles;
  /** QoS of what the gateway publishes (bus batches, dead letters, device events). */
  busQos: 0 | 1;
  /** MQTT 5: how long the broker keeps the session (and queues for it) after a disconnect, s. */
  sessionExpirySec: number;
  /** MQTT 5: the broker must not send bigger packets (it drops them instead; Mosquitto logs it). */
  maxPacketBytes: number;
  keepaliveSec?: number;
  reconnectMs?: number;
  connectTimeoutMs?: number;
  /** Our QoS 1 publishes the broker has not acknowledged yet; beyond it new ones are dropped (default 1000). */
  maxInflight?: number;
}

/** What the transport subscribes to and how it takes messages (mqtt.transport.ts). */
export interface MqttIntake {
  subscriptions: Readonly<Record<string, { qos: 0 | 1 }>>;
  /**
   * One PUBLISH. MQTT.js sends a QoS 1 message's PUBACK when `done` is called, and hands over the
   * next message only then: call it once the message is durable (or refused for good); never call
   * it to leave the message unacknowledged (then `pause()` the connection).
   */
  handleMessage(packet: IPublishPacket, done: () => void): void;
}

/**
 * The gateway's one MQTT connection (MQTT.js): a persistent session (clean session off, a fixed
 * client id; MQTT 5: a session expiry) on which the transport subscribes with QoS 1 and the
 * republisher, the dead letters and the Modbus events publish. TLS with a custom CA and a client
 * certificate, WebSockets (ws/wss) and username/password are MQTT.js options.
 *
 * A subscription the broker refuses (SUBACK 0x80 or an MQTT 5 reason code >= 0x80) is logged at
 * error with the filter and reason, and makes /health `down` (stats.subscriptionRefused) until a
 * later connection gets it granted: the gateway would otherwise look healthy while nothing arrives.
 */
export class MqttConnection implements BusPublisher {
  private client?: MqttClient;
  private inflight = 0;
  private errors = 0;
  private refusedLogged = '';

  constructor(
    private readonly opts: MqttConnectionOptions,
    private readonly stats: GatewayStats,
    private readonly logger: Logger,
  ) {}

  /** The MQTT.js options (files read now: a missing certificate fails the start, not a reconnect). */
  clientOptions(): IClientOptions {
    const o = this.opts;
    const { caFile, certFile, keyFile } = o.tls;
    const options: IClientOptions = {
      clientId: o.clientId,
      clean: false,
      protocolVersion: o.protocolVersion,
      keepalive: o.keepaliveSec ?? 30,
      reconnectPeriod: o.reconnectMs ?? 1000,
      connectTimeout: o.connectTimeoutMs ?? 10_000,
      // We subscribe on every CONNACK ourselves, to see what the broker granted.
      resubscribe: false,
      // QoS 0 while disconnected is dropped (the bus is not the durable path).
      queueQoSZero: false,
      rejectUnauthorized: true,
    };
    if (o.username !== undefined) options.username = o.username;
    if (o.password !== undefined) options.password = o.password;
    if (caFile) options.ca = readFileSync(caFile);
    if (certFile) options.cert = readFileSync(certFile);
    if (keyFile) options.key = readFileSync(keyFile);
    if (o.protocolVersion === 5) {
      options.properties = { sessionExpiryInterval: o.sessionExpirySec, maximumPacketSize: o.maxPacketBytes };
    }
    return options;
  }

  /** Connect and subscribe; resolves at the first CONNACK, rejects after `timeoutMs` (MQTT.js keeps trying). */
  start(intake: MqttIntake, timeoutMs = 15_000): Promise<void> {
    const url = this.opts.url.replace(/^tcp:/, 'mqtt:').replace(/^ssl:/, 'mqtts:');
    const client = mqtt.connect(url, this.clientOptions());
    this.client = client;
    client.handleMessage = (packet, done) => intake.handleMessage(packet, done);
    client.on('connect', (connack) => {
      this.stats.mqttConnected = true;
      this.errors = 0;
      this.logger.info({ url: this.opts.url, sessionPresent: connack.sessionPresent }, 'mqtt connected');
      client.subscribe({ ...intake.subscriptions }, (error, _granted, suback) =>
        this.checkSuback(intake, error, suback ?? (error as { packet?: Packet } | null)?.packet),
      );
    });
    client.on('close', () => {
      this.stats.mqttConnected = false;
    });
    client.on('reconnect', () => {
      this.stats.mqttReconnects++;
    });
    client.on('offline', () => this.logger.warn({ url: this.opts.url }, 'mqtt connection lost, reconnecting'));
    client.on('disconnect', (packet) =>
      this.logger.warn({ url: this.opts.url, reasonCode: packet.reasonCode }, 'mqtt: the broker disconnected us'),
    );
    client.on('error', (error) => {
      this.errors++;
      if (this.errors === 1 || this.errors % 60 === 0)
        this.logger.error({ err: error, url: this.opts.url, attempts: this.errors }, 'mqtt connection error');
    });
    return new Promise<void>((resolve, reject) => {
      const settle = (error?: Error) => {
        clearTimeout(timer);
        client.off('connect', connected);
        client.off('error', refused);
        if (error) reject(error);
        else resolve();
      };
      const timer = setTimeout(
        () => settle(new Error(`MQTT broker ${this.opts.url} not reachable within ${timeoutMs / 1000} s`)),
        timeoutMs,
      );
      const connected = () => settle();
      // The broker answered and said no (credentials, client id, certificate user): no point waiting.
      const refused = (error: Error & { code?: unknown }) => {
        if (typeof error.code === 'number')
          settle(new Error(`MQTT broker ${this.opts.url} refused the connection: ${error.message}`));
      };
      client.once('connect', connected);
      client.on('error', refused);
    });
  }

  private checkSuback(intake: MqttIntake, error: Error | null, suback: Packet | undefined): void {
    const codes = (suback as { granted?: (number | { qos: number })[] } | undefined)?.granted ?? [];
    const filters = Object.keys(intake.subscriptions);
    const refused = filters
      .map((filter, i) => {
        const g = codes[i];
        const code = typeof g === 'number' ? g : g?.qos;
        return { filter, code };
      })
      .filter((s) => s.code === undefined || s.code >= 0x80);
    if (!error && refused.length === 0) {
      if (this.stats.subscriptionRefused) this.logger.info({ filters }, 'mqtt subscriptions granted again');
      this.stats.subscriptionRefused = undefined;
      this.refusedLogged = '';
      return;
    }
    const detail = refused.map(
      (s) => `${s.filter} (reason ${s.code === undefined ? '?' : `0x${s.code.toString(16)}`})`,
    );
    this.stats.subscriptionRefused = `the broker refused ${detail.join(', ')}${error ? `: ${error.message}` : ''}`;
    // Logged once per change: every reconnect asks again.
    if (this.refusedLogged === this.stats.subscriptionRefused) return;
    this.refusedLogged = this.stats.subscriptionRefused;
    this.logger.error(
      { url: this.opts.url, clientId: this.opts.clientId, refused: detail, err: error?.message },
      'mqtt: the broker refused a subscription; no readings arrive on it (check the ACL for this user)',
    );
  }

  /**
   * Publish on the bus. QoS 1 publishes wait in MQTT.js until the broker acknowledges them (re-sent
   * after a reconnect); beyond `maxInflight` new ones are dropped, counted and logged: the bus is
   * not the durable path (the readings are in the spool and reach the store).
   */
  publish(topic: string, payload: string, done?: (published: boolean) => void): void {
    const client = this.client;
    const qos = this.opts.busQos;
    if (!client || (qos === 1 && this.inflight >= (this.opts.maxInflight ?? 1000))) {
      this.dropped();
      done?.(false);
      return;
    }
    if (qos === 0) {
      if (client.connected) client.publish(topic, payload, { qos: 0 });
      else this.dropped();
      done?.(client.connected);
      return;
    }
    this.inflight++;
    client.publish(topic, payload, { qos: 1 }, (error) => {
      this.inflight--;
      if (error) this.dropped();
      done?.(!error);
    });
  }

  private dropped(): void {
    const n = ++this.stats.busDropped;
    if (n === 1 || n % 1000 === 0)
      this.logger.warn(
        { inflight: this.inflight, dropped: n },
        'mqtt: bus messages dropped (broker not acknowledging, or disconnected); readings are in the spool',
      );
  }

  /** Drop the connection without acknowledging what is being handled; no reconnect until resume(). */
  pause(): void {
    this.client?.end(true);
  }

  resume(): void {
    this.client?.reconnect();
  }

  /** Disconnect (DISCONNECT after our in-flight publishes are acknowledged, at most 2 s). */
  async stop(): Promise<void> {
    const client = this.client;
    if (!client) return;
    const done = new Promise<void>((resolve) => client.end(false, {}, () => resolve()));
    // A second end() would only wait for the first: a broker that does not answer is cut off.
    const timer = setTimeout(() => client.stream?.destroy(), 2000);
    await done;
    clearTimeout(timer);
    this.stats.mqttConnected = false;
  }
}
