/**
 * A fleet of simulated canal stations from a city pack: each on its own Modbus TCP port
 * (basePort + index) and all on one virtual RS-485 bus (a socat pty pair) at unit ids 1..n, or one
 * bus per station. One shared simulated clock.
 */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { type CityPack, formatCityPackIssue, loadCityPack, resolveCityDir } from '@cnx/city-pack';
import { loadRegisterMap, type RegisterMap, registerMapIds, type WordOrder } from '@cnx/device-models';
import type { CanalLevels } from '@cnx/domain';
import { type CanalFaultSpec, resolveCanalFault } from './faults';
import { createPtyPair, type PtyPair } from './pty';
import type { UnmappedReads } from './registers';
import { createRtuBus, type RtuBus } from './rtu.bus';
import { createCanalScenario } from './scenarios';
import { type CanalStation, createCanalClock, createCanalStation } from './station';
import type { CanalStationInfo, CanalStationStats } from './types';

export interface CanalRtuOptions {
  /** Folder for the pty links (created if missing). */
  dir: string;
  baudRate?: number;
  parity?: 'none' | 'even' | 'odd';
  stopBits?: 1 | 2;
  /** shared (default): one bus `<dir>/canal-bus`, stations at their unit ids; per-station: `<dir>/<deviceId>`. */
  mode?: 'shared' | 'per-station';
  emulateLineSpeed?: boolean;
}

export interface CanalFleetOptions {
  city: string;
  stations: CanalStationInfo[];
  seed?: number;
  /** Canal scenario: normal (default), rain, flood, with params ('flood:rise=1h'). */
  scenario?: string;
  simStart?: number | string;
  /** Simulated ms per real ms; 0 freezes time (default 1). */
  timeScale?: number;
  now?: () => number;
  utcOffsetMin?: number;
  /** Station i listens on basePort + i (default host 127.0.0.1); false = no TCP. */
  tcp?: { basePort: number; host?: string } | false;
  rtu?: CanalRtuOptions;
  /** Word order of every station's 32-bit registers (default: its map's)... */
  wordOrder?: WordOrder;
  /** ...or per device id. */
  wordOrders?: Readonly<Record<string, WordOrder>>;
  /** Unit id of the first station; the others follow (default 1). */
  unitIdBase?: number;
  faults?: readonly CanalFaultSpec[];
  unmapped?: UnmappedReads;
}

/** Where one station listens: what a gateway's device config needs. */
export interface CanalEndpoint {
  deviceId: string;
  stationId: string;
  name?: string;
  model: string;
  unitId: number;
  wordOrder: WordOrder;
  levels: CanalLevels;
  tcp?: { host: string; port: number };
  rtu?: { path: string; baudRate: number; parity: 'none' | 'even' | 'odd'; stopBits: 1 | 2 };
}

export interface CanalFleet {
  readonly stations: readonly CanalStation[];
  readonly endpoints: readonly CanalEndpoint[];
  start(): Promise<void>;
  /** Closes every port and bus and ends socat. Idempotent. */
  stop(): Promise<void>;
  now(): number;
  station(deviceId: string): CanalStation;
  stats(): CanalStationStats[];
}

export function checkCanalFaultSpecs(specs: readonly CanalFaultSpec[], deviceIds: readonly string[]): void {
  for (const s of specs) {
    if (s.device !== '*' && !deviceIds.includes(s.device)) {
      throw new Error(`fault ${s.mode}: device "${s.device}" is not a simulated canal station`);
    }
    resolveCanalFault(s, { seed: 1, simStart: 0, deviceId: s.device });
  }
}

