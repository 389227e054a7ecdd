import { readFile } from 'node:fs/promises';
import type { CityPack } from '@cnx/city-pack';
import { loadRegisterMap, type RegisterMap, WORD_ORDERS, type WordOrder } from '@cnx/device-models';
import { err, ok, type Result } from '@cnx/domain';
import { planDevice } from './codec';

/**
 * The Modbus poller's configuration, as data (a JSON file named by GATEWAY_MODBUS_CONFIG):
 *
 * {
 *   "defaults": { "intervalMs": 10000, "timeoutMs": 1000, "retries": 1 },
 *   "buses": [
 *     { "id": "canal-lan", "transport": "tcp", "host": "10.0.4.20", "port": 502 },
 *     { "id": "rs485-1", "transport": "rtu", "path": "/dev/ttyUSB0", "baudRate": 9600,
 *       "parity": "none", "dataBits": 8, "stopBits": 1 }
 *   ],
 *   "devices": [
 *     { "deviceId": "xx-canal-01-probe", "bus": "canal-lan", "unitId": 1 },
 *     { "deviceId": "xx-canal-02-probe", "bus": "rs485-1", "unitId": 7, "wordOrder": "CDAB" }
 *   ]
 * }
 *
 * Every problem is reported at once, each with its JSON path and the bad value.
 */

export interface TcpBusConfig {
  id: string;
  transport: 'tcp';
  host: string;
  port: number;
  /** See TcpBusOptions.connection (tcp.adapter.ts). Default 'per-device'. */
  connection: 'per-device' | 'shared';
  connectTimeoutMs: number;
}

export interface RtuBusConfig {
  id: string;
  transport: 'rtu';
  path: string;
  baudRate: number;
  parity: 'none' | 'even' | 'odd';
  dataBits: 8;
  stopBits: 1 | 2;
  reopenDelayMs: number;
}

export type ModbusBusConfig = TcpBusConfig | RtuBusConfig;

export interface ModbusDeviceConfig {
  deviceId: string;
  stationId: string;
  bus: string;
  unitId: number;
  intervalMs: number;
  /** Register map id (default: the device's model in the city pack). */
  registerMap: string;
  /** Word order of every 32-bit register of this device, overriding the map. */
  wordOrder?: WordOrder;
  timeoutMs: number;
  /** Extra attempts per request within one poll (busy, timeout, CRC, connection). */
  retries: number;
  /** Longest pause between polls of a failing device (exponential backoff from intervalMs). */
  maxBackoffMs: number;
  /** Silence (no successful poll) after which a device-offline event is published. */
  offlineAfterMs: number;
  /** Also read the map's non-metric registers (diagnostics); they show in GET /modbus/status. */
  diagnostics: boolean;
  /** Unmapped registers a block may read through to save a request (the device must allow it). */
  maxGap: number;
  /** The register map as used for this device (word order override applied). */
  map: RegisterMap;
}

export interface ModbusConfig {
  buses: ModbusBusConfig[];
  devices: ModbusDeviceConfig[];
}

export interface ModbusConfigContext {
  pack: CityPack;
  /** Register map lookup; default @cnx/device-models' loadRegisterMap (throws on unknown ids). */
  loadMap?: (id: string) => RegisterMap;
}

/** Environment variable naming the poller's JSON config file (unset = no Modbus polling). */
export const MODBUS_CONFIG_ENV = 'GATEWAY_MODBUS_CONFIG';

const BAUD_RATES = [1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200];
const DEFAULTS = { intervalMs: 10_000, timeoutMs: 1000, retries: 1, offlineAfterIntervals: 3, maxBackoffMinMs: 60_000 };
const ID = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const show = (v: unknown): string => {
  const s = JSON.stringify(v);
  return s === undefined ? String(v) : s.length > 80 ? `${s.slice(0, 77)}...` : s;
};

/** Collects problems while reading fields of one object. */
class Fields {
  constructor(
    private readonly obj: Obj,
    private readonly at: string,
    private readonly problems: string[],
    allowed: readonly string[],
  ) {
    for (const k of Object.keys(obj)) {
      if (!allowed.includes(k)) problems.push(`${at}.${k}: unknown setting (allowed: ${allowed.join(', ')})`);
    }
  }

  /** A problem with `key`; `value`: the value in effect when this object does not set it (inherited). */
  problem(key: string, msg: string, value?: unknown): void {
    const got = this.has(key) || value === undefined ? show(this.obj[key]) : `${show(value)} (from defaults)`;
    this.problems.push(`${this.at}.${key}: ${msg}, got ${got}`);
  }

  has(key: string): boolean {
    return this.obj[key] !== undefined;
  }

