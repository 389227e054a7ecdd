import { METRIC_IDS } from '@cnx/domain';
import Type from 'typebox';
import type { ApiLimits } from '../config';
import { MetricId, QcFlag, QcMode, qcParam, Time, Timestamp } from './common';
import { Correction, MetricValues, StationRef } from './station';

/** Metrics whose corrected value the gateway stores (`<metric>_corrected`): PM2.5 (docs/qc.md). */
export const CORRECTED_METRICS = ['pm25'] as const;
export const SERIES_METRICS = [...METRIC_IDS, ...CORRECTED_METRICS.map((m) => `${m}_corrected` as const)];

export const INTERVALS = { '5m': 300_000, '1h': 3_600_000, '1d': 86_400_000 } as const;
export type Interval = keyof typeof INTERVALS;

export const SeriesMetric = Type.Enum(SERIES_METRICS, {
  description:
    'A metric id (default: pm25 for air stations, water_level for canal stations); `pm25` is the raw sensor ' +
    'value, `pm25_corrected` the EPA-corrected one',
});

export const seriesQuery = (limits: ApiLimits) =>
  Type.Object(
    {
      metric: Type.Optional(SeriesMetric),
      from: Type.Optional(Time('Start (inclusive); default: `to` minus 24 h')),
      to: Type.Optional(Time('End (exclusive); default: now')),
      interval: Type.Optional(
        Type.Enum(['auto', '5m', '1h', '1d'], {
          description: `Bucket length; auto = the finest with at most ${limits.maxPoints} buckets. 1d buckets are local days`,
          default: 'auto',
        }),
      ),
      qc: Type.Optional(qcParam('usable')),
    },
    { additionalProperties: false },
  );

export const Coverage = Type.Object(
  {
    expectedCount: Type.Integer({
      description: "Samples expected from the station's devices, each at its own reporting interval",
    }),
    observedCount: Type.Integer(),
    percentComplete: Type.Number({ description: 'observed / expected × 100, at most 100' }),
  },
  { title: 'Coverage' },
);

export const SeriesBucket = Type.Object(
  {
    start: Timestamp,
    end: Timestamp,
    mean: Type.Number(),
    min: Type.Number(),
    max: Type.Number(),
    count: Type.Integer({ description: 'Samples kept by the QC filter' }),
    flagged: Type.Integer({
      description:
        'Samples the quality policy leaves out of figures (an excluding flag: range, spike, stuck, seq_duplicate, future, ' +
        'stale), whether kept or not; with qc=exclude-flagged or only-flagged, samples carrying any flag',
    }),
    coverage: Coverage,
  },
  { title: 'SeriesBucket' },
);

export const Series = Type.Object(
  {
    meta: Type.Object({
      station: StationRef,
      metric: SeriesMetric,
      unit: Type.String(),
      interval: Type.Enum(['5m', '1h', '1d']),
      from: Timestamp,
      to: Timestamp,
      qc: QcMode,
      expectedIntervalSeconds: Type.Integer({
        description:
          "The station's reporting interval (its devices' intervalS in the city pack; the shortest of several)",
      }),
      coverage: Coverage,
      count: Type.Integer({ description: 'Buckets returned' }),
    }),
    data: Type.Array(SeriesBucket),
  },
  { title: 'Series' },
);

export const readingsQuery = (limits: ApiLimits) =>
  Type.Object(
    {
      from: Type.Optional(Time('Start (inclusive); default: `to` minus 24 h')),
      to: Type.Optional(Time('End (exclusive); default: now')),
      metrics: Type.Optional(
        Type.String({
          pattern: '^[a-z][a-z0-9_]{0,31}(,[a-z][a-z0-9_]{0,31}){0,31}$',
          maxLength: 400,
          description: 'Comma-separated metric ids to return (default: all)',
        }),
      ),
      qc: Type.Optional(qcParam('include')),
      limit: Type.Optional(
        Type.Integer({ minimum: 1, maximum: limits.maxPoints, default: 1000, description: 'Readings per page' }),
      ),
      cursor: Type.Optional(
        Type.String({
          pattern: '^[A-Za-z0-9_-]{1,600}$',
          maxLength: 600,
          description: 'meta.nextCursor of the previous page (keyset pagination)',
        }),
      ),
    },
    { additionalProperties: false },
  );

export const ReadingRecord = Type.Object(
  {
    ts: Timestamp,
    station: Type.String(),
    device: Type.String(),
    seq: Type.Optional(Type.Integer()),
    values: MetricValues,
    corrections: Type.Array(Correction),
    qc: Type.Array(QcFlag),
    qcMetrics: Type.Optional(
      Type.Array(MetricId, { description: 'The metrics a metric flag in qc (range, spike, stuck) is about' }),
    ),
  },
  { title: 'Reading' },
);

export const ReadingsPage = Type.Object(
  {
    meta: Type.Object({
      station: StationRef,
      from: Timestamp,
      to: Timestamp,
      qc: QcMode,
      limit: Type.Integer(),
      count: Type.Integer(),
      nextCursor: Type.Union([Type.String(), Type.Null()], { description: 'Pass as `cursor` for the next page' }),
      next: Type.Union([Type.String(), Type.Null()], { description: 'Path and query of the next page' }),
    }),
    data: Type.Array(ReadingRecord),
  },
  { title: 'ReadingsPage' },
);

export { MetricId };
