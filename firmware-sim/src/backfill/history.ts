/**
 * A device's simulated past as it would have been logged: the same pure value models the live fleet
 * uses (air: model/air.ts through the device model; canal: canal/model.ts through the station's
 * register map, decoded as the gateway's Modbus poller decodes it), sampled on the device's own
 * cadence, encoded as history messages (SenML packs of several times, or our JSON one reading each).
 * Pure given (seed, device, window): no clock, no I/O, no Math.random.
 */
import { type CityPack, formatCityPackIssue, loadCityPack, resolveCityDir } from '@cnx/city-pack';
import { loadRegisterMap } from '@cnx/device-models';
import { deviceIntervalMs, METRICS, type MetricId } from '@cnx/domain';
import { topics } from '@cnx/protocol';
import { canalStationsFromPack } from '../canal/fleet';
import { createCanalScenario } from '../canal/scenarios';
import { createCanalStation } from '../canal/station';
import { fleetDevicesFromPack } from '../city';
import { DEVICE_MODELS } from '../devices';
import { senmlBaseName } from '../devices/payload';
import { createScenario } from '../scenarios';
import { utcOffsetMinutes } from '../util/clock';
import { unit } from '../util/random';

/** One device whose history can be generated. */
export interface HistorySource {
  deviceId: string;
  /** The device's reporting interval (city pack `intervalS`), ms. */
  intervalMs: number;
  /** metric -> canonical unit symbol. */
  units: Readonly<Record<string, string>>;
  fw: string;
  /** What the device reported at t (the live fleet's model). */
  read(t: number): Record<string, number>;
}

export type HistoryFormat = 'senml' | 'json';

/** One history message: a device's readings for a stretch of time, oldest first. */
export interface HistoryMessage {
  deviceId: string;
  topic: string;
  payload: string;
  readings: number;
  /** Times of its first and last reading, epoch ms. */
  first: number;
  last: number;
}

/** RFC 8428 packs are capped at 64 records by our schema (docs/protocol.md section 4). */
export const SENML_MAX_RECORDS = 64;
/** The gateway's default GATEWAY_MAX_PAYLOAD_BYTES. */
export const DEFAULT_MAX_PAYLOAD_BYTES = 16 * 1024;

/**
 * The reading times of a device in [from, until): its cadence on a grid fixed by (seed, device)
 * (a per-device phase, as the live fleet staggers its devices), so two backfills of overlapping
 * windows give the same times and their overlap overwrites itself in the store.
 */
export function readingTimes(
  seed: number,
  deviceId: string,
  intervalMs: number,
  from: number,
  until: number,
): number[] {
  const phase = Math.floor(unit(seed, 'phase', deviceId) * intervalMs);
  let t = from + ((((phase - from) % intervalMs) + intervalMs) % intervalMs);
  const out: number[] = [];
  for (; t < until; t += intervalMs) out.push(t);
  return out;
}

/** The value of a float32 register as the gateway stores it (apps/gateway/src/modbus/codec.ts). */
function shortestFloat32(v: number): number {
  if (!Number.isFinite(v)) return v;
  const f = Math.fround(v);
  for (let p = 1; p <= 9; p++) {
    const d = Number(f.toPrecision(p));
    if (Math.fround(d) === f) return d;
  }
  return f;
}

export interface HistorySelection {
  devices?: string[];
  limit?: number;
}

/**
 * Every device of the pack the simulator can play (air nodes over MQTT and canal stations over
 * Modbus), with the values the live fleet (`run`, `canal`, `fleet`) would report for the same seed and
 * scenario (`normal` unless given; the canal stations always play their `normal` season). `utcOffsetMin` is the city's offset (the daily cycle is in local time).
 */
export function historySources(
  pack: Pick<CityPack, 'devices' | 'stationById'>,
  o: {
    seed: number;
    utcOffsetMin: number;
    selection?: HistorySelection;
    /** Air scenario spec as for `run --scenario` (default `normal`), starting at `simStart` (epoch ms). */
    scenario?: string;
    simStart?: number;
  },
): { sources: HistorySource[]; skipped: string[] } {
  const air = fleetDevicesFromPack(pack);
  const canal = canalStationsFromPack(pack);
  const scenario = createScenario(o.scenario ?? 'normal', { seed: o.seed, simStart: o.simStart ?? 0 });
  const canalScenario = createCanalScenario('normal', { simStart: 0 });
  const byId = new Map<string, () => HistorySource>();
  for (const info of air) {
    byId.set(info.id, () => {
      const sensor = DEVICE_MODELS[info.model]!.createSensor({
        info,
        seed: o.seed,
        utcOffsetMin: o.utcOffsetMin,
        scenario,
      });
      const device = pack.devices.find((d) => d.id === info.id)!;
      return {
        deviceId: info.id,
        intervalMs: deviceIntervalMs(device),
        units: sensor.units,
        fw: sensor.fw,
        read: sensor.read,
      };
    });
  }
  for (const info of canal) {
    byId.set(info.id, () => {
      const map = loadRegisterMap(info.model);
      // No port: only its register image is used, decoded as a Modbus master reads it.
      const station = createCanalStation({
        info,
        map,
        seed: o.seed,
        scenario: canalScenario,
        utcOffsetMin: o.utcOffsetMin,
        simStart: 0,
        now: () => 0,
      });
      const metrics = map.registers.flatMap((r) =>
        r.metric ? [{ name: r.name, metric: r.metric, float: r.type === 'float32' && (r.scale ?? 1) === 1 }] : [],
      );
      const device = pack.devices.find((d) => d.id === info.id)!;
      return {
        deviceId: info.id,
        intervalMs: deviceIntervalMs(device),
        units: Object.fromEntries(metrics.map((m) => [m.metric, METRICS[m.metric as MetricId].unit])),
        fw: `cnx-sim-${info.model}/0.1.0`,
        read: (t) => {
          const served = station.valuesAt(t);
          const out: Record<string, number> = {};
          for (const m of metrics) {
            const v = served[m.name];
            if (v !== undefined && Number.isFinite(v)) out[m.metric] = m.float ? shortestFloat32(v) : v;
          }
          return out;
        },
      };
    });
  }
  let chosen = pack.devices.filter((d) => byId.has(d.id)).map((d) => d.id);
  const skipped = pack.devices.filter((d) => !byId.has(d.id)).map((d) => d.id);
  if (o.selection?.devices?.length) {
    chosen = o.selection.devices.map((id) => {
      if (byId.has(id)) return id;
      const known = pack.devices.find((d) => d.id === id);
      throw new Error(
        known ? `device ${id} is not simulated (${known.model}/${known.transport})` : `unknown device ${id}`,
      );
    });
  }
  if (o.selection?.limit !== undefined) chosen = chosen.slice(0, o.selection.limit);
  return { sources: chosen.map((id) => byId.get(id)!()), skipped };
}

