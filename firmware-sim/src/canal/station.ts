/**
 * A simulated canal station: a field logger serving a register map (@cnx/device-models) over Modbus
 * TCP and/or RTU, with values from the pure canal model and scriptable communication faults.
 *
 *   const station = createCanalStation({ info, tcp: { port: 15020 }, wordOrder: 'CDAB', timeScale: 0 });
 *   await station.start();  // ... poll it ...
 *   station.valuesAt();     // what a master decodes right now
 *   await station.stop();
 */
import { encodeStatus, loadRegisterMap, type RegisterMap, type WordOrder } from '@cnx/device-models';
import { createSimClock } from '../util/clock';
import { unit as unitDraw } from '../util/random';
import { type CanalFault, type CanalFaultSpec, lastRebootBefore, resolveCanalFault } from './faults';
import { EXCEPTION, type ModbusOutcome, type ModbusRequest, type Transport } from './modbus';
import { type CanalModel, type CanalReading, canalReading, doSaturation } from './model';
import { buildImage, checkWrite, type RegisterImage, readImage, servedValues, type UnmappedReads } from './registers';
import { createRtuBus, type RtuBus, type RtuBusOptions } from './rtu.bus';
import { type CanalScenario, createCanalScenario } from './scenarios';
import { createTcpEndpoint, type TcpEndpoint } from './tcp.server';
import type { CanalRequestEvent, CanalStationInfo, CanalStationStats } from './types';

export interface CanalClock {
  now(): number;
  start(): void;
}

/** Simulated time: `now` if given; frozen at simStart when timeScale is 0; else simStart + real x scale. */
export function createCanalClock(o: { simStart: number; timeScale: number; now?: () => number }): CanalClock {
  if (o.now) return { now: o.now, start() {} };
  if (o.timeScale === 0) return { now: () => o.simStart, start() {} };
  const c = createSimClock({ simStart: o.simStart, timeScale: o.timeScale });
  return { now: () => c.now(), start: () => c.start() };
}

export interface CanalStationOptions {
  info: CanalStationInfo;
  /** Default: loadRegisterMap(info.model). */
  map?: RegisterMap;
  /** Modbus unit id, 1..247 (default 1). On TCP the station also answers unit ids 0 and 255. */
  unitId?: number;
  /** Word order of 32-bit registers without their own (default: the map's). */
  wordOrder?: WordOrder;
  seed?: number;
  /** 'normal' | 'rain' | 'flood', with params ('flood:rise=1h'), or a scenario object. */
  scenario?: string | CanalScenario;
  /** Simulated start, epoch ms or ISO 8601 (default now). */
  simStart?: number | string;
  /** Simulated ms per real ms; 0 freezes time at simStart (default 1). */
  timeScale?: number;
  /** Simulated clock override (tests; fleets share theirs). */
  now?: () => number;
  utcOffsetMin?: number;
  faults?: readonly CanalFaultSpec[];
  /** Serve Modbus TCP here (ServerTCP cannot take port 0: pick a free port first). */
  tcp?: { port: number; host?: string };
  /** Serve Modbus RTU on a private bus on this serial device (fleets attach stations to shared buses). */
  rtu?: RtuBusOptions;
  /** Reads touching unmapped addresses: exception 2 (default, like most loggers) or zeros. */
  unmapped?: UnmappedReads;
  /** Measurement interval, simulated seconds (default 10; holding register sample_interval). */
  sampleInterval?: number;
}

