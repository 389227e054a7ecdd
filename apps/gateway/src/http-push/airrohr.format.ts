/**
 * The airrohr (Sensor.Community) push body, decoded into our metric values. Pure: no I/O.
 *
 * What the firmware sends (opendata-stuttgart/sensors-software, airrohr-firmware/airrohr-firmware.ino,
 * `sendDataToOptionalApis()` and `loop()`; `add_Value2Json()` in utils.cpp; docs/airrohr.md cites
 * the lines): ONE POST per measuring interval to the "custom API", carrying every sensor's values,
 *
 *   {"esp8266id": "13463418", "software_version": "NRZ-2020-133", "sensordatavalues":[
 *     {"value_type":"SDS_P1","value":"12.30"},{"value_type":"SDS_P2","value":"7.50"},
 *     {"value_type":"temperature","value":"29.40"},{"value_type":"humidity","value":"71.20"},
 *     {"value_type":"samples","value":"5128463"},{"value_type":"min_micro","value":"28"},
 *     {"value_type":"max_micro","value":"20132"},{"value_type":"signal","value":"-67"}]}
 *
 * with value types prefixed by the sensor (SDS_, PMS_, HPM_, NPM_, SPS30_, BME280_, SHT3X_, ...;
 * the DHT22 writes plain `temperature`/`humidity`), values as strings (Arduino `String(float)`,
 * two decimals). The Sensor.Community API itself gets one POST per sensor with an `X-Pin` header
 * and the prefix stripped (`P1`, `P2`, `temperature`, ...); we accept that shape too.
 */
import { checkHardLimits, type MetricId, type MetricValues } from '@cnx/domain';
import type { RejectReason } from '../errors';

/** P0/P1/P2 = PM1/PM10/PM2.5 in µg/m³ (Sensor.Community naming). */
const PM_SUFFIX: Record<string, MetricId> = { P0: 'pm1', P1: 'pm10', P2: 'pm25' };

/**
 * Particulate sensors whose `<PREFIX>_P0/P1/P2` are mass concentrations in µg/m³, best first (used
 * only when one POST carries PM from two sensors). HPM reports no P0; SPS30_P4 (PM4) has no metric.
 */
const PM_SENSORS = ['SDS', 'PMS', 'SPS30', 'NPM', 'HPM'] as const;

/** Temperature (°C) and relative humidity (%) sources, best first. Plain names are the DHT22's. */
const TEMPERATURE_TYPES = [
  'SHT3X_temperature',
  'BME280_temperature',
  'HTU21D_temperature',
  'temperature',
  'BMP280_temperature',
  'BMP_temperature',
  'DS18B20_temperature',
] as const;
const HUMIDITY_TYPES = ['SHT3X_humidity', 'BME280_humidity', 'HTU21D_humidity', 'humidity'] as const;

interface Mapping {
  metric: MetricId;
  /** Lower wins when several value types of one POST map to the same metric. */
  rank: number;
}

function buildMappings(): ReadonlyMap<string, Mapping> {
  const m = new Map<string, Mapping>();
  for (const [rank, sensor] of PM_SENSORS.entries()) {
    for (const [suffix, metric] of Object.entries(PM_SUFFIX)) m.set(`${sensor}_${suffix}`, { metric, rank });
  }
  for (const [rank, t] of TEMPERATURE_TYPES.entries()) m.set(t, { metric: 'temperature', rank });
  for (const [rank, t] of HUMIDITY_TYPES.entries()) m.set(t, { metric: 'humidity', rank });
  return m;
}

/** value_type -> metric for every value type we store. Everything else is ignored and counted. */
export const AIRROHR_VALUE_TYPES: ReadonlyMap<string, Mapping> = buildMappings();

