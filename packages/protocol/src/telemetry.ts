import {
  checkHardLimits,
  err,
  isMetricId,
  METRICS,
  type MetricId,
  type MetricValues,
  ok,
  type Result,
} from '@cnx/domain';
import { type PayloadError, payloadError } from './errors';
import type { SenmlPack, TelemetryPayload } from './payloads';
import { firstSchemaError, senmlValidator, telemetryValidator } from './schemas';

/** One timestamped set of values decoded from a device message. */
export interface ParsedTelemetry {
  ts: number;
  seq?: number;
  values: MetricValues;
  /** Metric names present in the payload that the registry does not know (ignored, counted). */
  ignored?: string[];
}

/**
 * Timestamps must be absolute epoch milliseconds. Anything before 2001-09-09 (1e12 ms) is almost
 * certainly seconds or a device without a clock; we reject it instead of guessing.
 */
const MIN_TS_MS = 1e12;
const MAX_TS_MS = 1e13;
/** RFC 8428 section 4.5.3: SenML times below 2**28 are relative to "now". */
const SENML_RELATIVE_LIMIT = 2 ** 28;
const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;

/** Days in a month of the proleptic Gregorian calendar (month 1..12). */
const daysIn = (y: number, m: number): number => new Date(Date.UTC(y, m, 0)).getUTCDate();

function parseTs(ts: number | string): number | undefined {
  let ms: number;
  if (typeof ts === 'number') {
    ms = ts;
  } else {
    const m = RFC3339.exec(ts);
    if (!m) return undefined;
    const [y, mo, d, h, mi, se] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
    // Date.parse rolls 2024-02-30 over to 1 March and T24:00 to the next day: refuse instead.
    if (mo < 1 || mo > 12 || d < 1 || d > daysIn(y, mo) || h > 23 || mi > 59 || se > 59) return undefined;
    ms = Date.parse(ts);
  }
  if (!Number.isFinite(ms) || ms < MIN_TS_MS || ms >= MAX_TS_MS) return undefined;
  return Math.floor(ms);
}

function unitOk(metric: MetricId, unit: string): boolean {
  const def = METRICS[metric];
  return unit === def.unit || def.unitAliases.includes(unit);
}

/** Decode our JSON telemetry (see payloads.ts). `doc` is the already-parsed JSON object. */
function fromTelemetry(doc: TelemetryPayload): Result<ParsedTelemetry[], PayloadError> {
  const ts = parseTs(doc.ts);
  if (ts === undefined) {
    return err(
      payloadError(
        'bad_timestamp',
        `ts must be epoch milliseconds (>= 1e12) or RFC 3339, got ${JSON.stringify(doc.ts)}`,
        doc.ts,
      ),
    );
  }
  const values: MetricValues = {};
  let ignored: string[] | undefined;
  let n = 0;
  for (const key in doc.values) {
    if (!isMetricId(key)) {
      if (!ignored) ignored = [];
      ignored.push(key);
      continue;
    }
    const unit = doc.units?.[key];
    if (unit !== undefined && !unitOk(key, unit)) {
      return err(
        payloadError('unit_mismatch', `${key} in ${JSON.stringify(unit)}, expected ${METRICS[key].unit}`, unit),
      );
    }
    values[key] = doc.values[key] as number;
    n++;
  }
  if (n === 0) return err(payloadError('no_values', `no known metric in ${JSON.stringify(Object.keys(doc.values))}`));
  const bad = checkHardLimits(values);
  if (bad) return err(payloadError('impossible_value', `${bad.metric}=${bad.value}`, bad.value));
  const reading: ParsedTelemetry = { ts, values };
  if (doc.seq !== undefined) reading.seq = doc.seq;
  if (ignored) reading.ignored = ignored;
  return ok([reading]);
}

/** Metric id from a resolved SenML name: the part after the last ':' or '/' (e.g. urn:dev:x:pm25). */
function senmlMetric(name: string): string {
  const i = Math.max(name.lastIndexOf(':'), name.lastIndexOf('/'));
  return i >= 0 ? name.slice(i + 1) : name;
}

/** Decode a SenML pack (RFC 8428): resolve base fields, group records by time into readings. */
function fromSenml(pack: SenmlPack): Result<ParsedTelemetry[], PayloadError> {
  let bn = '';
  let bt = 0;
  let bu: string | undefined;
  let bv = 0;
  const byTime = new Map<number, ParsedTelemetry>();
  let ignored: string[] | undefined;
  for (const r of pack) {
    if (r.bn !== undefined) bn = r.bn;
    if (r.bt !== undefined) bt = r.bt;
    if (r.bu !== undefined) bu = r.bu;
    if (r.bv !== undefined) bv = r.bv;
    if (r.v === undefined) continue; // string/boolean values carry nothing we store
    const name = senmlMetric(bn + (r.n ?? ''));
    if (!isMetricId(name)) {
      if (!ignored) ignored = [];
      ignored.push(name);
      continue;
    }
    const t = bt + (r.t ?? 0);
    if (t < SENML_RELATIVE_LIMIT) {
      return err(payloadError('bad_timestamp', `relative SenML time ${t} s: devices must send absolute time (bt)`, t));
    }
    const ts = Math.round(t * 1000);
    if (ts < MIN_TS_MS || ts >= MAX_TS_MS)
      return err(payloadError('bad_timestamp', `SenML time ${t} s out of range`, t));
    const unit = r.u ?? bu;
    if (unit !== undefined && !unitOk(name, unit)) {
      return err(
        payloadError('unit_mismatch', `${name} in ${JSON.stringify(unit)}, expected ${METRICS[name].unit}`, unit),
      );
    }
    let reading = byTime.get(ts);
    if (!reading) {
      reading = { ts, values: {} };
      byTime.set(ts, reading);
    }
    reading.values[name] = bv + r.v; // RFC 8428 4.5.3: value = base value + value
  }
  if (byTime.size === 0) return err(payloadError('no_values', 'SenML pack has no known numeric metric'));
  const out = [...byTime.values()].sort((a, b) => a.ts - b.ts);
  for (const reading of out) {
    const bad = checkHardLimits(reading.values);
    if (bad) return err(payloadError('impossible_value', `${bad.metric}=${bad.value}`, bad.value));
  }
  if (ignored && out[0]) out[0].ignored = ignored;
  return ok(out);
}

/**
 * Parse a telemetry message: our JSON object or a SenML pack (JSON array). Never throws; every
 * failure is a PayloadError with a stable code and the bad value.
 */
export function parseTelemetry(text: string): Result<ParsedTelemetry[], PayloadError> {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    return err(payloadError('malformed_json', (e as Error).message));
  }
  if (Array.isArray(doc)) {
    if (!senmlValidator.Check(doc)) return err(payloadError('senml_invalid', firstSchemaError(senmlValidator, doc)));
    return fromSenml(doc as SenmlPack);
  }
  if (!telemetryValidator.Check(doc)) {
    return err(payloadError('schema_violation', firstSchemaError(telemetryValidator, doc)));
  }
  return fromTelemetry(doc as TelemetryPayload);
}

/**
 * Our telemetry when it is an object already, not text: a reading the gateway decoded itself (a
 * Modbus poll). Exactly the checks `parseTelemetry` runs after `JSON.parse` (schema, units, time,
 * hard limits), without serialising the values to JSON and parsing them back.
 */
export function parseTelemetryObject(doc: TelemetryPayload): Result<ParsedTelemetry[], PayloadError> {
  if (!telemetryValidator.Check(doc)) {
    return err(payloadError('schema_violation', firstSchemaError(telemetryValidator, doc)));
  }
  return fromTelemetry(doc);
}