  string(key: string, pattern?: RegExp): string | undefined {
    const v = this.obj[key];
    if (v === undefined) return this.required(key);
    if (typeof v !== 'string' || v === '' || (pattern && !pattern.test(v))) {
      this.problem(key, pattern ? `expected a string matching ${pattern.source}` : 'expected a non-empty string');
      return undefined;
    }
    return v;
  }

  int(key: string, min: number, max: number, fallback?: number): number | undefined {
    const v = this.obj[key];
    if (v === undefined) return fallback === undefined ? this.required(key) : fallback;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
      this.problem(key, `expected an integer ${min}..${max}`);
      return undefined;
    }
    return v;
  }

  oneOf<T>(key: string, allowed: readonly T[], fallback?: T): T | undefined {
    const v = this.obj[key];
    if (v === undefined) return fallback === undefined ? this.required(key) : fallback;
    if (!allowed.includes(v as T)) {
      this.problem(key, `expected one of ${allowed.map((a) => show(a)).join(', ')}`);
      return undefined;
    }
    return v as T;
  }

  private required(key: string): undefined {
    this.problems.push(`${this.at}.${key}: required`);
    return undefined;
  }
}

const BUS_KEYS = ['id', 'transport', 'host', 'port', 'connection', 'connectTimeoutMs'];
const RTU_KEYS = ['id', 'transport', 'path', 'baudRate', 'parity', 'dataBits', 'stopBits', 'reopenDelayMs'];
const TIMING_KEYS = ['intervalMs', 'timeoutMs', 'retries', 'maxBackoffMs', 'offlineAfterMs', 'offlineAfterIntervals'];
const DEVICE_KEYS = ['deviceId', 'bus', 'unitId', 'registerMap', 'wordOrder', 'diagnostics', 'maxGap', ...TIMING_KEYS];

function parseBus(raw: unknown, at: string, problems: string[]): ModbusBusConfig | undefined {
  if (!isObj(raw)) {
    problems.push(`${at}: expected an object, got ${show(raw)}`);
    return undefined;
  }
  const transport = raw.transport;
  if (transport === 'tcp') {
    const f = new Fields(raw, at, problems, BUS_KEYS);
    const bus = {
      id: f.string('id', ID),
      transport,
      host: f.string('host'),
      port: f.int('port', 1, 65535, 502),
      connection: f.oneOf('connection', ['per-device', 'shared'] as const, 'per-device'),
      connectTimeoutMs: f.int('connectTimeoutMs', 100, 60_000, 3000),
    };
    return Object.values(bus).includes(undefined) ? undefined : (bus as TcpBusConfig);
  }
  if (transport === 'rtu') {
    const f = new Fields(raw, at, problems, RTU_KEYS);
    const bus = {
      id: f.string('id', ID),
      transport,
      path: f.string('path'),
      baudRate: f.oneOf('baudRate', BAUD_RATES, 9600),
      parity: f.oneOf('parity', ['none', 'even', 'odd'] as const, 'none'),
      // "Modbus over serial line" v1.02, 2.5.1: RTU characters have 8 data bits.
      dataBits: f.oneOf('dataBits', [8] as const, 8),
      stopBits: f.oneOf('stopBits', [1, 2] as const, 1),
      reopenDelayMs: f.int('reopenDelayMs', 100, 600_000, 5000),
    };
    return Object.values(bus).includes(undefined) ? undefined : (bus as RtuBusConfig);
  }
  problems.push(`${at}.transport: expected "tcp" or "rtu", got ${show(transport)}`);
  return undefined;
}

interface Timing {
  intervalMs?: number;
  timeoutMs?: number;
  retries?: number;
  maxBackoffMs?: number;
  offlineAfterMs?: number;
  offlineAfterIntervals?: number;
}

function parseTiming(f: Fields, base: Timing): Timing {
  const t: Timing = { ...base };
  if (f.has('intervalMs')) t.intervalMs = f.int('intervalMs', 100, 86_400_000);
  if (f.has('timeoutMs')) t.timeoutMs = f.int('timeoutMs', 10, 60_000);
  if (f.has('retries')) t.retries = f.int('retries', 0, 5);
  if (f.has('maxBackoffMs')) t.maxBackoffMs = f.int('maxBackoffMs', 100, 86_400_000);
  if (f.has('offlineAfterMs') && f.has('offlineAfterIntervals'))
    f.problem('offlineAfterMs', 'give offlineAfterMs or offlineAfterIntervals, not both');
  if (f.has('offlineAfterMs')) {
    t.offlineAfterMs = f.int('offlineAfterMs', 100, 86_400_000 * 7);
    t.offlineAfterIntervals = undefined;
  }
  if (f.has('offlineAfterIntervals')) {
    t.offlineAfterIntervals = f.int('offlineAfterIntervals', 1, 10_000);
    t.offlineAfterMs = undefined;
  }
  return t;
}

