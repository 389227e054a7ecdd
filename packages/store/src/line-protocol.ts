import { type Correction, METRIC_IDS, type MetricId, type Reading } from '@cnx/domain';
import { invalidReading, show } from './errors';
import {
  correctedField,
  correctionField,
  encodeQcMetrics,
  FIELD_QC,
  FIELD_QC_METRICS,
  FIELD_SEQ,
  isMetricFlag,
  TAG_CITY,
  TAG_DEVICE,
  TAG_STATION,
} from './schema';
import { idProblem, QC_CODE, textProblem, validateBody } from './validate';

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

const LINES_PER_CHUNK = 64;

/**
 * lineAt(start)..lineAt(end - 1) as newline-terminated UTF-8 lines appended to `out`, joined into
 * strings of LINES_PER_CHUNK lines and written chunk by chunk: one 750 KB string per 5000-line
 * request meant a large-object allocation, a flatten, a UTF-8 length pass and a second 750 KB copy
 * for the request, each on freshly mapped pages (docs/performance.md).
 */
export function appendLines(out: ByteBuilder, start: number, end: number, lineAt: (i: number) => string): void {
  let chunk = '';
  let lines = 0;
  for (let i = start; i < end; i++) {
    chunk += `${lineAt(i)}\n`;
    if (++lines === LINES_PER_CHUNK) {
      out.append(chunk);
      chunk = '';
      lines = 0;
    }
  }
  if (lines > 0) out.append(chunk);
}

/** A reading the fast path of `encode` did not accept: `validateBody` throws naming the problem. */
function invalid(r: Reading): never {
  validateBody(r);
  throw invalidReading(`line protocol: reading ${show(r.deviceId)}@${show(r.ts)} cannot be encoded`);
}

/**
 * A growing byte buffer that is reused: `reset()` keeps the memory (up to `keepBytes`) for the next
 * body, so steady batches write into the same, already mapped pages.
 */
export class ByteBuilder {
  private buf: Buffer;
  private len = 0;

  constructor(
    initialBytes = 64 * 1024,
    private readonly keepBytes = 16 * 1024 * 1024,
  ) {
    this.buf = Buffer.allocUnsafe(initialBytes);
  }

  get length(): number {
    return this.len;
  }

  /** Appends `s` as UTF-8. */
  append(s: string): void {
    const need = this.len + s.length * 3;
    if (need > this.buf.length) {
      let size = this.buf.length * 2;
      while (size < need) size *= 2;
      const next = Buffer.allocUnsafe(size);
      this.buf.copy(next, 0, 0, this.len);
      this.buf = next;
    }
    this.len += this.buf.write(s, this.len);
  }

  /** The bytes from `from` to `to` (a view: valid until the next append or reset). */
  view(from = 0, to = this.len): Buffer {
    return this.buf.subarray(from, to);
  }

  /** Empties it; memory above `keepBytes` is let go. */
  reset(): void {
    this.len = 0;
    if (this.buf.length > this.keepBytes) this.buf = Buffer.allocUnsafe(this.keepBytes);
  }
}

// Field-key fragments, escaped once (metric ids are plain, but a registry change must not break
// us). Null prototype: a key like 'constructor' is not a metric.
const VALUE_KEY: Record<string, string | undefined> = Object.create(null);
const CORRECTED_KEY: Record<string, string | undefined> = Object.create(null);
const CORRECTION_KEY: Record<string, string | undefined> = Object.create(null);
for (const m of METRIC_IDS) {
  VALUE_KEY[m] = `,${escapeTag(m)}=`;
  CORRECTED_KEY[m] = `,${escapeTag(correctedField(m))}=`;
  CORRECTION_KEY[m] = `,${escapeTag(correctionField(m))}=`;
}
const QC_KEY = `${escapeTag(FIELD_QC)}=`;
const QC_METRICS_KEY = `,${escapeTag(FIELD_QC_METRICS)}=`;
/** The QC fields of a clean reading, one constant: no flags and no flagged metrics. */
const CLEAN_QC = `${QC_KEY}""${QC_METRICS_KEY}""`;
const SEQ_KEY = `,${escapeTag(FIELD_SEQ)}=`;

/**
 * Encodes readings as line protocol, one point per reading:
 *   reading,city=<c>,device=<d>,station=<s> qc="<flags>",qc_metrics="<metrics>",<metric>=<float>...,
 *     seq=<n>i,<metric>_corrected=<float>,<metric>_correction="<method>" <ts ms>
 * `qc` and `qc_metrics` are always written (empty strings when clean), so a replay overwrites them.
 * Tags are written sorted by key (InfluxData's advice: the server does less work). The escaped
 * "measurement,tags " prefix is cached per device (with its city and station), so ids are validated
 * and escaped once per series.
 */
