import type { ReadBlock } from '@cnx/device-models';
import { type DeviceEventPayload, topics } from '@cnx/protocol';
import type { Logger } from '@cnx/runtime';
import type { DeadLetters } from '../ingest/dead-letters';
import type { BusPublisher } from '../ingest/republisher';
import type { SpoolSink } from '../ingest/sink';
import type { IngestStep } from '../ingest/step';
import { type DecodedPoll, type DevicePlan, decodePoll, planDevice } from './codec';
import type { ModbusBusConfig, ModbusConfig, ModbusDeviceConfig } from './config';
import { classifyModbusError, ModbusRequestError } from './errors';
import { DeviceHealth, type DeviceHealthJson } from './health';
import { RtuBusAdapter } from './rtu.adapter';
import { PollSchedule, spreadPhase } from './scheduler';
import { TcpBusAdapter } from './tcp.adapter';
import type { ModbusBus, ReadResponse } from './transport';

/** The ingest stages a polled reading goes through (the same as MQTT's; gateway.ts builds them). */
export interface PolledIngest {
  step: Pick<IngestStep, 'decoded'>;
  sink: Pick<SpoolSink, 'full' | 'commit'>;
  deadLetters: Pick<DeadLetters, 'publish'>;
}

const NO_PAYLOAD = Buffer.alloc(0);

/** Bus adapters by transport name (docs/architecture.md house style 2). */
export const BUS_ADAPTERS: {
  [T in ModbusBusConfig['transport']]: (cfg: ModbusBusConfig, logger: Logger) => ModbusBus;
} = {
  tcp: (cfg, logger) => new TcpBusAdapter(cfg as Extract<ModbusBusConfig, { transport: 'tcp' }>, logger),
  rtu: (cfg, logger) => new RtuBusAdapter(cfg as Extract<ModbusBusConfig, { transport: 'rtu' }>, logger),
};

export interface ModbusPollerDeps {
  config: ModbusConfig;
  /** City id, for the event topics. */
  city: string;
  ingest: PolledIngest;
  /** Publishes device-offline / device-online events (the gateway's MQTT connection). */
  bus: BusPublisher;
  logger: Logger;
  /** Bus adapters by bus id; default: built from config.buses with BUS_ADAPTERS. */
  buses?: Map<string, ModbusBus>;
  /** Pause before retrying after a busy/acknowledge exception (codes 6/5). Default 100 ms. */
  busyRetryDelayMs?: number;
}

export interface ModbusStatusReport {
  generatedAt: string;
  buses: { id: string; transport: 'tcp' | 'rtu'; connected: boolean; queueDepth: number; devices: number }[];
  devices: DeviceHealthJson[];
}

interface PolledDevice {
  cfg: ModbusDeviceConfig;
  plan: DevicePlan;
  bus: ModbusBus;
  health: DeviceHealth;
  schedule: PollSchedule;
  /** The dead letters' `topic` for this device's readings. */
  source: string;
  slot: number;
  timer?: NodeJS.Timeout;
  busy: boolean;
}

/**
 * Polls the configured Modbus devices and feeds each reading through the ingest stages, as MQTT
 * does: step.decoded (the decoded values as they are, no JSON) -> sink.commit -> republish.
 *
 * Scheduling (scheduler.ts): every device has its own fixed-rate slots (spread over the interval per
 * bus) and its own timer; the next slot is armed before a poll starts, so a slow poll never shifts a
 * schedule. A device with a poll still running skips the slot; a failing device backs off
 * exponentially (capped) and skips its slots meanwhile. Requests on one RTU bus are strictly
 * sequential (one queue per bus); TCP devices each have their own connection by default, so a dead
 * TCP device costs the others nothing. On a shared RTU bus a dead device costs one timeout per
 * attempt, which is why attempts are capped (retries) and backoff skips its turns.
 *
 * Health per device (health.ts) is read by the metrics and GET /modbus/status. After offlineAfterMs
 * without a successful poll a device-offline event is published on the bus, and device-online when
 * it answers again. Status register bits are not QC flags (those are stable codes about values):
 * they are shown in the device's health and logged when they change.
 */
