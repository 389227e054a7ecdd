/**
 * JSON schema (typebox 1.x) of a register map file, maps/<id>.json. Rules a schema cannot express
 * (unique names, overlapping addresses, the status register's type, units against the metric) live in
 * validate.ts. docs/modbus.md describes the same shape in prose; keep the two in step.
 */
import { METRIC_IDS } from '@cnx/domain';
import Type from 'typebox';
import { REGISTER_TYPES, WORD_ORDERS } from './types';

/** Same id rule as city-pack ids: the map id is what a device's `model` names. */
export const MAP_ID_PATTERN = /^[a-z0-9][a-z0-9-]{0,62}$/;
/** Register names: snake_case, usable as a field or flag name everywhere. */
export const REGISTER_NAME_PATTERN = /^[a-z][a-z0-9_]{0,62}$/;

const Text = Type.String({ minLength: 1 });

export const RegisterDefSchema = Type.Object(
  {
    name: Type.String({ pattern: REGISTER_NAME_PATTERN.source }),
    metric: Type.Optional(Type.Enum([...METRIC_IDS])),
    address: Type.Integer({ minimum: 0, maximum: 0xffff }),
    fn: Type.Enum([3, 4]),
    type: Type.Enum([...REGISTER_TYPES]),
    scale: Type.Optional(Type.Number()),
    offset: Type.Optional(Type.Number()),
    wordOrder: Type.Optional(Type.Enum([...WORD_ORDERS])),
    unit: Type.Optional(Text),
    description: Text,
  },
  { additionalProperties: false },
);

export const StatusSchema = Type.Object(
  {
    register: Type.String({ pattern: REGISTER_NAME_PATTERN.source }),
    bits: Type.Record(
      Type.String({ pattern: REGISTER_NAME_PATTERN.source }),
      Type.Integer({ minimum: 0, maximum: 15 }),
    ),
  },
  { additionalProperties: false },
);

export const RegisterMapSchema = Type.Object(
  {
    $schema: Type.Optional(Type.String()),
    id: Type.String({ pattern: MAP_ID_PATTERN.source }),
    vendor: Text,
    description: Text,
    wordOrder: Type.Enum([...WORD_ORDERS]),
    registers: Type.Array(RegisterDefSchema, { minItems: 1 }),
    status: Type.Optional(StatusSchema),
    note: Type.Optional(Type.String()),
  },
  { additionalProperties: false },
);