/**
 * `X-Pin` of the particulate sensors in the Sensor.Community per-sensor format (SDS_API_PIN,
 * PMS_API_PIN, ... = 1 in ext_def.h). Only there do plain P0/P1/P2 mean µg/m³: in the custom-API
 * body, plain P1/P2 come from the PPD42NS (PPD_API_PIN 5), which reports particle counts.
 */
export const PM_API_PIN = 1;

/**
 * Decimal numbers as Arduino's `String(float)` / `String(int)` print them: optional minus, digits,
 * optional fraction. No exponent, sign `+`, spaces, hex, `nan`, `inf` or `ovf` (what String(float)
 * prints for NaN, infinity and |x| > 4294967040).
 */
const DECIMAL = /^-?(?:\d+(?:\.\d*)?|\.\d+)$/;
const MAX_NUMBER_CHARS = 32;

/** Strict parse of one `value`: a decimal string, or a finite JSON number. */
export function parseAirrohrNumber(value: string | number): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  if (value.length > MAX_NUMBER_CHARS || !DECIMAL.test(value)) return undefined;
  return Number(value);
}

export interface AirrohrDataValue {
  value_type: string;
  value: string | number;
}

export interface DecodedPush {
  values: MetricValues;
  /** metric -> the value_type it was taken from. */
  sources: Partial<Record<MetricId, string>>;
  /** Value types not stored (no such metric, or shadowed by a better sensor), in body order. */
  ignored: string[];
}

export interface DecodeError {
  reason: Extract<RejectReason, 'non_numeric_value' | 'no_values' | 'impossible_value'>;
  detail: string;
}

export type DecodeResult = { ok: true; value: DecodedPush } | { ok: false; error: DecodeError };

const show = (v: unknown): string => {
  const s = JSON.stringify(v) ?? String(v);
  return s.length > 40 ? `${s.slice(0, 40)}…` : s;
};

/**
 * Map `sensordatavalues` to metric values. Values of types we store must be decimal numbers
 * (else `non_numeric_value`); values of other types are ignored whatever they hold (GPS_date is
 * "01/31/2024"). A type repeated in one body: the last one wins. `pin` is the X-Pin header.
 */
export function decodeAirrohrValues(items: readonly AirrohrDataValue[], pin: number | undefined): DecodeResult {
  const chosen = new Map<MetricId, { rank: number; type: string; value: number }>();
  const ignored: string[] = [];
  for (const { value_type: type, value } of items) {
    let mapping = AIRROHR_VALUE_TYPES.get(type);
    if (!mapping && pin === PM_API_PIN && PM_SUFFIX[type]) mapping = { metric: PM_SUFFIX[type], rank: 0 };
    if (!mapping) {
      ignored.push(type);
      continue;
    }
    const n = parseAirrohrNumber(value);
    if (n === undefined) {
      return { ok: false, error: { reason: 'non_numeric_value', detail: `${type}=${show(value)}` } };
    }
    const current = chosen.get(mapping.metric);
    if (!current || mapping.rank <= current.rank) {
      if (current && current.type !== type) ignored.push(current.type);
      chosen.set(mapping.metric, { rank: mapping.rank, type, value: n });
    } else {
      ignored.push(type);
    }
  }
  if (chosen.size === 0) {
    const types = items.map((i) => i.value_type);
    return { ok: false, error: { reason: 'no_values', detail: `no known value_type in ${show(types)}` } };
  }
  const values: MetricValues = {};
  const sources: Partial<Record<MetricId, string>> = {};
  for (const [metric, c] of chosen) {
    values[metric] = c.value;
    sources[metric] = c.type;
  }
  // The same hard limits as every other transport (packages/domain), checked here so that the
  // dead letter echoes the airrohr body rather than our translation of it.
  const bad = checkHardLimits(values);
  if (bad) {
    return {
      ok: false,
      error: { reason: 'impossible_value', detail: `${bad.metric}=${bad.value} (${sources[bad.metric]})` },
    };
  }
  return { ok: true, value: { values, sources, ignored } };
}
