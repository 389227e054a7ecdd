/**
 * JSON schemas (typebox 1.x) for the five files of a city pack. cities/README.md describes the same
 * shapes in prose; keep the two in step. Cross-file rules (references, polygons, level ordering)
 * are not expressible here and live in validate.ts.
 */
import Type from 'typebox';

/** Ids of cities, stations, devices, districts and waterways: safe in URLs, MQTT topics and tags. */
export const ID_PATTERN = /^[a-z0-9][a-z0-9-]{0,62}$/;

const description = (text: string) => ({ description: text });

export const IdSchema = Type.String({ pattern: ID_PATTERN.source, ...description('lowercase [a-z0-9-], 1-63 chars') });
const Text = Type.String({ minLength: 1 });
const Note = Type.Optional(Type.String());

export const LocalizedTextSchema = Type.Object({ th: Text, en: Text }, { additionalProperties: false });

export const LatSchema = Type.Number({ minimum: -90, maximum: 90 });
export const LonSchema = Type.Number({ minimum: -180, maximum: 180 });

export const GeoPointSchema = Type.Object({ lat: LatSchema, lon: LonSchema }, { additionalProperties: false });

export const BBoxSchema = Type.Tuple([LonSchema, LatSchema, LonSchema, LatSchema], {
  ...description('[west, south, east, north] in degrees, as GeoJSON bbox'),
});

export const AQI_SCALES = ['th-pcd-2023', 'us-epa-2024'] as const;

export const AirThresholdsSchema = Type.Object(
  {
    aqiScale: Type.Enum([...AQI_SCALES]),
    pm25WarningUgm3: Type.Number({ exclusiveMinimum: 0 }),
    pm25CriticalUgm3: Type.Number({ exclusiveMinimum: 0 }),
    note: Note,
  },
  { additionalProperties: false },
);

export const CanalThresholdsSchema = Type.Object(
  {
    warningFractionOfBank: Type.Number({ exclusiveMinimum: 0, maximum: 1 }),
    criticalFractionOfBank: Type.Number({ exclusiveMinimum: 0, maximum: 1 }),
    riseRateWarningMPerHour: Type.Number({ exclusiveMinimum: 0 }),
    note: Note,
  },
  { additionalProperties: false },
);

export const RiverThresholdsSchema = Type.Object(
  {
    stationCode: Text,
    name: LocalizedTextSchema,
    bankFullM: Type.Number({ exclusiveMinimum: 0 }),
    floodWallM: Type.Number({ exclusiveMinimum: 0 }),
    note: Note,
  },
  { additionalProperties: false },
);

export const ThresholdsSchema = Type.Object(
  { air: AirThresholdsSchema, canal: CanalThresholdsSchema, river: Type.Optional(RiverThresholdsSchema) },
  { additionalProperties: false },
);

export const LicenceSchema = Type.Object(
  { id: Text, url: Type.Optional(Text), note: Note },
  { additionalProperties: false, ...description('licence of the city pack data, SPDX id where one exists') },
);

/**
 * The page about the city's water stations (the dashboard's navigation label and page heading):
 * `{ th: 'คลอง…', en: '… canal' }`. Apps never name a waterway themselves.
 */
export const WaterwayPageSchema = Type.Object(
  { name: LocalizedTextSchema, note: Note },
  { additionalProperties: false, ...description('the water-stations page of the dashboard') },
);

/** The files a source entry can describe. */
export const SOURCE_FILES = [
  'city.json',
  'stations.json',
  'devices.json',
  'districts.geojson',
  'waterways.geojson',
  'alert-rules.json',
] as const;

/** Where a file's shapes, coordinates or figures come from, and under which licence. */
export const SourceSchema = Type.Object(
  {
    files: Type.Array(Type.Enum([...SOURCE_FILES]), { minItems: 1 }),
    source: Text,
    licence: Text,
    url: Type.Optional(Text),
    note: Note,
  },
  { additionalProperties: false },
);

/** city.json */
export const CityFileSchema = Type.Object(
  {
    schemaVersion: Type.Literal(1),
    id: IdSchema,
    name: LocalizedTextSchema,
    authority: Type.Optional(LocalizedTextSchema),
    timezone: Text,
    center: GeoPointSchema,
    bbox: BBoxSchema,
    licence: LicenceSchema,
    attribution: Text,
    dataNotes: Text,
    thresholds: ThresholdsSchema,
    waterwayPage: Type.Optional(WaterwayPageSchema),
    sources: Type.Optional(Type.Array(SourceSchema)),
  },
  { additionalProperties: false },
);

export const LEVELS_SOURCES = ['placeholder', 'surveyed'] as const;

export const CanalLevelsSchema = Type.Object(
  {
    bankHeightM: Type.Number(),
    warningLevelM: Type.Number(),
    criticalLevelM: Type.Number(),
    levelsSource: Type.Optional(Type.Enum([...LEVELS_SOURCES])),
    /**
     * Id of the line in waterways.geojson the gauge stands on: the stations of a waterway are listed
     * upstream to downstream by their place along it (lines are drawn in the direction of flow).
     */
    waterway: Type.Optional(IdSchema),
    note: Note,
  },
  { additionalProperties: false, ...description('metres above the gauge datum') },
);