export interface CanalStation {
  readonly info: CanalStationInfo;
  readonly map: RegisterMap;
  readonly unitId: number;
  readonly wordOrder: WordOrder;
  readonly faults: readonly CanalFault[];
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Current simulated time. */
  now(): number;
  /** The values a master decodes at simulated time t (default now), by register name (NaN = probe fault). */
  valuesAt(t?: number): Record<string, number>;
  /** The model's reading behind them (engineering values before register encoding). */
  readingAt(t?: number): CanalReading;
  /** The raw register words served at t (fn 3 holding / 4 input), unmapped addresses as undefined. */
  wordsAt(fn: 3 | 4, address: number, quantity: number, t?: number): (number | undefined)[];
  /** The station is in an offline window at t. */
  offlineAt(t?: number): boolean;
  /** Answer one request (the TCP and RTU front ends call this). */
  handle(unit: number, req: ModbusRequest, transport: Transport): ModbusOutcome;
  endpoints(): { tcp?: { host: string; port: number }; rtu?: { path: string; baudRate: number } };
  stats(): CanalStationStats;
  on(event: 'request', listener: (e: CanalRequestEvent) => void): () => void;
  on(event: 'error', listener: (e: Error) => void): () => void;
}

const FIRMWARE_VERSION = 0x0102; // 1.2
const TCP_SYNC_MS = 50;