/**
 * Validate a poller config (a parsed JSON document, or its text) against the city pack and the
 * register maps. Returns every problem found, each as "path: message, got value".
 */
export function parseModbusConfig(json: unknown, ctx: ModbusConfigContext): Result<ModbusConfig, string[]> {
  const problems: string[] = [];
  let doc = json;
  if (typeof json === 'string') {
    try {
      doc = JSON.parse(json);
    } catch (e) {
      return err([`not valid JSON: ${(e as Error).message}`]);
    }
  }
  if (!isObj(doc)) return err([`expected an object with "buses" and "devices", got ${show(doc)}`]);
  const top = new Fields(doc, '$', problems, ['$schema', 'note', 'defaults', 'buses', 'devices']);

  let defaults: Timing = {};
  if (doc.defaults !== undefined) {
    if (isObj(doc.defaults)) defaults = parseTiming(new Fields(doc.defaults, '$.defaults', problems, TIMING_KEYS), {});
    else top.problem('defaults', 'expected an object');
  }

  const buses = new Map<string, ModbusBusConfig>();
  /** Ids of buses given, valid or not: a device on an invalid bus is not reported a second time. */
  const declared = new Set<string>();
  if (!Array.isArray(doc.buses)) top.problem('buses', 'expected an array');
  else
    doc.buses.forEach((raw, i) => {
      if (isObj(raw) && typeof raw.id === 'string') declared.add(raw.id);
      const bus = parseBus(raw, `$.buses[${i}]`, problems);
      if (!bus) return;
      if (buses.has(bus.id)) problems.push(`$.buses[${i}].id: duplicate bus id ${show(bus.id)}`);
      buses.set(bus.id, bus);
    });
  const rtuPaths = new Map<string, string>();
  for (const b of buses.values()) {
    if (b.transport !== 'rtu') continue;
    const other = rtuPaths.get(b.path);
    if (other) problems.push(`$.buses: ${show(b.id)} and ${show(other)} use the same serial port ${show(b.path)}`);
    rtuPaths.set(b.path, b.id);
  }

  const loadMap = ctx.loadMap ?? ((id: string) => loadRegisterMap(id));
  const mapCache = new Map<string, RegisterMap | string>();
  const getMap = (id: string): RegisterMap | string => {
    let m = mapCache.get(id);
    if (m === undefined) {
      try {
        m = loadMap(id);
      } catch (e) {
        const issues = (e as { issues?: { path: string; message: string }[] }).issues;
        m = issues
          ? `register map ${show(id)}: ${issues.map((x) => (x.path ? `${x.path}: ${x.message}` : x.message)).join('; ')}`
          : (e as Error).message;
      }
      mapCache.set(id, m);
    }
    return m;
  };

  const devices: ModbusDeviceConfig[] = [];
  const seen = new Set<string>();
  const addresses = new Map<string, string>();
  if (!Array.isArray(doc.devices)) top.problem('devices', 'expected an array');
  else
    doc.devices.forEach((raw, i) => {
      const at = `$.devices[${i}]`;
      if (!isObj(raw)) {
        problems.push(`${at}: expected an object, got ${show(raw)}`);
        return;
      }
      const f = new Fields(raw, at, problems, DEVICE_KEYS);
      const before = problems.length;
      const deviceId = f.string('deviceId');
      const busId = f.string('bus');
      const timing = parseTiming(f, defaults);
      const wordOrder = raw.wordOrder === undefined ? undefined : f.oneOf('wordOrder', WORD_ORDERS);
      const diagnostics = raw.diagnostics === undefined ? false : raw.diagnostics;
      if (typeof diagnostics !== 'boolean') f.problem('diagnostics', 'expected true or false');
      const maxGap = f.int('maxGap', 0, 16, 0);
      const bus = busId === undefined ? undefined : buses.get(busId);
      if (busId !== undefined && !declared.has(busId))
        f.problem('bus', `no such bus (known: ${[...declared].join(', ') || 'none'})`);
      const unitId = f.int('unitId', bus?.transport === 'tcp' ? 0 : 1, bus?.transport === 'tcp' ? 255 : 247);

      const device = deviceId === undefined ? undefined : ctx.pack.deviceById.get(deviceId);
      if (deviceId !== undefined) {
        if (!device) f.problem('deviceId', `not a device of city pack ${show(ctx.pack.city.id)}`);
        else if (seen.has(deviceId)) f.problem('deviceId', 'device listed twice');
        // A modbus-rtu device may sit behind a TCP-to-RTU gateway: only "is it Modbus at all" is checked.
        else if (device.transport !== 'modbus-tcp' && device.transport !== 'modbus-rtu')
          f.problem('deviceId', `device transport in the city pack is ${show(device.transport)}, not modbus-tcp/-rtu`);
        seen.add(deviceId);
      }
      if (bus && unitId !== undefined) {
        const key = `${bus.id}/${unitId}`;
        const other = addresses.get(key);
        if (other) f.problem('unitId', `unit id already used on bus ${show(bus.id)} by ${show(other)}`);
        addresses.set(key, deviceId ?? '?');
      }

      const isModbus = device?.transport === 'modbus-tcp' || device?.transport === 'modbus-rtu';
      const mapId = raw.registerMap === undefined ? (isModbus ? device?.model : undefined) : f.string('registerMap');
      let map: RegisterMap | undefined;
      if (mapId !== undefined) {
        const m = getMap(mapId);
        if (typeof m === 'string') f.problem(raw.registerMap === undefined ? 'deviceId' : 'registerMap', m);
        else map = m;
      }
      const intervalMs = timing.intervalMs ?? DEFAULTS.intervalMs;
      const timeoutMs = timing.timeoutMs ?? DEFAULTS.timeoutMs;
      const retries = timing.retries ?? DEFAULTS.retries;
      if (problems.length > before || !deviceId || !device || !bus || unitId === undefined || !map || !mapId) return;
      const cfg: ModbusDeviceConfig = {
        deviceId,
        stationId: device.stationId,
        bus: bus.id,
        unitId,
        intervalMs,
        registerMap: mapId,
        wordOrder,
        timeoutMs,
        retries,
        maxBackoffMs: timing.maxBackoffMs ?? Math.max(DEFAULTS.maxBackoffMinMs, intervalMs),
        offlineAfterMs:
          timing.offlineAfterMs ?? intervalMs * (timing.offlineAfterIntervals ?? DEFAULTS.offlineAfterIntervals),
        diagnostics: diagnostics === true,
        maxGap: maxGap ?? 0,
        map: withWordOrder(map, wordOrder),
      };
      let blocks = 0;
      try {
        const plan = planDevice(cfg);
        blocks = plan.blocks.length;
        if (plan.metrics.length === 0) f.problem('registerMap', `map ${show(mapId)} has no register with a metric`);
      } catch (e) {
        f.problem('registerMap', `cannot plan reads: ${(e as Error).message}`);
        return;
      }
      // A poll that can take longer than the interval would overrun every slot (and hog an RTU bus).
      const worst = blocks * (retries + 1) * timeoutMs;
      if (worst >= intervalMs)
        f.problem(
          'timeoutMs',
          `worst-case poll ${blocks} request(s) x ${retries + 1} attempt(s) x ${timeoutMs} ms = ${worst} ms is not below intervalMs ${intervalMs}`,
          timeoutMs,
        );
      const atLeast = `must be at least intervalMs ${intervalMs}`;
      if (cfg.maxBackoffMs < intervalMs) f.problem('maxBackoffMs', atLeast, cfg.maxBackoffMs);
      if (cfg.offlineAfterMs < intervalMs) f.problem('offlineAfterMs', atLeast, cfg.offlineAfterMs);
      if (problems.length === before) devices.push(cfg);
    });

  if (problems.length) return err(problems);
  return ok({ buses: [...buses.values()], devices });
}

