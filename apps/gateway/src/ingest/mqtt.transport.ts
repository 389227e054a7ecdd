import { deviceStatusValidator, filters, parseTopic, TOPIC_ROOT } from '@cnx/protocol';
import type { Logger } from '@cnx/runtime';
import type { IPublishPacket } from 'mqtt';
import type { GatewayStats } from '../metrics';
import type { DeadLetters } from './dead-letters';
import type { MqttConnection, MqttIntake } from './mqtt-connection';
import type { SpoolSink } from './sink';
import type { IngestStep } from './step';

export interface MqttTransportOptions {
  city: string;
  /**
   * Shared subscription group: telemetry and history are subscribed as `$share/<group>/…`, so the
   * broker hands each message to one gateway of the group (docs/architecture.md, "Scaling out").
   */
  shareGroup?: string;
}

/** How often to check whether a full spool has room again while intake is paused. */
const RESUME_CHECK_MS = 500;

/**
 * MQTT intake, top to bottom for one message (MQTT.js calls `handleMessage` one message at a time):
 *
 *   topic -> device id -> step.message (validate, QC, correct) -> sink.commit (spool write)
 *         -> done() (MQTT.js sends the PUBACK)
 *
 * A refused message is dead-lettered and acknowledged (bad input is not redelivered forever); a
 * status message feeds the devices-online gauge. When the spool has no room (or its write fails) the
 * message is NOT acknowledged and the connection is dropped (MQTT 3.1.1 has no negative
 * acknowledgement; an MQTT 5 PUBACK with an error code would still end the delivery): the broker
 * keeps the backlog in our persistent session and redelivers once intake resumes.
 *
 * One spool write per message, on purpose: a group commit above MQTT.js (cork the socket so the
 * PUBACKs wait for one spool write per event-loop turn) was built, measured and removed, because
 * Node's `end()` uncorks a socket fully, so a broker closing the connection in that turn let the
 * PUBACKs out before the spool write (docs/performance.md, "Group commit").
 */
export class MqttTransport implements MqttIntake {
  readonly subscriptions: Record<string, { qos: 0 | 1 }>;
  /** `cnx/v1/{city}/devices/`: telemetry topics are this + device id + `/telemetry`. */
  private readonly devicesPrefix: string;
  private paused = false;
  private stopped = false;
  private resumeTimer?: NodeJS.Timeout;

  constructor(
    private readonly opts: MqttTransportOptions,
    private readonly connection: MqttConnection,
    private readonly step: IngestStep,
    private readonly sink: SpoolSink,
    private readonly deadLetters: DeadLetters,
    private readonly stats: GatewayStats,
    private readonly logger: Logger,
  ) {
    const share = opts.shareGroup ? `$share/${opts.shareGroup}/` : '';
    this.subscriptions = {
      [share + filters.allTelemetry(opts.city)]: { qos: 1 },
      [share + filters.allHistory(opts.city)]: { qos: 1 },
      // Not shared: retained status messages are not delivered on shared subscriptions, and every
      // instance keeps its own devices-online gauge.
      [filters.allStatus(opts.city)]: { qos: 1 },
    };
    this.devicesPrefix = `${TOPIC_ROOT}/${opts.city}/devices/`;
  }

  start(): Promise<void> {
    return this.connection.start(this);
  }

  readonly handleMessage = (packet: IPublishPacket, done: () => void): void => {
    // Paused or stopping: leave it unacknowledged, the broker delivers it again.
    if (this.paused || this.stopped) return;
    if (this.take(packet.topic, packet.payload as Buffer, Date.now())) done();
    else this.pause();
  };

  /** One message; true: acknowledge it (durable, or refused for good). */
  private take(topic: string, payload: Buffer, receivedAt: number): boolean {
    // Fast path for telemetry (every message but a few): no split per message.
    if (topic.startsWith(this.devicesPrefix) && topic.endsWith('/telemetry')) {
      const id = topic.slice(this.devicesPrefix.length, -'/telemetry'.length);
      if (id.length > 0 && !id.includes('/')) return this.ingest(id, topic, payload, receivedAt, false);
    }
    const t = parseTopic(topic);
    if (!t || t.city !== this.opts.city || (t.kind !== 'telemetry' && t.kind !== 'history' && t.kind !== 'status')) {
      this.deadLetters.publish(
        { reason: 'bad_topic', detail: topic },
        { deviceId: 'unknown', payload, receivedAt, topic },
      );
      return true;
    }
    if (t.kind === 'status') {
      this.onStatus(t.id, payload);
      return true;
    }
    return this.ingest(t.id, topic, payload, receivedAt, t.kind === 'history');
  }

  private ingest(deviceId: string, topic: string, payload: Buffer, receivedAt: number, history: boolean): boolean {
    // Checked before QC sees it: a message that cannot be committed is redelivered and judged then.
    if (this.sink.full) return false;
    const result = this.step.message(deviceId, payload, receivedAt, history);
    if (!result.ok) {
      this.deadLetters.publish(result.error, { deviceId, payload, receivedAt, topic });
      return true;
    }
    return this.sink.commit(result.value, receivedAt);
  }

  /** Not committed: drop the connection without the acknowledgement, reconnect once there is room. */
  private pause(): void {
    if (this.paused || this.stopped) return;
    this.paused = true;
    this.stats.spoolBlocked++;
    this.logger.warn(
      { full: this.sink.full },
      'spool not writable: pausing intake (disconnected; the broker keeps the backlog) until it is',
    );
    this.connection.pause();
    this.resumeTimer = setInterval(() => {
      if (this.sink.full || this.stopped) return;
      clearInterval(this.resumeTimer);
      this.resumeTimer = undefined;
      this.paused = false;
      this.logger.info({}, 'spool writable again: resuming intake');
      this.connection.resume();
    }, RESUME_CHECK_MS);
  }

  private onStatus(deviceId: string, payload: Buffer): void {
    if (payload.length === 0 || !this.step.knows(deviceId)) return; // a cleared retained message, or not ours
    let status: unknown;
    try {
      status = JSON.parse(payload.toString('utf8'));
    } catch {
      return; // status is informational; a broken one is ignored, not dead-lettered
    }
    if (!deviceStatusValidator.Check(status)) return;
    if (status.state === 'online') this.stats.devicesOnline.add(deviceId);
    else this.stats.devicesOnline.delete(deviceId);
  }

  /** Stop taking messages (what arrives now stays unacknowledged for the next start). */
  stop(): void {
    this.stopped = true;
    clearInterval(this.resumeTimer);
  }
}