/** Load cities/<cityId>/ and its history sources. */
export async function loadHistorySources(
  cityId: string,
  o: {
    seed: number;
    at: number;
    selection?: HistorySelection;
    citiesDir?: string;
    /** Air scenario spec (default `normal`) starting at `simStart`. */
    scenario?: string;
    simStart?: number;
  },
): Promise<{ cityId: string; timezone: string; utcOffsetMin: number; sources: HistorySource[]; skipped: string[] }> {
  const r = await loadCityPack(resolveCityDir(cityId, o.citiesDir));
  if (!r.ok) throw new Error(`city pack "${cityId}" is invalid:\n  ${r.error.map(formatCityPackIssue).join('\n  ')}`);
  const pack = r.value;
  const utcOffsetMin = utcOffsetMinutes(pack.city.timezone, o.at);
  const { sources, skipped } = historySources(pack, {
    seed: o.seed,
    utcOffsetMin,
    selection: o.selection,
    ...(o.scenario ? { scenario: o.scenario } : {}),
    ...(o.simStart === undefined ? {} : { simStart: o.simStart }),
  });
  return { cityId: pack.city.id, timezone: pack.city.timezone, utcOffsetMin, sources, skipped };
}

/**
 * A device's history in [from, until) as messages, oldest first, generated lazily. SenML: as many
 * readings per pack as fit in 64 records and `maxPayloadBytes`; each reading's first record sets the
 * base time `bt` (RFC 8428 4.1: it applies to the records after it), so a pack carries several times.
 * JSON: one reading per message, without `seq` (a restarted counter would collide with the live
 * fleet's and flag its readings `seq_duplicate`).
 */
export function* historyMessages(
  city: string,
  source: HistorySource,
  times: readonly number[],
  format: HistoryFormat,
  maxPayloadBytes = DEFAULT_MAX_PAYLOAD_BYTES,
): Generator<HistoryMessage> {
  const topic = topics.history(city, source.deviceId);
  const base = (first: number, last: number, readings: number, payload: string): HistoryMessage => ({
    deviceId: source.deviceId,
    topic,
    payload,
    readings,
    first,
    last,
  });
  if (format === 'json') {
    for (const t of times) {
      yield base(t, t, 1, JSON.stringify({ ts: t, values: source.read(t), fw: source.fw }));
    }
    return;
  }
  // Each record as a string, its constant head (name and unit) made once per metric.
  const heads = new Map<string, string>();
  const head = (n: string) => {
    let h = heads.get(n);
    if (h === undefined) {
      h = `"n":${JSON.stringify(n)},"u":${JSON.stringify(source.units[n] ?? '')},"v":`;
      heads.set(n, h);
    }
    return h;
  };
  const bn = `"bn":${JSON.stringify(senmlBaseName(source.deviceId))},`;
  let pack = '';
  let records = 0;
  let first = 0;
  let last = 0;
  let count = 0;
  for (const t of times) {
    const values = source.read(t);
    let reading = '';
    let n = 0;
    for (const name in values) {
      // The reading's first record sets the base time for its records (RFC 8428 4.1).
      reading += `${n === 0 ? '' : ','}{${n === 0 ? `"bt":${t / 1000},` : ''}${head(name)}${values[name]}}`;
      n++;
    }
    if (n === 0) continue;
    // `[`, `]`, the comma before it and the base name of a pack's first record.
    if (count > 0 && (records + n > SENML_MAX_RECORDS || pack.length + reading.length + 3 > maxPayloadBytes)) {
      yield base(first, last, count, `[${pack}]`);
      count = 0;
    }
    if (count === 0) {
      first = t;
      records = 0;
      pack = `{${bn}${reading.slice(1)}`;
    } else {
      pack += `,${reading}`;
    }
    records += n;
    last = t;
    count++;
  }
  if (count > 0) yield base(first, last, count, `[${pack}]`);
}
