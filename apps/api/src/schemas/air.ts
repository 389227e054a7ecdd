import Type from 'typebox';
import { LocalizedText, MetricId, PageMeta, QcFlag, Timestamp } from './common';
import { Correction, MetricValues, StationRef, StationStatus } from './station';

export const AqiIndex = Type.Object(
  {
    scheme: Type.Enum(['th-pcd-2023', 'us-epa-2024']),
    value: Type.Integer(),
    band: Type.String({ description: 'Stable band id of the scheme (GET /v1/meta lists them)' }),
    level: Type.Integer({ description: '0 = best band' }),
    color: Type.String({ description: '#RRGGBB' }),
    colorName: LocalizedText,
    label: LocalizedText,
    advice: Type.Object({ general: LocalizedText, sensitive: LocalizedText }),
    beyondScale: Type.Boolean({ description: 'Above what the official table defines a number for' }),
    convention: Type.Enum(['standard', 'cnx-extrapolated', 'cnx-capped'], {
      description: 'standard: inside the official table; otherwise the project convention named (docs/api.md)',
    }),
    dominant: Type.Enum(['pm25', 'pm10'], { description: 'The pollutant whose sub-index is the overall index' }),
    concentration: Type.Number({ description: 'µg/m³ the table was read with (after the scheme rounding)' }),
    averaging: Type.Enum(['rolling24h', 'nowcast', 'hour1'], {
      description:
        'The concentration the index was read from: rolling24h = the rolling 24-hour mean (the official Thai AQI, ' +
        'as Air4Thai); nowcast = the EPA NowCast (the US AQI, as AirNow, and the Thai "now" band); hour1 = the ' +
        "latest hour's mean: the current hour, or the one before while the current has no reading yet (the Thai " +
        '"now" band before a NowCast exists)',
    }),
    official: Type.Boolean({
      description: 'true only for the Thai AQI of a valid rolling 24-hour mean; "now" bands are indicative',
    }),
  },
  { title: 'AqiIndex' },
);

export const HourMean = Type.Object(
  {
    value: Type.Number(),
    hourStart: Timestamp,
    count: Type.Integer({ description: 'Samples averaged' }),
  },
  { title: 'HourMean' },
);

export const Rolling24h = Type.Object(
  {
    value: Type.Union([Type.Number(), Type.Null()], { description: 'null unless valid (18 of 24 hours)' }),
    valid: Type.Boolean(),
    hoursObserved: Type.Integer(),
    coverage: Type.Number({ description: 'hoursObserved / 24' }),
    windowStart: Timestamp,
    windowEnd: Timestamp,
  },
  { title: 'Rolling24h' },
);

export const NowcastValue = Type.Object(
  {
    value: Type.Number(),
    weight: Type.Number(),
    hoursUsed: Type.Integer(),
  },
  { title: 'Nowcast' },
);

export const PmState = Type.Object(
  {
    basis: Type.Enum(['pm25_corrected', 'pm25', 'pm10'], {
      description: 'The series used: corrected PM2.5 when the gateway corrected this station, else raw',
    }),
    unit: Type.Literal('ug/m3'),
    hour1: Type.Union([HourMean, Type.Null()], {
      description: 'Mean of the current clock hour so far (provisional until the hour ends)',
    }),
    rolling24h: Rolling24h,
    nowcast: Type.Union([NowcastValue, Type.Null()], {
      description: 'EPA NowCast; null unless 2 of the 3 most recent hours have data',
    }),
  },
  { title: 'PmState' },
);

export const LatestReading = Type.Object(
  {
    ts: Timestamp,
    ageSeconds: Type.Integer({ description: 'Age of the reading at generatedAt, by its own time' }),
    live: Type.Boolean({
      description: 'Whether the reading is recent by its own time (within 15 minutes of generatedAt, docs/qc.md)',
    }),
    device: Type.String(),
    values: MetricValues,
    corrections: Type.Array(Correction),
    qc: Type.Array(QcFlag),
    qcMetrics: Type.Optional(
      Type.Array(MetricId, { description: 'The metrics a metric flag in qc (range, spike, stuck) is about' }),
    ),
  },
  { title: 'LatestReading' },
);

export const AirNow = Type.Object(
  {
    pm25: PmState,
    pm10: PmState,
    aqi: Type.Object({
      th: Type.Union([AqiIndex, Type.Null()], {
        description:
          'The official Thai AQI (PCD 2023) from the rolling 24-hour means; null until valid (18 of 24 hours)',
      }),
      us: Type.Union([AqiIndex, Type.Null()], { description: 'US AQI (EPA 2024) from the NowCast' }),
      now: Type.Union([AqiIndex, Type.Null()], {
        description:
          'The Thai index of "now" (not official): from the NowCast, else the latest hour\'s mean; null without recent data',
      }),
      band: Type.Union([AqiIndex, Type.Null()], {
        description:
          'The Thai index a map or list shows: `th` when valid, else `now` (its `official` and `averaging` say ' +
          'which); null without data. Never the US AQI',
      }),
    }),
  },
  { title: 'AirNow' },
);

export const StationLatest = Type.Object(
  {
    station: StationRef,
    status: StationStatus,
    latest: Type.Union([LatestReading, Type.Null()]),
    air: Type.Optional(AirNow),
  },
  { title: 'StationLatest' },
);

export const LatestList = Type.Object(
  {
    meta: Type.Object({
      city: Type.String(),
      ...PageMeta,
      generatedAt: Timestamp,
      qcExcluded: Type.Array(QcFlag, {
        description: 'Flags whose readings the latest value and the 1 h / 24 h / NowCast values leave out (docs/qc.md)',
      }),
    }),
    data: Type.Array(StationLatest),
  },
  { title: 'LatestList' },
);