export function createCanalFleet(o: CanalFleetOptions): CanalFleet {
  if (o.stations.length === 0) throw new Error('canal fleet: no stations');
  const simStart = typeof o.simStart === 'string' ? Date.parse(o.simStart) : (o.simStart ?? Date.now());
  if (!Number.isFinite(simStart)) throw new Error(`invalid simulated start: ${o.simStart}`);
  const timeScale = o.timeScale ?? 1;
  const clock = createCanalClock({ simStart, timeScale, now: o.now });
  const scenario = createCanalScenario(o.scenario ?? 'normal', { simStart });
  const faults = o.faults ?? [];
  checkCanalFaultSpecs(
    faults,
    o.stations.map((s) => s.id),
  );
  for (const id of Object.keys(o.wordOrders ?? {})) {
    if (!o.stations.some((s) => s.id === id)) throw new Error(`word order for "${id}": not a simulated canal station`);
  }
  const unitBase = o.unitIdBase ?? 1;
  if (!(Number.isInteger(unitBase) && unitBase >= 1 && unitBase + o.stations.length - 1 <= 247)) {
    throw new Error(`unit ids ${unitBase}..${unitBase + o.stations.length - 1} do not fit in 1..247`);
  }
  const tcp = o.tcp === false || o.tcp === undefined ? undefined : o.tcp;
  const maps = new Map<string, RegisterMap>();
  const mapFor = (id: string) => {
    let m = maps.get(id);
    if (!m) {
      m = loadRegisterMap(id);
      maps.set(id, m);
    }
    return m;
  };

  const stations = o.stations.map((info, i) =>
    createCanalStation({
      info,
      map: mapFor(info.model),
      unitId: unitBase + i,
      wordOrder: o.wordOrders?.[info.id] ?? o.wordOrder,
      seed: o.seed,
      scenario,
      simStart,
      now: () => clock.now(),
      utcOffsetMin: o.utcOffsetMin,
      faults,
      unmapped: o.unmapped,
      tcp: tcp ? { port: tcp.basePort + i, host: tcp.host } : undefined,
    }),
  );

  const rtu = o.rtu;
  const mode = rtu?.mode ?? 'shared';
  const busPath = (name: string) => (rtu ? path.resolve(rtu.dir, name) : '');
  const masterPathOf = (s: CanalStation) => busPath(mode === 'shared' ? 'canal-bus' : s.info.id);
  const endpoints: CanalEndpoint[] = stations.map((s) => {
    const e: CanalEndpoint = {
      deviceId: s.info.id,
      stationId: s.info.stationId,
      model: s.map.id,
      unitId: s.unitId,
      wordOrder: s.wordOrder,
      levels: s.info.levels,
    };
    if (s.info.name) e.name = s.info.name;
    const t = s.endpoints().tcp;
    if (t) e.tcp = t;
    if (rtu) {
      e.rtu = {
        path: masterPathOf(s),
        baudRate: rtu.baudRate ?? 9600,
        parity: rtu.parity ?? 'none',
        stopBits: rtu.stopBits ?? 1,
      };
    }
    return e;
  });

  const ptys: PtyPair[] = [];
  const buses: RtuBus[] = [];
  let stopping: Promise<void> | undefined;

  const fleet: CanalFleet = {
    stations,
    endpoints,
    now: () => clock.now(),
    station(id) {
      const s = stations.find((x) => x.info.id === id);
      if (!s) throw new Error(`no canal station ${id}`);
      return s;
    },
    stats: () => stations.map((s) => s.stats()),
    async start() {
      try {
        if (rtu) {
          await mkdir(rtu.dir, { recursive: true });
          const groups = mode === 'shared' ? [stations] : stations.map((s) => [s]);
          for (const group of groups) {
            const master = masterPathOf(group[0]!);
            const pty = await createPtyPair({ simPath: `${master}.sim`, masterPath: master });
            ptys.push(pty);
            const bus = createRtuBus({
              path: pty.simPath,
              baudRate: rtu.baudRate,
              parity: rtu.parity,
              stopBits: rtu.stopBits,
              emulateLineSpeed: rtu.emulateLineSpeed,
            });
            for (const s of group) bus.attach(s.unitId, { handle: (unit, req) => s.handle(unit, req, 'rtu') });
            buses.push(bus);
            await bus.start();
          }
        }
        clock.start();
        await Promise.all(stations.map((s) => s.start()));
      } catch (e) {
        await fleet.stop();
        throw e;
      }
    },
    stop() {
      stopping ??= (async () => {
        await Promise.all(stations.map((s) => s.stop()));
        await Promise.all(buses.map((b) => b.stop()));
        await Promise.all(ptys.map((p) => p.stop()));
      })();
      return stopping;
    },
  };
  return fleet;
}

export interface CanalSelection {
  devices?: string[];
  limit?: number;
}

/** Canal devices of a loaded pack whose model is a known register map, joined with their station. */
export function canalStationsFromPack(
  pack: Pick<CityPack, 'devices' | 'stationById'> & { city?: Pick<CityPack['city'], 'center'> },
  sel: CanalSelection = {},
): CanalStationInfo[] {
  const known = new Set(registerMapIds());
  const isCanal = (d: CityPack['devices'][number]) =>
    (d.transport === 'modbus-tcp' || d.transport === 'modbus-rtu') && known.has(d.model);
  const all = pack.devices.filter(isCanal);
  let chosen = all;
  if (sel.devices?.length) {
    chosen = sel.devices.map((id) => {
      const d = all.find((x) => x.id === id);
      if (d) return d;
      const other = pack.devices.find((x) => x.id === id);
      throw new Error(
        other
          ? `device ${id} is not a Modbus device with a known register map (${other.model}/${other.transport})`
          : `unknown device ${id}`,
      );
    });
  }
  if (sel.limit !== undefined) chosen = chosen.slice(0, sel.limit);
  return chosen.map((d) => {
    const st = pack.stationById.get(d.stationId);
    if (!st) throw new Error(`device ${d.id}: station ${d.stationId} not in the city pack`);
    if (!st.canal) throw new Error(`device ${d.id}: station ${d.stationId} has no canal levels`);
    return {
      id: d.id,
      stationId: d.stationId,
      model: d.model,
      transport: d.transport,
      location: st.location,
      levels: st.canal,
      name: st.name.en,
      ...(pack.city ? { reference: pack.city.center } : {}),
    };
  });
}

/** Load cities/<cityId>/ and pick its canal stations. */
export async function loadCanalStations(
  cityId: string,
  sel: CanalSelection = {},
  citiesDir?: string,
): Promise<{ cityId: string; timezone: string; stations: CanalStationInfo[] }> {
  const r = await loadCityPack(resolveCityDir(cityId, citiesDir));
  if (!r.ok) throw new Error(`city pack "${cityId}" is invalid:\n  ${r.error.map(formatCityPackIssue).join('\n  ')}`);
  return { cityId: r.value.city.id, timezone: r.value.city.timezone, stations: canalStationsFromPack(r.value, sel) };
}
