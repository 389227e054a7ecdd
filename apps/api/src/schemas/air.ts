import Type from 'typebox';
import { LocalizedText, QcFlag, Timestamp } from './common';
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
    averaging: Type.Enum(['rolling24h', 'nowcast'], {
      description: 'Thai AQI: the rolling 24-hour mean (as Air4Thai); US AQI: the NowCast (as AirNow)',
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
    device: Type.String(),
    values: MetricValues,
    corrections: Type.Array(Correction),
    qc: Type.Array(QcFlag),
  },
  { title: 'LatestReading' },
);

export const AirNow = Type.Object(
  {
    pm25: PmState,
    pm10: PmState,
    aqi: Type.Object({
      th: Type.Union([AqiIndex, Type.Null()], { description: 'Thai AQI (PCD 2023) from the rolling 24-hour means' }),
      us: Type.Union([AqiIndex, Type.Null()], { description: 'US AQI (EPA 2024) from the NowCast' }),
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
      count: Type.Integer(),
      generatedAt: Timestamp,
      qcExcluded: Type.Array(QcFlag, { description: 'Flags whose readings the 1 h / 24 h / NowCast values leave out' }),
    }),
    data: Type.Array(StationLatest),
  },
  { title: 'LatestList' },
);
