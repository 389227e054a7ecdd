import { type DeviceStatusPayload, topics } from '@cnx/protocol';
import type { Fault, MalformedKind } from '../faults/types';
import type { DeviceLink, LinkFactory, OutMessage } from '../transport/types';
import { Waits } from '../util/waits';
import { encodeReading, type PayloadFormat, type SimReading } from './payload';
import type { Budget, DeviceStats, NodeEvents, SensorModel, SimDevice, SimDeviceInfo } from './types';

export interface NodeOptions {
  info: SimDeviceInfo;
  /** MQTT client id (default: the device id, as real firmware; see FleetOptions.clientIdSuffix). */
  clientId?: string;
  city: string;
  sensor: SensorModel;
  link: LinkFactory;
  faults: Fault[];
  format: PayloadFormat;
  /** Reading interval in simulated ms (the device's own clock). */
  intervalMs: number;
  /** Offset of this device's first reading after simStart, so a fleet does not publish in lockstep. */
  phaseMs: number;
  simStart: number;
  /** Current simulated time (status timestamps). */
  simNow: () => number;
  budget: Budget;
  /** Device buffer for readings taken while disconnected (oldest dropped when full). */
  bufferCapacity: number;
  events: NodeEvents;
}

interface Pending {
  msg: OutMessage;
  seq: number;
  ts: number;
  t: number;
  malformed?: MalformedKind;
}

/**
 * Generic MQTT telemetry firmware: a reading every interval, a uint32 seq, QoS 1 publishes, a retained
 * `online` status on every connect and a retained `offline` last will, a send buffer while the link is
 * down. The sensor model supplies values; faults hook in at each step.
 */
export class MqttTelemetryNode implements SimDevice {
  private seq = 0;
  private nextDue: number;
  private readonly buffer: Pending[] = [];
  private readonly link: DeviceLink;
  private readonly topic: string;
  private forcedDown = false;
  private storming = false;
  private stopped = false;
  private up = false;
  private readonly waits = new Waits();
  private readonly n = {
    connects: 0,
    published: 0,
    acked: 0,
    failed: 0,
    malformed: 0,
    replayed: 0,
    suppressed: 0,
    dropped: 0,
  };
  private seqFirst: number | undefined;
  private seqLast: number | undefined;
  private tsMin: number | undefined;
  private tsMax: number | undefined;

  constructor(private readonly o: NodeOptions) {
    this.nextDue = o.simStart + o.phaseMs;
    this.topic = topics.telemetry(o.city, o.info.id);
    this.link = o.link({
      clientId: o.clientId ?? o.info.id,
      will: this.statusMessage({ state: 'offline' }),
      handlers: {
        onConnect: () => this.onConnect(),
        onClose: () => this.onClose(),
        onError: (error) => o.events.error({ deviceId: o.info.id, error }),
      },
    });
  }

  get info(): SimDeviceInfo {
    return this.o.info;
  }

  start(): Promise<void> {
    return this.link.connect();
  }

  advance(until: number): void {
    while (!this.stopped && this.nextDue <= until) {
      if (this.o.budget.remaining() <= 0) return;
      const t = this.nextDue;
      this.nextDue += this.o.intervalMs;
      this.tick(t);
    }
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.waits.cancelAll();
    const last = this.link.connected ? this.statusMessage({ state: 'offline', ts: this.deviceNow() }) : undefined;
    await this.link.close(last);
    this.markDown();
  }

  stats(simNow: number): DeviceStats {
    const s: DeviceStats = {
      deviceId: this.o.info.id,
      clientId: this.o.clientId ?? this.o.info.id,
      model: this.o.info.model,
      intervalMs: this.o.intervalMs,
      format: this.o.format,
      up: this.up,
      ...this.n,
      buffered: this.buffer.length,
      faults: this.o.faults.map((f) => f.label),
      faultsActive: this.o.faults.filter((f) => f.active(simNow)).map((f) => f.mode),
    };
    if (this.seqFirst !== undefined) s.seqFirst = this.seqFirst;
    if (this.seqLast !== undefined) s.seqLast = this.seqLast;
    if (this.tsMin !== undefined) s.tsMin = this.tsMin;
    if (this.tsMax !== undefined) s.tsMax = this.tsMax;
    return s;
  }

