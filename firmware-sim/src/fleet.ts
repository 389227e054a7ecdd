import { deviceIntervalMs } from '@cnx/domain';
import { DEVICE_MODELS } from './devices';
import { MqttTelemetryNode } from './devices/mqtt-node';
import type { PayloadFormat } from './devices/payload';
import type {
  AckedEvent,
  Budget,
  DeviceErrorEvent,
  DeviceStats,
  PublishedEvent,
  SimDevice,
  SimDeviceInfo,
  StatusEvent,
} from './devices/types';
import { checkFaultSpecs, createFaults } from './faults';
import type { Duration, FaultSpec } from './faults/types';
import { createScenario } from './scenarios';
import { mqttLinkFactory } from './transport/mqtt.transport';
import type { LinkFactory } from './transport/types';
import { createSimClock } from './util/clock';
import { parseDuration } from './util/duration';
import { unit } from './util/random';

export type FleetFormat = PayloadFormat | 'mixed';
export type FinishReason = 'max-messages' | 'duration' | 'sim-duration' | 'stopped';

export interface FleetOptions {
  /** City id, used in topics (cnx/v1/{city}/...). */
  city: string;
  devices: SimDeviceInfo[];
  /** Broker URL (default mqtt://127.0.0.1:1883) plus optional credentials / timeouts. */
  mqtt?: { url?: string; username?: string; password?: string; keepalive?: number; reconnectPeriod?: number };
  /**
   * MQTT client ids are `<deviceId>@<suffix>` when set, so this fleet can run beside another client
   * of the same device (the `npm start` fleet) without either taking over the other's session.
   * Default: client id = device id, as real firmware connects (docs/protocol.md); a production
   * broker with `use_username_as_clientid` replaces the client id with the username anyway.
   */
  clientIdSuffix?: string;
  /** Replace the transport (e.g. createMemoryBroker().factory in unit tests). */
  link?: LinkFactory;
  /** Scenario spec: 'normal' (default), 'haze', 'rain', or with params 'haze:peak=250'. */
  scenario?: string;
  seed?: number;
  /** Simulated ms per real ms (default 1). */
  timeScale?: number;
  /**
   * Reading interval in simulated time for every device. Default: each device's own cadence from the
   * city pack (`SimDeviceInfo.intervalS`, through deviceIntervalMs: 60 s when it names none).
   */
  interval?: Duration;
  /** Simulated start, epoch ms or ISO 8601 (default: now). */
  simStart?: number | string;
  /** City UTC offset in minutes (default +420; the CLIs pass the pack zone's). */
  utcOffsetMin?: number;
  /** json (default), senml, or mixed (devices alternate json / senml in fleet order). */
  format?: FleetFormat;
  faults?: FaultSpec[];
  /** Finish after this many telemetry publishes (fleet total). */
  maxMessages?: number;
  /** Finish after this much real time. */
  duration?: Duration;
  /** Finish when simulated time reaches simStart + simDuration (readings strictly before it are sent). */
  simDuration?: Duration;
  /** Per-device buffer while disconnected, readings (default 1000). */
  bufferCapacity?: number;
  /** Real-time tick, ms (default: half the real interval, within 5..200). */
  tickMs?: number;
  /** Real clock (tests). */
  realNow?: () => number;
}

export interface FleetStats {
  city: string;
  scenario: string;
  seed: number;
  timeScale: number;
  /** The shortest reading interval of the fleet's devices (each device's own is in perDevice). */
  intervalMs: number;
  simStart: number;
  simNow: number;
  realElapsedMs: number;
  finished?: FinishReason;
  devices: number;
  up: number;
  published: number;
  acked: number;
  failed: number;
  malformed: number;
  replayed: number;
  buffered: number;
  dropped: number;
  suppressed: number;
  /** Devices with at least one fault in effect now. */
  faultsActive: number;
  perDevice: DeviceStats[];
}

export interface FleetEvents {
  published: PublishedEvent;
  acked: AckedEvent;
  status: StatusEvent;
  error: DeviceErrorEvent;
  finished: FinishReason;
}

export interface Fleet {
  start(): Promise<void>;
  /** Publishes retained `offline` for each device, disconnects cleanly, clears every timer. Idempotent. */
  stop(): Promise<void>;
  stats(): FleetStats;
  /** Resolves when a bound (max messages, duration, sim duration) is reached, or on stop(). */
  readonly finished: Promise<FinishReason>;
  on<K extends keyof FleetEvents>(event: K, listener: (e: FleetEvents[K]) => void): () => void;
}

const SUM_KEYS = [
  'published',
  'acked',
  'failed',
  'malformed',
  'replayed',
  'buffered',
  'dropped',
  'suppressed',
] as const;

