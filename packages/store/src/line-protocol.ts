import { METRIC_IDS, type MetricId, type Reading } from '@cnx/domain';
import { invalidReading, show } from './errors';
import { correctedField, correctionField, FIELD_QC, FIELD_SEQ, TAG_CITY, TAG_DEVICE, TAG_STATION } from './schema';
import { idProblem, validateBody } from './validate';

/*
 * InfluxDB line protocol (v1 /write, also accepted by 2.x and 3.x):
 *   measurement,tag=value,tag=value field=value,field=value timestamp
 * Escaping (https://docs.influxdata.com/influxdb/v1/write_protocols/line_protocol_reference/):
 * - measurement: comma and space;
 * - tag keys, tag values, field keys: comma, equals sign and space;
 * - string field values: double quote and backslash, inside double quotes;
 * - floats are plain decimals (no suffix), integers take an `i` suffix; NaN and ±Infinity do not exist.
 * Names never carry control characters (a newline ends a line) or backslashes (1.x keeps `\\` in a
 * tag value as two characters where 2.x/3.x unescape it, so no encoding round-trips everywhere):
 * those are rejected, never silently altered.
 */

const NAME_SPECIAL = /[, =]/;
const NAME_SPECIAL_G = /[, =]/g;
const MEASUREMENT_SPECIAL = /[, ]/;
const MEASUREMENT_SPECIAL_G = /[, ]/g;
const STRING_SPECIAL = /["\\]/;
const STRING_SPECIAL_G = /["\\]/g;

function checkName(kind: string, s: string): void {
  const problem = idProblem(s);
  if (problem) throw invalidReading(`line protocol: ${kind} ${show(s)} ${problem}`);
}

/** Escapes a measurement name (commas and spaces). */
export function escapeMeasurement(s: string): string {
  checkName('measurement', s);
  return MEASUREMENT_SPECIAL.test(s) ? s.replace(MEASUREMENT_SPECIAL_G, '\\$&') : s;
}

/** Escapes a tag key, tag value or field key (commas, equals signs and spaces). */
export function escapeTag(s: string): string {
  checkName('tag or field name', s);
  return NAME_SPECIAL.test(s) ? s.replace(NAME_SPECIAL_G, '\\$&') : s;
}

/** A string field value: double-quoted, with double quotes and backslashes escaped. */
export function quoteStringField(s: string): string {
  return STRING_SPECIAL.test(s) ? `"${s.replace(STRING_SPECIAL_G, '\\$&')}"` : `"${s}"`;
}

/**
 * A float field value. JavaScript's shortest round-trip form, with exponent notation (1e-7, 1e+21)
 * rewritten as a plain decimal: InfluxDB 1.x parses exponents, but a plain decimal is accepted by
 * every line-protocol parser, and moving the decimal point in the digit string is exact.
 */
export function formatFloat(n: number): string {
  if (!Number.isFinite(n)) throw invalidReading(`line protocol: float ${show(n)} is not finite`);
  const s = String(n);
  return s.indexOf('e') === -1 ? s : expandExponent(s);
}

function expandExponent(s: string): string {
  const negative = s[0] === '-';
  const body = negative ? s.slice(1) : s;
  const [mantissa = '', expText = '0'] = body.split('e');
  const exp = Number(expText);
  const dot = mantissa.indexOf('.');
  const digits = dot === -1 ? mantissa : mantissa.slice(0, dot) + mantissa.slice(dot + 1);
  const point = (dot === -1 ? mantissa.length : dot) + exp; // position of the decimal point in digits
  let out: string;
  if (point <= 0) out = `0.${'0'.repeat(-point)}${digits}`;
  else if (point >= digits.length) out = digits + '0'.repeat(point - digits.length);
  else out = `${digits.slice(0, point)}.${digits.slice(point)}`;
  return negative ? `-${out}` : out;
}

/** An integer field value with the `i` suffix. */
export function formatInteger(n: number): string {
  if (!Number.isSafeInteger(n)) throw invalidReading(`line protocol: integer ${show(n)} is not a safe integer`);
  return `${n}i`;
}

// Field-key fragments, escaped once (metric ids are plain, but a registry change must not break us).
const VALUE_KEY = {} as Record<MetricId, string>;
const CORRECTED_KEY = {} as Record<MetricId, string>;
const CORRECTION_KEY = {} as Record<MetricId, string>;
for (const m of METRIC_IDS) {
  VALUE_KEY[m] = `,${escapeTag(m)}=`;
  CORRECTED_KEY[m] = `,${escapeTag(correctedField(m))}=`;
  CORRECTION_KEY[m] = `,${escapeTag(correctionField(m))}=`;
}
const QC_KEY = `${escapeTag(FIELD_QC)}=`;
const SEQ_KEY = `,${escapeTag(FIELD_SEQ)}=`;

/**
 * Encodes readings as line protocol, one point per reading:
 *   reading,city=<c>,device=<d>,station=<s> qc="<flags>",<metric>=<float>...,seq=<n>i,
 *     <metric>_corrected=<float>,<metric>_correction="<method>" <ts ms>
 * Tags are written sorted by key (InfluxData's advice: the server does less work). The escaped
 * "measurement,tags " prefix is cached per series, so ids are validated and escaped once per series.
 */
export class ReadingEncoder {
  private readonly measurement: string;
  private readonly prefixes = new Map<string, Map<string, Map<string, string>>>();
  private cachedSeries = 0;

  constructor(
    measurement = 'reading',
    private readonly maxCachedSeries = 100_000,
  ) {
    this.measurement = escapeMeasurement(measurement);
  }

  /** One line without the trailing newline. Throws STORE_INVALID_READING for a bad reading. */
  encode(r: Reading): string {
    const prefix = this.prefix(r);
    validateBody(r);
    let line = prefix + QC_KEY + (r.qc.length === 0 ? '""' : quoteStringField(r.qc.join(',')));
    const values = r.values;
    for (const key in values) {
      const v = values[key as MetricId];
      if (v !== undefined) line += VALUE_KEY[key as MetricId] + formatFloat(v);
    }
    if (r.seq !== undefined) line += SEQ_KEY + formatInteger(r.seq);
    for (const c of r.corrections) {
      line += CORRECTED_KEY[c.metric] + formatFloat(c.value) + CORRECTION_KEY[c.metric] + quoteStringField(c.method);
    }
    return `${line} ${r.ts}`;
  }

  /** readings[start..end) as newline-terminated lines. */
  encodeBatch(readings: readonly Reading[], start = 0, end = readings.length): string {
    let out = '';
    for (let i = start; i < end; i++) out += `${this.encode(readings[i]!)}\n`;
    return out;
  }

  private prefix(r: Reading): string {
    if (r === null || typeof r !== 'object') throw invalidReading(`a reading must be an object, got ${show(r)}`);
    let byStation = this.prefixes.get(r.city);
    let byDevice = byStation?.get(r.stationId);
    const hit = byDevice?.get(r.deviceId);
    if (hit !== undefined) return hit;
    // A miss: validate and escape the ids once for this series.
    checkName('city', r.city);
    checkName('stationId', r.stationId);
    checkName('deviceId', r.deviceId);
    const prefix = `${this.measurement},${TAG_CITY}=${escapeTag(r.city)},${TAG_DEVICE}=${escapeTag(r.deviceId)},${TAG_STATION}=${escapeTag(r.stationId)} `;
    if (this.cachedSeries >= this.maxCachedSeries) {
      this.prefixes.clear();
      this.cachedSeries = 0;
      byStation = undefined;
    }
    if (byStation === undefined) {
      byStation = new Map();
      this.prefixes.set(r.city, byStation);
      byDevice = undefined;
    }
    if (byDevice === undefined) {
      byDevice = new Map();
      byStation.set(r.stationId, byDevice);
    }
    byDevice.set(r.deviceId, prefix);
    this.cachedSeries++;
    return prefix;
  }
}
