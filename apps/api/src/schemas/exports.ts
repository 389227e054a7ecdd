import Type from 'typebox';
import { BBox, Coordinates, DistrictId, IdList, qcParam, Radius, StationKind, Time, Timestamp } from './common';
import { Coverage } from './series';

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

export const ROLLUP_EXPORT_FORMATS = ['json', 'ndjson', 'csv'] as const;
export type RollupExportFormat = (typeof ROLLUP_EXPORT_FORMATS)[number];

export const RollupExportQuery = Type.Object(
  {
    interval: Type.Enum(['1h', '1d'], { description: 'Hourly or daily buckets (local hours and days of the city)' }),
    format: Type.Optional(Type.Enum([...ROLLUP_EXPORT_FORMATS], { default: 'json' })),
    from: Time('Start (inclusive): buckets starting at or after it; required'),
    to: Time('End (exclusive): buckets starting before it; required'),
    station: Type.Optional(IdList('station')),
    district: Type.Optional(DistrictId),
    kind: Type.Optional(Type.Enum(['air', 'canal'])),
    bbox: Type.Optional(BBox),
    metrics: Type.Optional(
      Type.String({
        pattern: '^[a-z][a-z0-9_]{0,31}(,[a-z][a-z0-9_]{0,31}){0,31}$',
        maxLength: 400,
        description:
          'Comma-separated series metrics (metric ids, pm25_corrected; default: the metrics of the selected station kinds)',
      }),
    ),
  },
  { additionalProperties: false },
);

/** One bucket of one station and metric in a rollup export. */
export const RollupRecord = Type.Object(
  {
    start: Timestamp,
    end: Timestamp,
    station: Type.String(),
    metric: Type.String({ description: 'A metric id or pm25_corrected' }),
    mean: Type.Number(),
    min: Type.Number(),
    max: Type.Number(),
    count: Type.Integer({ description: 'Usable samples (the quality policy)' }),
    flagged: Type.Integer({ description: 'Samples with an excluding QC flag (left out of mean, min, max, count)' }),
    coverage: Coverage,
  },
  { additionalProperties: false },
);

/** The JSON rollup export (NDJSON: the meta object on the first line, then one record per line). */
export const RollupExportFile = Type.Object(
  {
    meta: Type.Object(
      {
        dataset: Type.String(),
        licence: Type.Object({ id: Type.String(), url: Type.String(), attribution: Type.String() }),
        interval: Type.Enum(['1h', '1d']),
        from: Timestamp,
        to: Timestamp,
        rolledUpUntil: Type.Union([Timestamp, Type.Null()], {
          description: 'Buckets starting before this are rolled up; later ones are not in the file yet',
        }),
        qc: Type.Literal('usable'),
        stations: Type.Array(Type.String()),
        metrics: Type.Array(Type.String()),
        units: Type.Record(Type.String(), Type.String()),
        generatedAt: Timestamp,
      },
      { additionalProperties: false },
    ),
    data: Type.Array(RollupRecord),
    rows: Type.Integer(),
  },
  { additionalProperties: false },
);
