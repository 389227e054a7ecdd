import Type from 'typebox';
import {
  BBox,
  Coordinates,
  DistrictId,
  GeoPoint,
  IdList,
  LocalizedText,
  MetricId,
  PageLimit,
  PageMeta,
  PageNumber,
  Radius,
  StationKind,
  Timestamp,
} from './common';

/** What every station-centred response says about the station. */
export const StationRef = Type.Object(
  {
    id: Type.String(),
    kind: StationKind,
    name: LocalizedText,
    district: Type.String(),
    location: GeoPoint,
  },
  { title: 'StationRef' },
);

export const CanalLevels = Type.Object(
  {
    bankHeightM: Type.Number(),
    warningLevelM: Type.Number(),
    criticalLevelM: Type.Number(),
    source: Type.Enum(['placeholder', 'surveyed'], {
      description: 'placeholder: not yet surveyed by the municipality (city pack)',
    }),
  },
  { title: 'CanalLevels', description: 'Metres above the gauge datum, from the city pack' },
);

export const QcHealth = Type.Object(
  {
    windowHours: Type.Integer({ description: 'The window counted (24 h)' }),
    readings: Type.Integer(),
    flagged: Type.Integer({ description: 'Readings carrying any QC flag (annotating ones such as humidity included)' }),
    flaggedShare: Type.Union([Type.Number({ minimum: 0, maximum: 1 }), Type.Null()], {
      description: 'flagged / readings; null without readings',
    }),
    excluded: Type.Integer({
      description:
        'Readings whose main value (PM2.5 of an air station, the level of a canal station) the quality policy ' +
        'keeps out of every figure (an excluding flag on it or on the whole reading: LatestList.meta.qcExcluded)',
    }),
    excludedShare: Type.Union([Type.Number({ minimum: 0, maximum: 1 }), Type.Null()], {
      description: 'excluded / readings; null without readings',
    }),
  },
  { title: 'QcHealth' },
);

export const StationStatus = Type.Object(
  {
    lastSeen: Type.Union([Timestamp, Type.Null()], { description: 'Time of the newest reading (null: none recently)' }),
    ageSeconds: Type.Union([Type.Integer(), Type.Null()]),
    online: Type.Boolean({ description: 'A reading arrived within the configured silence (API_OFFLINE_AFTER_S)' }),
    qc: QcHealth,
  },
  { title: 'StationStatus' },
);

export const Organisation = Type.Object(
  { name: Type.String(), url: Type.Optional(Type.String()) },
  { title: 'Organisation' },
);

export const Instrument = Type.Object(
  {
    grade: Type.Enum(['reference', 'low-cost'], {
      description: 'reference: a regulatory-grade monitor; low-cost: a sensor (OpenAQ isMonitor true / false)',
    }),
    manufacturer: Type.String(),
    model: Type.String({ description: 'The sensor model' }),
  },
  { title: 'Instrument' },
);

export const Station = Type.Object(
  {
    id: Type.String(),
    kind: StationKind,
    name: LocalizedText,
    district: Type.String(),
    location: GeoPoint,
    provider: Type.Optional(Organisation),
    owner: Type.Optional(Organisation),
    instrument: Type.Optional(Instrument),
    devices: Type.Array(Type.Object({ id: Type.String(), model: Type.String(), transport: Type.String() })),
    canal: Type.Optional(CanalLevels),
    firstReading: Type.Union([Timestamp, Type.Null()], { description: 'Time of the oldest stored reading' }),
    lastReading: Type.Union([Timestamp, Type.Null()], { description: 'Time of the newest stored reading' }),
    distanceM: Type.Optional(
      Type.Integer({ description: 'Great-circle distance from `coordinates`, metres (radius searches only)' }),
    ),
    status: StationStatus,
  },
  { title: 'Station' },
);

export const StationListQuery = Type.Object(
  {
    kind: Type.Optional(StationKind),
    district: Type.Optional(DistrictId),
    bbox: Type.Optional(BBox),
    coordinates: Type.Optional(Coordinates),
    radius: Type.Optional(Radius),
    station: Type.Optional(IdList('station')),
    limit: Type.Optional(PageLimit),
    page: Type.Optional(PageNumber),
  },
  { additionalProperties: false },
);

export const StationList = Type.Object(
  {
    meta: Type.Object({ city: Type.String(), ...PageMeta, generatedAt: Timestamp }),
    data: Type.Array(Station),
  },
  { title: 'StationList' },
);

/** Metric values of one reading, by metric id (only the metrics the reading carries). */
export const MetricValues = Type.Partial(Type.Record(MetricId, Type.Number()), {
  title: 'MetricValues',
  additionalProperties: false,
});

/** A low-cost-sensor correction kept beside the raw value (docs/qc.md, PM2.5 correction). */
export const Correction = Type.Object(
  {
    metric: MetricId,
    value: Type.Number(),
    method: Type.String({ description: 'Versioned formula id, e.g. epa-barkjohn-2021-extended@1' }),
  },
  { title: 'Correction' },
);
