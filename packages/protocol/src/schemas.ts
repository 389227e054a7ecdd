import Type from 'typebox';
import { Compile } from 'typebox/compile';

/**
 * JSON Schemas (TypeBox) of the device payloads. The compiled validators run on every message in
 * the gateway's hot path; the schemas are also published in docs/protocol.md.
 */
const MetricKey = '^[a-z][a-z0-9_]{0,31}$';

export const TelemetrySchema = Type.Object(
  {
    ts: Type.Union([Type.Number(), Type.String({ maxLength: 40 })]),
    seq: Type.Optional(Type.Integer({ minimum: 0, maximum: 4294967295 })),
    values: Type.Record(Type.String({ pattern: MetricKey }), Type.Number(), { maxProperties: 32 }),
    units: Type.Optional(Type.Record(Type.String({ pattern: MetricKey }), Type.String({ maxLength: 16 }))),
    fw: Type.Optional(Type.String({ maxLength: 64 })),
  },
  { $id: 'https://cnx-sense.example/schemas/telemetry.json' },
);

export const SenmlRecordSchema = Type.Object({
  bn: Type.Optional(Type.String({ maxLength: 128 })),
  bt: Type.Optional(Type.Number()),
  bu: Type.Optional(Type.String({ maxLength: 16 })),
  bv: Type.Optional(Type.Number()),
  /** Base sum / sum (`bs`, `s`) are not supported: a pack using them is rejected, not misread. */
  bs: Type.Optional(Type.Never()),
  s: Type.Optional(Type.Never()),
  bver: Type.Optional(Type.Integer()),
  n: Type.Optional(Type.String({ maxLength: 128 })),
  u: Type.Optional(Type.String({ maxLength: 16 })),
  v: Type.Optional(Type.Number()),
  vs: Type.Optional(Type.String()),
  vb: Type.Optional(Type.Boolean()),
  t: Type.Optional(Type.Number()),
});

export const SenmlPackSchema = Type.Array(SenmlRecordSchema, { minItems: 1, maxItems: 64 });

export const DeviceStatusSchema = Type.Object({
  state: Type.Union([Type.Literal('online'), Type.Literal('offline')]),
  ts: Type.Optional(Type.Number()),
  fw: Type.Optional(Type.String({ maxLength: 64 })),
});

export const telemetryValidator = Compile(TelemetrySchema);
export const senmlValidator = Compile(SenmlPackSchema);
export const deviceStatusValidator = Compile(DeviceStatusSchema);

/** First schema error as "path: message" for dead-letter reasons. */
export function firstSchemaError(
  validator: { Errors(v: unknown): Iterable<{ instancePath: string; message: string }> },
  value: unknown,
): string {
  for (const e of validator.Errors(value)) return `${e.instancePath || '/'} ${e.message}`;
  return 'invalid';
}