export function createFleet(options: FleetOptions): Fleet {
  const seed = options.seed ?? 1;
  const timeScale = options.timeScale ?? 1;
  const fixedInterval = options.interval === undefined ? undefined : parseDuration(options.interval);
  const intervalOf = (info: SimDeviceInfo): number => fixedInterval ?? deviceIntervalMs(info);
  for (const info of options.devices) {
    const ms = intervalOf(info);
    if (!(ms >= 1) || !Number.isFinite(ms))
      throw new Error(`device ${info.id}: interval must be >= 1 ms, got ${options.interval ?? `${info.intervalS} s`}`);
  }
  const intervalMs = options.devices.length ? Math.min(...options.devices.map(intervalOf)) : (fixedInterval ?? 10_000);
  const suffix = options.clientIdSuffix;
  if (suffix !== undefined && !/^[A-Za-z0-9_.-]{1,40}$/.test(suffix))
    throw new Error(`client id suffix must be 1-40 of A-Z a-z 0-9 _ . -, got ${JSON.stringify(suffix)}`);
  const simStart =
    typeof options.simStart === 'string' ? Date.parse(options.simStart) : (options.simStart ?? Date.now());
  if (!Number.isFinite(simStart)) throw new Error(`invalid simulated start: ${options.simStart}`);
  const simEnd = options.simDuration === undefined ? undefined : simStart + parseDuration(options.simDuration);
  const durationMs = options.duration === undefined ? undefined : parseDuration(options.duration);
  const maxMessages = options.maxMessages ?? Number.POSITIVE_INFINITY;
  const scenarioSpec = options.scenario ?? 'normal';
  const scenario = createScenario(scenarioSpec, { seed, simStart });
  const clock = createSimClock({ simStart, timeScale, realNow: options.realNow });
  const link = options.link ?? mqttLinkFactory({ url: 'mqtt://127.0.0.1:1883', ...options.mqtt });
  const faults = options.faults ?? [];
  checkFaultSpecs(
    faults,
    options.devices.map((d) => d.id),
  );

  const listeners = new Map<keyof FleetEvents, Set<(e: never) => void>>();
  const emit = <K extends keyof FleetEvents>(k: K, e: FleetEvents[K]) => {
    for (const fn of listeners.get(k) ?? []) (fn as (e: FleetEvents[K]) => void)(e);
  };

  let published = 0;
  const budget: Budget = {
    take: () => {
      if (published >= maxMessages) return false;
      published++;
      return true;
    },
    remaining: () => maxMessages - published,
  };

  const devices: SimDevice[] = options.devices.map((info, i) => {
    const def = DEVICE_MODELS[info.model];
    if (!def?.transports.includes(info.transport)) {
      throw new Error(`device ${info.id}: model "${info.model}" over ${info.transport} is not simulated`);
    }
    const sensor = def.createSensor({ info, seed, utcOffsetMin: options.utcOffsetMin ?? 420, scenario });
    const format: PayloadFormat =
      options.format === 'mixed' ? (i % 2 === 0 ? 'json' : 'senml') : (options.format ?? 'json');
    const deviceInterval = intervalOf(info);
    return new MqttTelemetryNode({
      info,
      clientId: suffix === undefined ? info.id : `${info.id}@${suffix}`,
      city: options.city,
      sensor,
      link,
      faults: createFaults(faults, { seed, simStart, deviceId: info.id, spikeMetrics: sensor.spikeMetrics }),
      format,
      intervalMs: deviceInterval,
      phaseMs: Math.floor(unit(seed, 'phase', info.id) * deviceInterval),
      simStart,
      simNow: () => clock.now(),
      budget,
      bufferCapacity: options.bufferCapacity ?? 1000,
      events: {
        published: (e) => emit('published', e),
        acked: (e) => emit('acked', e),
        status: (e) => emit('status', e),
        error: (e) => emit('error', e),
      },
    });
  });

  let timer: ReturnType<typeof setInterval> | undefined;
  let finishedReason: FinishReason | undefined;
  let resolveFinished: (r: FinishReason) => void = () => {};
  const finished = new Promise<FinishReason>((r) => {
    resolveFinished = r;
  });
  let stopping: Promise<void> | undefined;

  const finish = (reason: FinishReason) => {
    if (finishedReason) return;
    finishedReason = reason;
    if (timer) clearInterval(timer);
    timer = undefined;
    resolveFinished(reason);
    emit('finished', reason);
  };

  const tick = () => {
    const now = clock.now();
    const until = simEnd === undefined ? now : Math.min(now, simEnd - 1);
    for (const d of devices) d.advance(until);
    if (budget.remaining() <= 0) finish('max-messages');
    else if (simEnd !== undefined && now >= simEnd) finish('sim-duration');
    else if (durationMs !== undefined && clock.realElapsed() >= durationMs) finish('duration');
  };

  return {
    finished,
    on(event, listener) {
      const set = listeners.get(event) ?? new Set();
      listeners.set(event, set);
      set.add(listener as (e: never) => void);
      return () => set.delete(listener as (e: never) => void);
    },
    async start() {
      const results = await Promise.allSettled(devices.map((d) => d.start()));
      const failures = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failures.length > 0) {
        await Promise.all(devices.map((d) => d.stop()));
        const first = failures.slice(0, 3).map((f) => (f.reason as Error).message);
        throw new Error(`${failures.length}/${devices.length} devices could not connect: ${first.join('; ')}`);
      }
      clock.start();
      const realInterval = intervalMs / timeScale;
      timer = setInterval(tick, options.tickMs ?? Math.min(200, Math.max(5, realInterval / 2)));
      tick();
    },
    stop() {
      stopping ??= (async () => {
        finish('stopped');
        await Promise.all(devices.map((d) => d.stop()));
      })();
      return stopping;
    },
    stats() {
      const simNow = Math.min(clock.now(), simEnd ?? Number.POSITIVE_INFINITY);
      const perDevice = devices.map((d) => d.stats(simNow));
      const s: FleetStats = {
        city: options.city,
        scenario: scenarioSpec,
        seed,
        timeScale,
        intervalMs,
        simStart,
        simNow,
        realElapsedMs: clock.realElapsed(),
        devices: devices.length,
        up: perDevice.filter((d) => d.up).length,
        published: 0,
        acked: 0,
        failed: 0,
        malformed: 0,
        replayed: 0,
        buffered: 0,
        dropped: 0,
        suppressed: 0,
        faultsActive: perDevice.filter((d) => d.faultsActive.length > 0).length,
        perDevice,
      };
      for (const d of perDevice) for (const k of SUM_KEYS) s[k] += d[k];
      if (finishedReason) s.finished = finishedReason;
      return s;
    },
  };
}