export class ReadingEncoder {
  private readonly measurement: string;
  private readonly prefixes = new Map<string, { city: string; stationId: string; prefix: string }>();

  constructor(
    measurement = 'reading',
    private readonly maxCachedSeries = 100_000,
  ) {
    this.measurement = escapeMeasurement(measurement);
  }

  /**
   * One line without the trailing newline. Throws STORE_INVALID_READING for a bad reading (the
   * same error as `validateBody`). The checks are made while encoding, so a good reading is looked
   * at once; anything unexpected is handed to `validateBody`, which names the problem.
   */
  encode(r: Reading): string {
    const prefix = this.prefix(r);
    const { values, corrections, qc } = r;
    if (
      !Number.isSafeInteger(r.ts) ||
      (r.seq !== undefined && !Number.isSafeInteger(r.seq)) ||
      values === null ||
      typeof values !== 'object' ||
      !Array.isArray(corrections) ||
      !Array.isArray(qc)
    )
      return invalid(r);
    let flags = '';
    for (let i = 0; i < qc.length; i++) {
      const f = qc[i];
      if (!this.knownFlag(f)) return invalid(r);
      flags = i === 0 ? f : `${flags},${f}`;
    }
    // qcMetrics: absent on a clean reading, so the common case is one constant.
    const about = r.qcMetrics;
    let line: string;
    if (about === undefined || (Array.isArray(about) && about.length === 0)) {
      line = flags === '' ? prefix + CLEAN_QC : `${prefix}${QC_KEY}"${flags}"${QC_METRICS_KEY}""`;
    } else {
      const metrics = Array.isArray(about) ? encodeQcMetrics(about) : undefined;
      if (metrics === undefined || !qc.some(isMetricFlag)) return invalid(r);
      line = `${prefix}${QC_KEY}"${flags}"${QC_METRICS_KEY}${quoteStringField(metrics)}`;
    }
    for (const key in values) {
      const v = values[key as MetricId];
      if (v === undefined) continue;
      const k = VALUE_KEY[key];
      if (k === undefined || typeof v !== 'number' || !Number.isFinite(v)) return invalid(r);
      line += k + formatFloat(v);
    }
    if (r.seq !== undefined) line += SEQ_KEY + formatInteger(r.seq);
    for (let i = 0; i < corrections.length; i++) {
      const c = corrections[i] as Correction;
      const key = c !== null && typeof c === 'object' ? CORRECTED_KEY[c.metric] : undefined;
      if (key === undefined || typeof c.value !== 'number' || !Number.isFinite(c.value) || !this.knownMethod(c.method))
        return invalid(r);
      for (let j = 0; j < i; j++) if ((corrections[j] as Correction).metric === c.metric) return invalid(r);
      line += key + formatFloat(c.value) + CORRECTION_KEY[c.metric] + quoteStringField(c.method);
    }
    return `${line} ${r.ts}`;
  }

  /** QC codes and correction methods seen valid: a handful of constants, checked once each. */
  private readonly okFlags = new Set<unknown>();
  private readonly okMethods = new Set<unknown>();

  private knownFlag(f: unknown): f is string {
    if (this.okFlags.has(f)) return true;
    if (typeof f !== 'string' || !QC_CODE.test(f)) return false;
    if (this.okFlags.size < 1000) this.okFlags.add(f);
    return true;
  }

  private knownMethod(m: unknown): m is string {
    if (this.okMethods.has(m)) return true;
    if (textProblem(m) !== undefined) return false;
    if (this.okMethods.size < 1000) this.okMethods.add(m);
    return true;
  }

  /** readings[start..end) as newline-terminated lines. */
  encodeBatch(readings: readonly Reading[], start = 0, end = readings.length): string {
    let out = '';
    for (let i = start; i < end; i++) out += `${this.encode(readings[i]!)}\n`;
    return out;
  }

  private prefix(r: Reading): string {
    if (r === null || typeof r !== 'object') throw invalidReading(`a reading must be an object, got ${show(r)}`);
    // One look-up by device; its city and station are compared (a device that moved gets a new entry).
    const hit = this.prefixes.get(r.deviceId);
    if (hit !== undefined && hit.city === r.city && hit.stationId === r.stationId) return hit.prefix;
    // A miss: validate and escape the ids once for this series.
    checkName('city', r.city);
    checkName('stationId', r.stationId);
    checkName('deviceId', r.deviceId);
    const prefix = `${this.measurement},${TAG_CITY}=${escapeTag(r.city)},${TAG_DEVICE}=${escapeTag(r.deviceId)},${TAG_STATION}=${escapeTag(r.stationId)} `;
    if (this.prefixes.size >= this.maxCachedSeries) this.prefixes.clear();
    this.prefixes.set(r.deviceId, { city: r.city, stationId: r.stationId, prefix });
    return prefix;
  }
}
