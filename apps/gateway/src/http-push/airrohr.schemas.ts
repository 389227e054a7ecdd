/**
 * JSON Schemas (TypeBox) of the airrohr push route: body, headers and every response. They are
 * plain JSON Schema objects, used as the route `schema` (validated with TypeBox's compiler, see
 * airrohr.plugin.ts) and so available to an OpenAPI generator.
 */
import { ID_PATTERN } from '@cnx/protocol';
import Type from 'typebox';

/**
 * `X-Sensor` as the firmware sends it: SENSOR_BASENAME + chip id, `esp8266-13463418` (decimal chip
 * id) or `esp32-<hex>`. We accept any id satisfying the protocol's topic-level id rule, so it is
 * safe in the dead-letter topic and in logs.
 */
export const SENSOR_HEADER_PATTERN = ID_PATTERN.source;

/** `X-Pin`: the Sensor.Community API pin number of the sensor (1 = PM, 7 = DHT22, 11 = BME280, ...). */
export const PIN_HEADER_PATTERN = '^[0-9]{1,3}$';

export const AirrohrDataValueSchema = Type.Object({
  value_type: Type.String({ minLength: 1, maxLength: 64 }),
  // The firmware sends strings; finite JSON numbers are accepted for other clients.
  value: Type.Union([Type.String({ maxLength: 64 }), Type.Number()]),
});

export const AirrohrBodySchema = Type.Object(
  {
    esp8266id: Type.Optional(Type.String({ maxLength: 32 })),
    esp32id: Type.Optional(Type.String({ maxLength: 32 })),
    software_version: Type.Optional(Type.String({ maxLength: 64 })),
    sensordatavalues: Type.Array(AirrohrDataValueSchema, { minItems: 1, maxItems: 128 }),
  },
  { $id: 'https://cnx-sense.example/schemas/airrohr-push.json' },
);

export const AirrohrHeadersSchema = Type.Object({
  'x-sensor': Type.String({ pattern: SENSOR_HEADER_PATTERN }),
  'x-pin': Type.Optional(Type.String({ pattern: PIN_HEADER_PATTERN })),
});

export const PushOkSchema = Type.Object({
  ok: Type.Literal(true),
  /** True when the body repeats the sensor's last accepted one within the dedupe window. */
  duplicate: Type.Optional(Type.Boolean()),
  message: Type.Optional(Type.String()),
});

export const PushErrorSchema = Type.Object({
  ok: Type.Literal(false),
  /** Stable rejection code (GATEWAY_ERRORS), also the dead letter's reason; or internal_error. */
  reason: Type.String(),
  message: Type.String(),
});

export type AirrohrBody = Type.Static<typeof AirrohrBodySchema>;
export type PushOk = Type.Static<typeof PushOkSchema>;
export type PushErrorBody = Type.Static<typeof PushErrorSchema>;
