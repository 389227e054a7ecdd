import {
  type Correction,
  err,
  type MetricId,
  type MetricValues,
  ok,
  type QcFlag,
  type Result,
  type StationKind,
} from '@cnx/domain';
import Type, { type Static } from 'typebox';
import { Compile } from 'typebox/compile';
import { AlertEventPayload } from './alerts';
import { ReportEventPayload } from './reports';

/**
 * The bus contract: one schema per message the services exchange on the broker (docs/protocol.md
 * section 6). The gateway's output is tested against these (apps/gateway/test/gateway.integration.test.ts
 * over real Mosquitto, and every Modbus test through test/modbus/helpers.ts `onContract`);
 * the API and the alerts service parse with them. Codes and metric ids are strings here, not the
 * domain's unions: a newer producer may add a flag or a metric (both are only ever added), and an
 * older consumer must still take the reading and ignore what it does not know.
 */

/** Epoch ms bounds of a device time (the telemetry parser's: 2001-09-09 .. 2286-11-20). */
const MIN_TS = 1e12;
const MAX_TS = 1e13;
const Time = Type.Integer({ minimum: MIN_TS, maximum: MAX_TS });
const Id = Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$' });
const Code = Type.String({ pattern: '^[a-z][a-z0-9_-]{0,63}$' });

export const NormalizedReadingSchema = Type.Object({
  v: Type.Literal(1),
  city: Id,
  station: Id,
  device: Id,
  kind: Type.Union([Type.Literal('air'), Type.Literal('canal')]),
  district: Type.String({ maxLength: 64 }),
  ts: Time,
  seq: Type.Optional(Type.Integer({ minimum: 0, maximum: 4294967295 })),
  values: Type.Record(Code, Type.Number(), { maxProperties: 32 }),
  corrections: Type.Array(
    Type.Object({ metric: Code, value: Type.Number(), method: Type.String({ minLength: 1, maxLength: 128 }) }),
    { maxItems: 32 },
  ),
  qc: Type.Array(Code, { maxItems: 32 }),
  /** The metrics a metric flag in `qc` (range, spike, stuck) is about; absent when none. */
  qcMetrics: Type.Optional(Type.Array(Code, { minItems: 1, maxItems: 32 })),
  /** Gateway receive time, epoch ms. */
  receivedAt: Time,
});

/** `cnx/v1/{city}/readings`: every reading the gateway made durable in one bus window, in order. */
export const ReadingsBatchSchema = Type.Object({
  v: Type.Literal(1),
  readings: Type.Array(NormalizedReadingSchema, { maxItems: 100_000 }),
});

/** `cnx/v1/{city}/deadletter/{deviceId}`: one rejected device message. */
export const DeadLetterSchema = Type.Object({
  v: Type.Literal(1),
  /** Stable code from the gateway's error catalogue, e.g. `malformed_json`. */
  reason: Code,
  message: Type.String({ maxLength: 131072 }),
  /** An MQTT topic (at most 65535 bytes) or a transport's source name. */
  topic: Type.String({ maxLength: 65535 }),
  receivedAt: Type.Integer({ minimum: 0 }),
  /** The rejected payload: UTF-8 text when valid UTF-8, else base64 (see encoding). */
  payload: Type.String({ maxLength: 4096 }),
  encoding: Type.Union([Type.Literal('utf8'), Type.Literal('base64')]),
  /** Only the first 2048 bytes of the original are echoed. */
  truncated: Type.Boolean(),
});

/** `cnx/v1/{city}/events/device-offline` and `…/device-online` (Modbus polling today). */
export const DeviceEventSchema = Type.Object({
  v: Type.Literal(1),
  event: Type.Union([Type.Literal('device-offline'), Type.Literal('device-online')]),
  city: Id,
  station: Id,
  device: Id,
  transport: Type.Union([Type.Literal('modbus-tcp'), Type.Literal('modbus-rtu')]),
  /** When the gateway decided, epoch ms. */
  ts: Type.Integer({ minimum: 0 }),
  /** Last successful poll, epoch ms; null if the device never answered since the gateway started. */
  lastSuccessAt: Type.Union([Type.Integer({ minimum: 0 }), Type.Null()]),
  /** How long the device had been silent (offline), or was silent (online), ms. */
  silenceMs: Type.Integer({ minimum: 0 }),
  consecutiveFailures: Type.Integer({ minimum: 0 }),
  lastError: Type.Optional(
    Type.Object({
      kind: Type.String({ maxLength: 32 }),
      exceptionCode: Type.Optional(Type.Integer({ minimum: 0, maximum: 255 })),
      message: Type.String({ maxLength: 1024 }),
    }),
  ),
});

