import Type from 'typebox';
import { GeoPoint, Licence, LocalizedText } from './common';

const Band = Type.Object({
  id: Type.String(),
  level: Type.Integer(),
  color: Type.String(),
  colorName: LocalizedText,
  label: LocalizedText,
  advice: Type.Object({ general: LocalizedText, sensitive: LocalizedText }),
});

export const Meta = Type.Object(
  {
    api: Type.Object({ version: Type.String(), openapi: Type.String(), docs: Type.String() }),
    city: Type.Object({
      id: Type.String(),
      name: LocalizedText,
      timezone: Type.String(),
      center: GeoPoint,
      bbox: Type.Array(Type.Number(), { minItems: 4, maxItems: 4 }),
      primaryAqi: Type.String(),
      dataNotes: Type.String(),
    }),
    licence: Licence,
    metrics: Type.Array(
      Type.Object({ id: Type.String(), unit: Type.String(), label: LocalizedText, decimals: Type.Integer() }),
    ),
    qcFlags: Type.Array(Type.String()),
    qcPolicy: Type.Array(
      Type.Object({
        use: Type.String(),
        what: Type.String(),
        exclude: Type.Array(Type.String(), {
          description: 'Readings with any of these flags are left out of this use',
        }),
      }),
      { description: 'The quality policy: which QC flags keep a reading out of which use (docs/qc.md)' },
    ),
    liveWindowSeconds: Type.Integer({ description: 'A reading is live while its own time is at most this old' }),
    aqiSchemes: Type.Object({ 'th-pcd-2023': Type.Array(Band), 'us-epa-2024': Type.Array(Band) }),
    limits: Type.Object({
      maxPoints: Type.Integer(),
      rawMaxDays: Type.Integer(),
      seriesMaxDays: Type.Integer(),
      exportMaxDays: Type.Integer(),
      rateLimit: Type.Object({ max: Type.Integer(), windowSeconds: Type.Integer(), exportMax: Type.Integer() }),
      maxStreams: Type.Integer(),
      maxStreamsPerClient: Type.Integer(),
      maxPageLimit: Type.Integer({ description: 'Largest `limit` of a list page' }),
      maxRadiusM: Type.Integer({ description: 'Largest `radius` of a radius search, metres' }),
    }),
  },
  { title: 'Meta' },
);

const Check = Type.Object({ ok: Type.Boolean(), detail: Type.Optional(Type.String()) });

export const Health = Type.Object(
  {
    status: Type.Enum(['ok', 'degraded', 'down'], {
      description: 'down: the store is unreachable (503); degraded: the live stream bus is down',
    }),
    checks: Type.Object({ store: Check, bus: Check }),
    uptimeSeconds: Type.Integer(),
    streams: Type.Integer(),
  },
  { title: 'Health' },
);