export function createCanalStation(opts: CanalStationOptions): CanalStation {
  const info = opts.info;
  const map = opts.map ?? loadRegisterMap(info.model);
  const unitId = opts.unitId ?? 1;
  if (!(Number.isInteger(unitId) && unitId >= 1 && unitId <= 247))
    throw new Error(`unit id must be 1..247, got ${unitId}`);
  const wordOrder = opts.wordOrder ?? map.wordOrder;
  const seed = opts.seed ?? 1;
  const simStart = typeof opts.simStart === 'string' ? Date.parse(opts.simStart) : (opts.simStart ?? Date.now());
  if (!Number.isFinite(simStart)) throw new Error(`invalid simulated start: ${opts.simStart}`);
  const timeScale = opts.timeScale ?? 1;
  if (!(timeScale >= 0) || !Number.isFinite(timeScale)) throw new Error(`timeScale must be >= 0, got ${timeScale}`);
  const clock = createCanalClock({ simStart, timeScale, now: opts.now });
  const scenario =
    typeof opts.scenario === 'object' ? opts.scenario : createCanalScenario(opts.scenario ?? 'normal', { simStart });
  const model: CanalModel = {
    seed,
    utcOffsetMin: opts.utcOffsetMin ?? 420,
    scenario,
    ...(info.reference ? { reference: info.reference } : {}),
  };
  const site = { deviceId: info.id, stationId: info.stationId, location: info.location, levels: info.levels };
  const faults = (opts.faults ?? [])
    .filter((f) => f.device === info.id || f.device === '*')
    .map((f) => resolveCanalFault(f, { seed, simStart, deviceId: info.id }));
  const unmapped = opts.unmapped ?? 'exception';
  let sampleInterval = opts.sampleInterval ?? 10;
  // The logger had been running for up to a week when the simulation starts.
  const firstBoot = simStart - Math.floor(unitDraw(seed, 'boot', info.id) * 7 * 86_400) * 1000;

  const requestListeners = new Set<(e: CanalRequestEvent) => void>();
  const errorListeners = new Set<(e: Error) => void>();
  const emitError = (e: Error) => {
    for (const l of errorListeners) l(e);
  };
  const counters = { requests: 0, tcp: 0, rtu: 0, answered: 0, silent: 0, dropped: 0, badCrc: 0 };
  const exceptions: Record<number, number> = {};

  const offlineAt = (t = clock.now()) => faults.some((f) => f.mode === 'offline' && f.active(t));
  const probeFaultAt = (t: number) => faults.some((f) => f.mode === 'probe-fault' && f.active(t));
  const sampleTime = (t: number) => {
    const ms = sampleInterval * 1000;
    return Math.floor(t / ms) * ms;
  };
  const bootAt = (t: number) => {
    let boot = firstBoot;
    for (const f of faults) {
      const r = lastRebootBefore(f, simStart, t);
      if (r !== undefined && r > boot) boot = r;
    }
    return boot;
  };

  /** Engineering values per register at t: what the logger computed at its last measurement. */
  function registerValues(t: number): Record<string, number> {
    const ts = sampleTime(t);
    const r = canalReading(model, site, ts);
    const probeFault = probeFaultAt(t);
    const status = encodeStatus(map, {
      probe_fault: probeFault,
      low_battery: r.low_battery,
      cleaning: r.cleaning,
      service_due: r.service_due,
      level_sensor_fault: false,
    });
    const diag: Record<string, number> = {
      uptime: Math.max(0, Math.floor((ts - bootAt(t)) / 1000)),
      firmware_version: FIRMWARE_VERSION,
      // Hydrostatic pressure at the gauge datum (rho g h, 9806.65 Pa/m), with a small sensor zero offset.
      gauge_pressure: r.water_level * 9806.65 - 35,
      days_since_service: r.days_since_service,
      sample_interval: sampleInterval,
      do_saturation: (r.do / doSaturation(r.water_temperature)) * 100,
      // Nernst slope: 59.16 mV per pH unit at 25 degC, proportional to absolute temperature.
      electrode_potential: (7 - r.ph) * 0.198416 * (r.water_temperature + 273.15),
    };
    const out: Record<string, number> = {};
    for (const def of map.registers) {
      let v: number;
      if (def.name === map.status?.register) v = status;
      else if (def.metric) v = (r as unknown as Record<string, number>)[def.metric] ?? 0;
      else v = diag[def.name] ?? 0;
      out[def.name] = probeFault && def.type === 'float32' ? Number.NaN : v;
    }
    return out;
  }

  let cacheKey = '';
  let cacheImage: RegisterImage = new Map();
  function imageAt(t: number): RegisterImage {
    const k = `${sampleTime(t)}|${sampleInterval}|${probeFaultAt(t)}|${bootAt(t)}`;
    if (k !== cacheKey) {
      cacheImage = buildImage(map, wordOrder, registerValues(t));
      cacheKey = k;
    }
    return cacheImage;
  }

  function serve(req: ModbusRequest, t: number): ModbusOutcome {
    if ('other' in req) {
      return { kind: 'exception', code: req.bad ? EXCEPTION.ILLEGAL_DATA_VALUE : EXCEPTION.ILLEGAL_FUNCTION };
    }
    if (req.fn === 3 || req.fn === 4) return readImage(imageAt(t), req.fn, req.address, req.quantity, unmapped);
    const check = checkWrite(map, req.address, 'values' in req ? req.values : 'value' in req ? [req.value] : []);
    if (!check.ok) return check.outcome;
    for (const w of check.writes) if (w.def.name === 'sample_interval') sampleInterval = w.raw;
    return { kind: 'written' };
  }

  function handle(unit: number, req: ModbusRequest, transport: Transport): ModbusOutcome {
    const t = clock.now();
    const n = ++counters.requests;
    counters[transport]++;
    let outcome: ModbusOutcome | undefined;
    // On TCP a stand-alone device also answers the "unit id not used" values 0 and 255 (Modbus
    // Messaging on TCP/IP Implementation Guide 4.4.2); on a shared serial bus only its own id.
    const forUs = unit === unitId || (transport === 'tcp' && (unit === 0 || unit === 255));
    if (unit === 0 && transport === 'rtu') {
      serve(req, t); // broadcast write: applied, never answered
      outcome = { kind: 'silent' };
    } else if (!forUs || offlineAt(t)) outcome = { kind: 'silent' };
    for (const f of faults) {
      if (outcome) break;
      if (f.mode === 'drop-connection' && transport === 'tcp' && f.hits(t, n)) outcome = { kind: 'drop' };
      else if (f.mode === 'timeout' && f.hits(t, n)) outcome = { kind: 'silent' };
      else if ((f.mode === 'busy' || f.mode === 'exception') && f.hits(t, n))
        outcome = { kind: 'exception', code: f.code! };
    }
    outcome ??= serve(req, t);
    if (transport === 'rtu' && outcome.kind !== 'silent' && outcome.kind !== 'drop') {
      if (faults.some((f) => f.mode === 'bad-crc' && f.hits(t, n))) outcome = { ...outcome, badCrc: true };
    }
    if (outcome.kind === 'silent') counters.silent++;
    else if (outcome.kind === 'drop') counters.dropped++;
    else if (outcome.kind === 'exception') exceptions[outcome.code] = (exceptions[outcome.code] ?? 0) + 1;
    else counters.answered++;
    if ('badCrc' in outcome && outcome.badCrc) counters.badCrc++;
    if (requestListeners.size > 0) {
      const e: CanalRequestEvent = { deviceId: info.id, transport, unit, fn: req.fn, outcome: outcome.kind, t };
      if ('address' in req) e.address = req.address;
      if ('quantity' in req) e.quantity = req.quantity;
      if (outcome.kind === 'exception') e.code = outcome.code;
      if ('badCrc' in outcome && outcome.badCrc) e.badCrc = true;
      for (const l of requestListeners) l(e);
    }
    return outcome;
  }

  const station: CanalStation = {
    info,
    map,
    unitId,
    wordOrder,
    faults,
    now: () => clock.now(),
    valuesAt: (t = clock.now()) => servedValues(map, wordOrder, imageAt(t)),
    readingAt: (t = clock.now()) => canalReading(model, site, sampleTime(t)),
    wordsAt(fn, address, quantity, t = clock.now()) {
      const image = imageAt(t);
      return Array.from({ length: quantity }, (_, i) => image.get(fn * 0x10000 + address + i));
    },
    offlineAt,
    handle,
    endpoints() {
      const out: ReturnType<CanalStation['endpoints']> = {};
      if (tcp) out.tcp = { host: tcp.host, port: tcp.port };
      if (bus) out.rtu = { path: bus.path, baudRate: bus.baudRate };
      return out;
    },
    stats() {
      const t = clock.now();
      return {
        deviceId: info.id,
        unitId,
        online: !offlineAt(t),
        ...counters,
        exceptions: { ...exceptions },
        tcpConnections: tcp?.connections() ?? 0,
        faults: faults.map((f) => f.label),
        faultsActive: faults.filter((f) => f.active(t)).map((f) => f.label),
      };
    },
    on(event: 'request' | 'error', listener: (e: never) => void) {
      const set = (event === 'request' ? requestListeners : errorListeners) as Set<(e: never) => void>;
      set.add(listener);
      return () => set.delete(listener);
    },
    async start() {
      stopped = false;
      clock.start();
      if (bus) await bus.start();
      if (tcp) {
        if (!offlineAt()) await tcp.open();
        syncTimer = setInterval(syncTcp, TCP_SYNC_MS);
      }
    },
    async stop() {
      if (syncTimer) clearInterval(syncTimer);
      syncTimer = undefined;
      stopped = true;
      await Promise.all([tcp?.close(), bus?.stop()]);
    },
  };

  const tcp: TcpEndpoint | undefined = opts.tcp
    ? createTcpEndpoint({
        host: opts.tcp.host ?? '127.0.0.1',
        port: opts.tcp.port,
        handle: (unit, req) => handle(unit, req, 'tcp'),
        onError: emitError,
      })
    : undefined;
  let bus: RtuBus | undefined;
  if (opts.rtu) {
    bus = createRtuBus(opts.rtu);
    bus.attach(unitId, { handle: (unit, req) => handle(unit, req, 'rtu') });
  }

  // Offline windows close the TCP port (connection refused) and reopen it when the station is back.
  let syncTimer: ReturnType<typeof setInterval> | undefined;
  let syncing = false;
  let stopped = false;
  function syncTcp(): void {
    if (!tcp || syncing || stopped) return;
    const want = !offlineAt();
    if (want === tcp.listening) return;
    syncing = true;
    (want ? tcp.open() : tcp.close())
      .catch((e: Error) => emitError(e))
      .finally(() => {
        syncing = false;
      });
  }

  return station;
}