/** The map with every 32-bit register read in `order` (a device configured differently from its map). */
function withWordOrder(map: RegisterMap, order: WordOrder | undefined): RegisterMap {
  if (!order) return map;
  return {
    ...map,
    wordOrder: order,
    registers: map.registers.map((r) => (r.wordOrder ? { ...r, wordOrder: order } : r)),
  };
}

/** Read and validate a config file; read and JSON errors are problems too. */
export async function loadModbusConfigFile(
  file: string,
  ctx: ModbusConfigContext,
): Promise<Result<ModbusConfig, string[]>> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    return err([`${file}: cannot read: ${(e as Error).message}`]);
  }
  const r = parseModbusConfig(text, ctx);
  return r.ok ? r : err(r.error.map((p) => `${file}: ${p}`));
}

/**
 * The config named by GATEWAY_MODBUS_CONFIG, or `undefined` (ok) when the variable is unset: Modbus
 * polling is off unless configured.
 */
export async function modbusConfigFromEnv(
  env: Record<string, string | undefined>,
  ctx: ModbusConfigContext,
): Promise<Result<ModbusConfig | undefined, string[]>> {
  const file = env[MODBUS_CONFIG_ENV];
  if (!file) return ok(undefined);
  const r = await loadModbusConfigFile(file, ctx);
  return r.ok ? r : err(r.error.map((p) => `${MODBUS_CONFIG_ENV}: ${p}`));
}
