import Type from 'typebox';
import { BBox, Coordinates, DistrictId, IdList, qcParam, Radius, StationKind, Time } from './common';

export const EXPORT_FORMATS = ['csv', 'json', 'ndjson', 'geojson'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

export const EXPORT_MEDIA_TYPES: Record<ExportFormat, string> = {
  csv: 'text/csv; charset=utf-8',
  json: 'application/json; charset=utf-8',
  ndjson: 'application/x-ndjson; charset=utf-8',
  geojson: 'application/geo+json; charset=utf-8',
};

export const ExportQuery = Type.Object(
  {
    format: Type.Optional(Type.Enum([...EXPORT_FORMATS], { default: 'csv' })),
    from: Time('Start (inclusive); required'),
    to: Time('End (exclusive); required'),
    station: Type.Optional(IdList('station')),
    district: Type.Optional(DistrictId),
    kind: Type.Optional(Type.Enum(['air', 'canal'])),
    bbox: Type.Optional(BBox),
    coordinates: Type.Optional(Coordinates),
    radius: Type.Optional(Radius),
    metrics: Type.Optional(
      Type.String({
        pattern: '^[a-z][a-z0-9_]{0,31}(,[a-z][a-z0-9_]{0,31}){0,31}$',
        maxLength: 400,
        description: 'Comma-separated metric ids (default: the metrics of the selected station kinds)',
      }),
    ),
    qc: Type.Optional(qcParam('include')),
  },
  { additionalProperties: false },
);

/** Declared per media type; the body is streamed, so its shape is described in docs/api.md. */
export const ExportBody = Type.String({ description: 'The export file (streamed)' });

export { StationKind };