  private tick(t: number): void {
    const { faults } = this.o;
    const states = faults.map((f) => f.link?.(t) ?? 'up');
    this.setForcedDown(states.includes('down'));
    for (const f of faults) {
      const storm = f.storm?.(t);
      if (storm) void this.runStorm(storm.count, storm.gapMs);
    }
    if (states.includes('silent')) {
      this.n.suppressed++;
      return;
    }
    const ts = Math.round(t + this.clockOffset(t));
    const seq = this.seq;
    this.seq = (this.seq + 1) >>> 0; // uint32 counter that wraps, as on the wire
    let values = this.o.sensor.read(t);
    for (const f of faults) if (f.values) values = f.values(values, { t, seq });
    const reading: SimReading = {
      deviceId: this.o.info.id,
      seq,
      ts,
      values,
      units: this.o.sensor.units,
      fw: this.o.sensor.fw,
    };
    const p: Pending = { msg: this.telemetry(encodeReading(this.o.format, reading)), seq, ts, t };
    for (const f of faults) {
      const bad = f.message?.(reading, this.o.format, t);
      if (bad) {
        p.msg = this.telemetry(bad.payload);
        p.malformed = bad.kind;
      }
    }
    this.send(p);
  }

  private clockOffset(t: number): number {
    return this.o.faults.reduce((sum, f) => sum + (f.clockOffsetMs?.(t) ?? 0), 0);
  }

  private deviceNow(): number {
    const t = this.o.simNow();
    return Math.round(t + this.clockOffset(t));
  }

  private telemetry(payload: string | Uint8Array): OutMessage {
    return { topic: this.topic, payload, qos: 1, retain: false };
  }

  private statusMessage(status: DeviceStatusPayload): OutMessage {
    return {
      topic: topics.status(this.o.city, this.o.info.id),
      payload: JSON.stringify({ ...status, fw: this.o.sensor.fw }),
      qos: 1,
      retain: true,
    };
  }

  private canSend(): boolean {
    return !this.stopped && !this.forcedDown && this.link.connected;
  }

  private send(p: Pending): void {
    if (this.buffer.length === 0 && this.canSend() && this.o.budget.take()) this.publish(p, false);
    else this.enqueue(p);
  }

  private enqueue(p: Pending): void {
    const caps = this.o.faults.map((f) => f.bufferCapacity).filter((c): c is number => c !== undefined);
    const capacity = caps.length ? Math.min(...caps) : this.o.bufferCapacity;
    while (this.buffer.length >= capacity) {
      this.buffer.shift();
      this.n.dropped++;
    }
    this.buffer.push(p);
  }

  /** Replay the buffer in order, in one burst, each message with its original ts and seq. */
  private flush(): void {
    while (this.buffer.length > 0 && this.canSend() && this.o.budget.take()) {
      this.publish(this.buffer.shift() as Pending, true);
    }
  }

  private publish(p: Pending, replayed: boolean): void {
    const id = this.o.info.id;
    this.n.published++;
    if (p.malformed) this.n.malformed++;
    if (replayed) this.n.replayed++;
    this.seqFirst ??= p.seq;
    this.seqLast = p.seq;
    this.tsMin = Math.min(this.tsMin ?? p.ts, p.ts);
    this.tsMax = Math.max(this.tsMax ?? p.ts, p.ts);
    const e = {
      deviceId: id,
      topic: p.msg.topic,
      seq: p.seq,
      ts: p.ts,
      t: p.t,
      format: this.o.format,
      payload: p.msg.payload,
      replayed,
    };
    this.o.events.published(p.malformed ? { ...e, malformed: p.malformed } : e);
    this.link.publish(p.msg).then(
      () => {
        this.n.acked++;
        this.o.events.acked({ deviceId: id, seq: p.seq });
      },
      () => {
        this.n.failed++; // clean session: an in-flight QoS 1 message dies with the connection
      },
    );
  }

  private onConnect(): void {
    this.n.connects++;
    this.up = true;
    this.o.events.status({ deviceId: this.o.info.id, state: 'online', reason: 'connect' });
    this.link.publish(this.statusMessage({ state: 'online', ts: this.deviceNow() })).catch(() => {});
    this.waits.signal();
    this.flush();
  }

  private onClose(): void {
    this.markDown();
  }

  private markDown(): void {
    if (!this.up) return;
    this.up = false;
    this.o.events.status({ deviceId: this.o.info.id, state: 'offline', reason: this.stopped ? 'stop' : 'lost' });
  }

  private setForcedDown(down: boolean): void {
    if (down === this.forcedDown) return;
    this.forcedDown = down;
    if (down) {
      this.link.drop(); // abrupt: the broker publishes our will
    } else if (!this.storming) {
      this.link.reconnect(); // onConnect replays the buffer
    }
  }

  private async runStorm(count: number, gapMs: number): Promise<void> {
    if (this.storming) return;
    this.storming = true;
    try {
      for (let i = 0; i < count && !this.stopped && !this.forcedDown; i++) {
        this.link.drop();
        await this.waits.sleep(gapMs);
        if (this.stopped || this.forcedDown) break;
        this.link.reconnect();
        if (!this.link.connected) await this.waits.untilSignal(Math.max(2000, gapMs * 4));
        await this.waits.sleep(gapMs);
      }
    } finally {
      this.storming = false;
      if (!this.stopped && !this.forcedDown && !this.link.connected) this.link.reconnect();
    }
  }
}