export class ModbusPoller {
  private readonly devices = new Map<string, PolledDevice>();
  private readonly buses = new Map<string, ModbusBus>();
  private readonly inflight = new Set<Promise<void>>();
  private readonly rttObservers: ((device: string, seconds: number) => void)[] = [];
  private stopped = true;
  private startedAt = 0;

  constructor(private readonly deps: ModbusPollerDeps) {}

  /** Called with every measured round trip (answers and exception answers), for the RTT histogram. */
  onRtt(fn: (device: string, seconds: number) => void): void {
    this.rttObservers.push(fn);
  }

  /** Health of every device, in config order. */
  healths(): DeviceHealth[] {
    return [...this.devices.values()].map((d) => d.health);
  }

  busList(): ModbusBus[] {
    return [...this.buses.values()];
  }

  async start(): Promise<void> {
    const { config, logger } = this.deps;
    this.stopped = false;
    this.startedAt = Date.now();
    for (const b of config.buses) {
      this.buses.set(b.id, this.deps.buses?.get(b.id) ?? BUS_ADAPTERS[b.transport](b, logger.child({ bus: b.id })));
    }
    await Promise.all([...this.buses.values()].map((b) => b.start()));
    // Devices are spread over their interval per RTU line (one request at a time), and all TCP devices
    // together (independent, but a burst of every reading in the same millisecond helps no one).
    const groups = new Map<string, ModbusDeviceConfig[]>();
    for (const d of config.devices) {
      const bus = this.buses.get(d.bus);
      if (!bus) throw new Error(`modbus: device bus ${d.bus} is not configured`);
      const key = bus.transport === 'rtu' ? `rtu:${d.bus}` : 'tcp';
      groups.set(key, [...(groups.get(key) ?? []), d]);
    }
    const phase = new Map<string, number>();
    for (const list of groups.values())
      list.forEach((d, i) => {
        phase.set(d.deviceId, spreadPhase(i, list.length, d.intervalMs));
      });
    for (const cfg of config.devices) {
      const busId = cfg.bus;
      const bus = this.buses.get(busId) as ModbusBus;
      const transport = bus.transport === 'tcp' ? 'modbus-tcp' : 'modbus-rtu';
      const schedule = new PollSchedule(
        {
          intervalMs: cfg.intervalMs,
          phaseMs: phase.get(cfg.deviceId) ?? 0,
          backoffBaseMs: cfg.intervalMs,
          backoffMaxMs: cfg.maxBackoffMs,
        },
        this.startedAt,
      );
      const health = new DeviceHealth(
        cfg.deviceId,
        cfg.stationId,
        busId,
        transport,
        cfg.unitId,
        cfg.registerMap,
        cfg.intervalMs,
        cfg.offlineAfterMs,
      );
      health.statusBits = Object.keys(cfg.map.status?.bits ?? {});
      const dev: PolledDevice = {
        cfg,
        plan: planDevice(cfg),
        bus,
        health,
        schedule,
        source: `${transport}://${busId}/${cfg.unitId}`,
        slot: 0,
        busy: false,
      };
      this.devices.set(cfg.deviceId, dev);
      this.arm(dev, schedule.slotAtOrAfter(this.startedAt));
    }
    logger.info(
      { buses: config.buses.length, devices: config.devices.length },
      config.devices.length ? 'modbus poller started' : 'modbus poller started with no devices',
    );
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const d of this.devices.values()) clearTimeout(d.timer);
    // Stopping the buses fails whatever is queued or in flight, so the polls settle promptly.
    await Promise.all([...this.buses.values()].map((b) => b.stop()));
    await Promise.allSettled([...this.inflight]);
  }

  status(): ModbusStatusReport {
    const now = Date.now();
    const count = new Map<string, number>();
    for (const d of this.devices.values()) count.set(d.cfg.bus, (count.get(d.cfg.bus) ?? 0) + 1);
    return {
      generatedAt: new Date(now).toISOString(),
      buses: [...this.buses.values()].map((b) => ({
        id: b.id,
        transport: b.transport,
        connected: b.connected,
        queueDepth: b.queueDepth,
        devices: count.get(b.id) ?? 0,
      })),
      devices: this.healths().map((h) => h.toJSON(now)),
    };
  }

  private arm(dev: PolledDevice, slot: number): void {
    dev.slot = slot;
    dev.timer = setTimeout(() => this.tick(dev), Math.max(0, slot - Date.now()));
  }

  private tick(dev: PolledDevice): void {
    if (this.stopped) return;
    const slot = dev.slot;
    const now = Date.now();
    this.arm(dev, dev.schedule.nextSlot(slot, now));
    const decision = dev.schedule.decide(slot, dev.busy);
    if (decision === 'poll') {
      const p = this.poll(dev, slot);
      this.inflight.add(p);
      void p.finally(() => this.inflight.delete(p));
    } else {
      dev.health.polls[decision]++;
    }
    this.checkOffline(dev, now);
  }

  private async poll(dev: PolledDevice, slot: number): Promise<void> {
    const { health: h } = dev;
    dev.busy = true;
    h.lastAttemptAt = Date.now();
    try {
      const words: number[][] = [];
      let ts: number | undefined;
      for (const block of dev.plan.blocks) {
        const res = await this.request(dev, block);
        ts ??= res.sentAt;
        words.push(res.words);
      }
      let decoded: DecodedPoll;
      try {
        decoded = decodePoll(dev.plan, dev.cfg.map, words);
      } catch (e) {
        const err = new ModbusRequestError('decode', (e as Error).message);
        h.recordError(err, Date.now());
        throw err;
      }
      this.succeeded(dev, decoded, Date.now());
      try {
        this.ingest(dev, ts ?? Date.now(), decoded);
      } catch (e) {
        this.deps.logger.error({ err: e, device: dev.cfg.deviceId }, 'modbus reading could not be ingested');
      }
    } catch (e) {
      if (!this.stopped) this.failed(dev, slot, classifyModbusError(e));
    } finally {
      dev.busy = false;
      if (!this.stopped) this.checkOffline(dev, Date.now());
    }
  }

  /** One block, with up to `retries` extra attempts for retryable errors. */
  private async request(dev: PolledDevice, block: ReadBlock): Promise<ReadResponse> {
    const { cfg, health: h } = dev;
    const req = {
      unitId: cfg.unitId,
      fn: block.fn,
      address: block.address,
      length: block.length,
      timeoutMs: cfg.timeoutMs,
    };
    for (let attempt = 1; ; attempt++) {
      h.requests++;
      try {
        const res = await dev.bus.read(cfg.deviceId, req);
        this.observeRtt(dev, res.rttMs);
        return res;
      } catch (e) {
        const err = classifyModbusError(e);
        if (this.stopped) throw err;
        h.recordError(err, Date.now());
        if (err.rttMs !== undefined) this.observeRtt(dev, err.rttMs);
        if (attempt > cfg.retries || !err.retryable) throw err;
        if (err.busy) await new Promise((r) => setTimeout(r, this.deps.busyRetryDelayMs ?? 100));
      }
    }
  }

  private observeRtt(dev: PolledDevice, ms: number): void {
    dev.health.lastRttMs = ms;
    for (const fn of this.rttObservers) fn(dev.cfg.deviceId, ms / 1000);
  }

  private succeeded(dev: PolledDevice, decoded: DecodedPoll, now: number): void {
    const { health: h, schedule } = dev;
    schedule.recordSuccess();
    h.consecutiveFailures = 0;
    h.backoffUntil = undefined;
    const silentSince = h.lastSuccessAt ?? this.startedAt;
    h.lastSuccessAt = now;
    h.registers = decoded.registers;
    if (h.state === 'offline') {
      this.deps.logger.info({ device: dev.cfg.deviceId, silenceMs: now - silentSince }, 'modbus device back online');
      this.publishEvent(dev, 'device-online', now, now - silentSince);
    }
    h.state = 'online';
    if (decoded.status) this.updateStatus(dev, decoded.status, now);
  }

  private updateStatus(dev: PolledDevice, status: { raw: number; active: string[] }, now: number): void {
    const h = dev.health;
    const before = h.status?.active ?? [];
    const changed = before.length !== status.active.length || before.some((b, i) => b !== status.active[i]);
    if (!h.status || changed) {
      const raised = status.active.filter((b) => !before.includes(b));
      const cleared = before.filter((b) => !status.active.includes(b));
      if (raised.length || cleared.length)
        this.deps.logger[raised.length ? 'warn' : 'info'](
          { device: dev.cfg.deviceId, status: status.raw, active: status.active, raised, cleared },
          'modbus device status changed',
        );
      h.status = { ...status, since: now };
    } else {
      h.status = { ...h.status, raw: status.raw };
    }
  }

  /** The transport's commit path: step -> sink (durable before the poll counts as done) or dead letter. */
  private commit(
    dev: PolledDevice,
    ts: number,
    decoded: DecodedPoll,
    receivedAt: number,
  ): 'accepted' | 'rejected' | 'full' {
    const { step, sink, deadLetters } = this.deps.ingest;
    if (sink.full) return 'full';
    const deviceId = dev.cfg.deviceId;
    const result = step.decoded(deviceId, { ts, values: decoded.values }, receivedAt);
    if (!result.ok) {
      deadLetters.publish(result.error, { deviceId, payload: NO_PAYLOAD, receivedAt, topic: dev.source });
      return 'rejected';
    }
    return sink.commit(result.value, receivedAt) ? 'accepted' : 'full';
  }

  private ingest(dev: PolledDevice, ts: number, decoded: DecodedPoll): void {
    const { health: h } = dev;
    const receivedAt = Date.now();
    const result = this.commit(dev, ts, decoded, receivedAt);
    if (result === 'accepted') {
      h.polls.ok++;
      h.lastAcceptedAt = receivedAt;
    } else if (result === 'rejected') {
      // The device answered, but the values are NaN or impossible: dead-lettered.
      h.polls.rejected++;
      h.recordError(
        new ModbusRequestError('decode', 'reading rejected by the pipeline (see dead letters)'),
        receivedAt,
      );
      this.deps.logger.debug({ device: dev.cfg.deviceId }, 'modbus reading rejected');
    } else {
      h.polls.spool_full++;
    }
  }

  private failed(dev: PolledDevice, slot: number, err: ModbusRequestError): void {
    const { health: h, schedule } = dev;
    h.polls.failed++;
    const until = schedule.recordFailure(slot);
    h.consecutiveFailures = schedule.consecutiveFailures;
    h.backoffUntil = until;
    const log = { device: dev.cfg.deviceId, kind: err.kind, code: err.exceptionCode, err: err.message };
    if (h.consecutiveFailures === 1) this.deps.logger.warn(log, 'modbus poll failed');
    else this.deps.logger.debug({ ...log, failures: h.consecutiveFailures, backoffUntil: until }, 'modbus poll failed');
  }

  private checkOffline(dev: PolledDevice, now: number): void {
    const h = dev.health;
    if (h.state === 'offline') return;
    const silence = now - (h.lastSuccessAt ?? this.startedAt);
    if (silence < dev.cfg.offlineAfterMs) return;
    h.state = 'offline';
    this.deps.logger.warn(
      { device: dev.cfg.deviceId, silenceMs: silence, failures: h.consecutiveFailures, lastError: h.lastError },
      'modbus device offline',
    );
    this.publishEvent(dev, 'device-offline', now, silence);
  }

  private publishEvent(dev: PolledDevice, event: DeviceEventPayload['event'], now: number, silenceMs: number): void {
    const h = dev.health;
    const payload: DeviceEventPayload = {
      v: 1,
      event,
      city: this.deps.city,
      station: dev.cfg.stationId,
      device: dev.cfg.deviceId,
      transport: h.transport,
      ts: now,
      lastSuccessAt: event === 'device-online' ? now : (h.lastSuccessAt ?? null),
      silenceMs,
      consecutiveFailures: h.consecutiveFailures,
    };
    if (h.lastError) payload.lastError = h.lastError;
    const topic = topics.deviceEvent(this.deps.city, event);
    try {
      this.deps.bus.publish(topic, JSON.stringify(payload));
    } catch (e) {
      this.deps.logger.error({ err: e, topic }, 'publishing a modbus device event failed');
    }
  }
}