/** A data provider or instrument owner, as OpenAQ names them (issue 14). */
export const OrganisationSchema = Type.Object(
  { name: Text, url: Type.Optional(Type.String({ pattern: '^https://' })) },
  { additionalProperties: false },
);

export const INSTRUMENT_GRADES = ['reference', 'low-cost'] as const;

/**
 * What measures at the station: a reference (regulatory, e.g. a Pollution Control Department
 * monitor) or a low-cost instrument, and its sensor (OpenAQ's isMonitor, manufacturer and model).
 */
export const InstrumentSchema = Type.Object(
  { grade: Type.Enum([...INSTRUMENT_GRADES]), manufacturer: Text, model: Text, note: Note },
  { additionalProperties: false },
);

export const StationRecordSchema = Type.Object(
  {
    id: IdSchema,
    kind: Type.Enum(['air', 'canal']),
    name: LocalizedTextSchema,
    location: GeoPointSchema,
    district: IdSchema,
    /** Who publishes the station's data. */
    provider: OrganisationSchema,
    /** Who owns and looks after the instrument. */
    owner: OrganisationSchema,
    instrument: InstrumentSchema,
    canal: Type.Optional(CanalLevelsSchema),
    note: Note,
  },
  { additionalProperties: false },
);

/** stations.json */
export const StationsFileSchema = Type.Object(
  { note: Note, stations: Type.Array(StationRecordSchema) },
  { additionalProperties: false },
);

export const DEVICE_TRANSPORTS = ['mqtt', 'modbus-tcp', 'modbus-rtu', 'http'] as const;

export const DeviceRecordSchema = Type.Object(
  {
    id: IdSchema,
    stationId: IdSchema,
    model: Text,
    transport: Type.Enum([...DEVICE_TRANSPORTS]),
    /**
     * How often the device reports (or is polled), seconds: what coverage and completeness count
     * against, and the simulator's default cadence. Default 60.
     */
    intervalS: Type.Optional(Type.Integer({ minimum: 1, maximum: 86_400 })),
    note: Note,
  },
  { additionalProperties: false },
);

/** devices.json */
export const DevicesFileSchema = Type.Object(
  { note: Note, devices: Type.Array(DeviceRecordSchema) },
  { additionalProperties: false },
);

/** [lon, lat] or [lon, lat, alt]; range checks against the city bbox happen in validate.ts. */
export const PositionSchema = Type.Array(Type.Number(), { minItems: 2, maxItems: 3 });

export const PolygonSchema = Type.Object({
  type: Type.Literal('Polygon'),
  coordinates: Type.Array(Type.Array(PositionSchema, { minItems: 4 }), { minItems: 1 }),
});

export const LineStringSchema = Type.Object({
  type: Type.Literal('LineString'),
  coordinates: Type.Array(PositionSchema, { minItems: 2 }),
});

export const DISTRICT_KINDS = ['innovation-district', 'ward', 'neighbourhood'] as const;
export const WATERWAY_KINDS = ['moat', 'canal', 'river'] as const;

// Feature and property objects allow extra members (GeoJSON "foreign members", QGIS export fields).
export const DistrictFeatureSchema = Type.Object({
  type: Type.Literal('Feature'),
  properties: Type.Object({
    id: IdSchema,
    name_th: Text,
    name_en: Text,
    kind: Type.Enum([...DISTRICT_KINDS]),
    /** The short name a map writes on the district (optional; default: the name before any parenthesis). */
    short_th: Type.Optional(Text),
    short_en: Type.Optional(Text),
  }),
  geometry: PolygonSchema,
});

export const WaterwayFeatureSchema = Type.Object({
  type: Type.Literal('Feature'),
  properties: Type.Object({ id: IdSchema, name_th: Text, name_en: Text, kind: Type.Enum([...WATERWAY_KINDS]) }),
  geometry: LineStringSchema,
});

/** districts.geojson */
export const DistrictsFileSchema = Type.Object({
  type: Type.Literal('FeatureCollection'),
  features: Type.Array(DistrictFeatureSchema),
});

/** waterways.geojson */
export const WaterwaysFileSchema = Type.Object({
  type: Type.Literal('FeatureCollection'),
  features: Type.Array(WaterwayFeatureSchema),
});

export type CityFile = Type.Static<typeof CityFileSchema>;
export type WaterwayPage = Type.Static<typeof WaterwayPageSchema>;
export type CitySource = Type.Static<typeof SourceSchema>;
export type CityThresholds = Type.Static<typeof ThresholdsSchema>;
export type StationRecord = Type.Static<typeof StationRecordSchema>;
export type StationsFile = Type.Static<typeof StationsFileSchema>;
export type DeviceRecord = Type.Static<typeof DeviceRecordSchema>;
export type DevicesFile = Type.Static<typeof DevicesFileSchema>;