export const normalizedReadingValidator = Compile(NormalizedReadingSchema);
export const readingsBatchValidator = Compile(ReadingsBatchSchema);
export const deadLetterValidator = Compile(DeadLetterSchema);
export const deviceEventValidator = Compile(DeviceEventSchema);
/** The alert event's schema is AlertEventPayload (alerts.ts, shared with the public alert views). */
export const alertEventValidator = Compile(AlertEventPayload);
/** An approved citizen report (reports.ts). */
export const reportEventValidator = Compile(ReportEventPayload);

/**
 * One accepted reading as it travels on the bus and sits in the spool. The producer's type (the
 * domain's unions); a consumer reads `Static<typeof NormalizedReadingSchema>` (BusReading).
 */
export interface NormalizedReadingPayload {
  v: 1;
  city: string;
  station: string;
  device: string;
  kind: StationKind;
  district: string;
  ts: number;
  seq?: number;
  values: MetricValues;
  corrections: Correction[];
  qc: QcFlag[];
  /** The metrics a metric flag in `qc` (range, spike, stuck) is about; absent when none. */
  qcMetrics?: MetricId[];
  /** Gateway receive time, epoch ms. */
  receivedAt: number;
}

/** A reading as a consumer gets it from parseReadingsBatch: checked against the schema. */
export type BusReading = Static<typeof NormalizedReadingSchema>;
export type ReadingsBatchPayload = { v: 1; readings: NormalizedReadingPayload[] };
export type DeadLetterPayload = Static<typeof DeadLetterSchema>;
export type DeviceEventPayload = Static<typeof DeviceEventSchema>;

/** Build a batch message from already-serialised NormalizedReadingPayload JSON strings (no re-encoding). */
export const readingsBatchJson = (records: readonly string[]): string => `{"v":1,"readings":[${records.join(',')}]}`;

/** Why a bus message was not taken: stable codes (consumers count them). */
export type BusParseError = 'malformed_json' | 'invalid';

/** JSON.parse then the compiled schema: the one way a consumer reads a bus message. */
function parseWith<T>(validator: { Check(v: unknown): boolean }, payload: Buffer | string): Result<T, BusParseError> {
  let doc: unknown;
  try {
    doc = JSON.parse(typeof payload === 'string' ? payload : payload.toString('utf8'));
  } catch {
    return err('malformed_json');
  }
  return validator.Check(doc) ? ok(doc as T) : err('invalid');
}

/**
 * A readings batch. A batch with one invalid reading is refused whole (the producer is broken or
 * someone else published on the topic); `parseReadingsBatchLenient` keeps the valid ones.
 */
export const parseReadingsBatch = (payload: Buffer | string) =>
  parseWith<{ v: 1; readings: BusReading[] }>(readingsBatchValidator, payload);

/** The valid readings of a batch and how many were not (for a consumer that counts them apart). */
export function parseReadingsBatchLenient(
  payload: Buffer | string,
): Result<{ readings: BusReading[]; invalid: number }, BusParseError> {
  const whole = parseReadingsBatch(payload);
  if (whole.ok) return ok({ readings: whole.value.readings, invalid: 0 });
  if (whole.error === 'malformed_json') return whole;
  const doc = JSON.parse(typeof payload === 'string' ? payload : payload.toString('utf8')) as {
    v?: unknown;
    readings?: unknown;
  };
  if (doc?.v !== 1 || !Array.isArray(doc.readings)) return err('invalid');
  const readings = doc.readings.filter((r): r is BusReading => normalizedReadingValidator.Check(r));
  return ok({ readings, invalid: doc.readings.length - readings.length });
}

export const parseDeadLetter = (payload: Buffer | string) => parseWith<DeadLetterPayload>(deadLetterValidator, payload);
export const parseDeviceEvent = (payload: Buffer | string) =>
  parseWith<DeviceEventPayload>(deviceEventValidator, payload);
export const parseAlertEvent = (payload: Buffer | string) => parseWith<AlertEventPayload>(alertEventValidator, payload);
export const parseReportEvent = (payload: Buffer | string) =>
  parseWith<ReportEventPayload>(reportEventValidator, payload);
