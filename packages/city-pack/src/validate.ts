/**
 * Pure core of the loader: file texts in, a validated CityPack or the full list of problems out.
 * No I/O here, so load.ts can offer both async and sync loaders over the same rules.
 */
import { type Device, err, type GeoPoint, type LocalizedText, ok, type Result, type Station } from '@cnx/domain';
import { Collector } from './collector';
import type { CityPackError, CityPackFileName, CityPackWarning } from './errors';
import { type FlowPosition, flowOrder } from './flow';
import {
  type BBox,
  type DistrictCollection,
  type DistrictFeature,
  type DistrictKind,
  isRingClosed,
  pointInBBox,
  pointInPolygon,
  positionToPoint,
  type WaterwayCollection,
  type WaterwayFeature,
} from './geo';
import {
  BBoxSchema,
  CanalLevelsSchema,
  type CityFile,
  CityFileSchema,
  type DeviceRecord,
  DeviceRecordSchema,
  DevicesFileSchema,
  DistrictFeatureSchema,
  DistrictsFileSchema,
  GeoPointSchema,
  type StationRecord,
  StationRecordSchema,
  StationsFileSchema,
  ThresholdsSchema,
  WaterwayFeatureSchema,
  WaterwaysFileSchema,
} from './schema';
import { matches, pointer, schemaIssues } from './schema-errors';

export type CityInfo = CityFile;

export interface DistrictInfo {
  id: string;
  name: LocalizedText;
  kind: DistrictKind;
}

export interface CityPack {
  city: CityInfo;
  stations: Station[];
  devices: Device[];
  districts: DistrictCollection;
  waterways: WaterwayCollection;
  stationById: Map<string, Station>;
  deviceById: Map<string, Device>;
  districtById: Map<string, DistrictInfo>;
  /**
   * Canal stations upstream to downstream along their waterways (canal.waterway in stations.json),
   * waterway by waterway in waterways.geojson order; stations naming no waterway come last.
   */
  flowOrder: FlowPosition[];
  /** Non-fatal findings, e.g. canal levels that are still placeholders. */
  warnings: CityPackWarning[];
}

/** What the loader found for one file. */
export type CityPackSource = { text: string } | { missing: true } | { readError: string };
export type CityPackSources = Record<CityPackFileName, CityPackSource>;

export interface BuildCityPackOptions {
  /** Name of the folder the pack was read from; a mismatch with city.json id is a warning. */
  dirName?: string;
}

type Parsed = { doc: unknown } | undefined;

function parse(file: CityPackFileName, source: CityPackSource, c: Collector): Parsed {
  if ('missing' in source) {
    c.error('file_missing', file, '', `${file} is missing from the city folder`);
    return undefined;
  }
  if ('readError' in source) {
    c.error('file_unreadable', file, '', `cannot read ${file}: ${source.readError}`);
    return undefined;
  }
  try {
    return { doc: JSON.parse(source.text) };
  } catch (e) {
    c.error('json_invalid', file, '', `${file} is not valid JSON: ${(e as Error).message}`);
    return undefined;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function listAt(parsed: Parsed, key: string): unknown[] {
  const value = isRecord(parsed?.doc) ? parsed.doc[key] : undefined;
  return Array.isArray(value) ? value : [];
}

function featureId(feature: unknown): unknown {
  return isRecord(feature) && isRecord(feature.properties) ? feature.properties.id : undefined;
}

const fmtPoint = (p: { lat: number; lon: number }) => `lat ${p.lat}, lon ${p.lon}`;

function checkCity(parsed: Parsed, c: Collector): { city?: CityFile; bbox?: BBox; cityId: string } {
  if (!parsed) return { cityId: '' };
  const doc = parsed.doc;
  c.errors.push(...schemaIssues('city.json', CityFileSchema, doc));
  if (!isRecord(doc)) return { cityId: '' };
  const cityId = typeof doc.id === 'string' ? doc.id : '';
  let bbox: BBox | undefined;
  if (matches(BBoxSchema, doc.bbox)) {
    const [west, south, east, north] = doc.bbox as BBox;
    if (west < east && south < north) bbox = doc.bbox as BBox;
    else c.error('bbox_invalid', 'city.json', '/bbox', 'bbox must be [west, south, east, north]', doc.bbox);
  }
  if (typeof doc.timezone === 'string' && doc.timezone !== '') {
    try {
      new Intl.DateTimeFormat('en', { timeZone: doc.timezone });
    } catch {
      c.error('timezone_invalid', 'city.json', '/timezone', 'not an IANA time zone, e.g. "Asia/Bangkok"', doc.timezone);
    }
  }
  if (bbox && matches(GeoPointSchema, doc.center)) {
    const center = doc.center as { lat: number; lon: number };
    if (!pointInBBox(center, bbox)) {
      c.error('outside_bbox', 'city.json', '/center', `center ${fmtPoint(center)} is outside bbox [${bbox}]`, center);
    }
  }
  if (matches(ThresholdsSchema, doc.thresholds)) {
    const t = doc.thresholds as CityFile['thresholds'];
    if (t.air.pm25WarningUgm3 >= t.air.pm25CriticalUgm3) {
      c.error(
        'thresholds_order',
        'city.json',
        '/thresholds/air',
        'pm25WarningUgm3 must be below pm25CriticalUgm3',
        t.air,
      );
    }
    if (t.canal.warningFractionOfBank >= t.canal.criticalFractionOfBank) {
      const msg = 'warningFractionOfBank must be below criticalFractionOfBank';
      c.error('thresholds_order', 'city.json', '/thresholds/canal', msg, t.canal);
    }
    if (t.river && t.river.bankFullM > t.river.floodWallM) {
      c.error('thresholds_order', 'city.json', '/thresholds/river', 'bankFullM must not exceed floodWallM', t.river);
    }
  }
  return { city: matches(CityFileSchema, doc) ? (doc as CityFile) : undefined, bbox, cityId };
}

/** One issue per geometry with positions outside the bbox (not one per position). */
function checkPositions(
  file: CityPackFileName,
  basePath: string,
  positions: readonly (readonly number[])[],
  bbox: BBox | undefined,
  what: string,
  c: Collector,
): void {
  if (!bbox) return;
  const outside = positions.map((p, i) => [i, p] as const).filter(([, p]) => !pointInBBox(positionToPoint(p), bbox));
  const first = outside[0];
  if (!first) return;
  const message = `${outside.length} of ${positions.length} positions of ${what} lie outside the city bbox [${bbox}]`;
  c.error('outside_bbox', file, `${basePath}/${first[0]}`, message, first[1]);
}

function checkDistricts(parsed: Parsed, bbox: BBox | undefined, c: Collector) {
  const file = 'districts.geojson';
  if (parsed) c.errors.push(...schemaIssues(file, DistrictsFileSchema, parsed.doc));
  const knownIds = new Set<string>();
  const byId = new Map<string, DistrictFeature>();
  const seen = new Map<string, string>();
  listAt(parsed, 'features').forEach((raw, i) => {
    const id = featureId(raw);
    c.unique(seen, file, id, pointer('features', i, 'properties', 'id'));
    if (typeof id === 'string') knownIds.add(id);
    if (!matches(DistrictFeatureSchema, raw)) return;
    const feature = raw as DistrictFeature;
    feature.geometry.coordinates.forEach((ring, r) => {
      const path = pointer('features', i, 'geometry', 'coordinates', r);
      if (!isRingClosed(ring)) {
        const ends = [ring[0], ring[ring.length - 1]];
        c.error('ring_not_closed', file, path, `ring ${r} of district "${id}" must end where it starts`, ends);
      }
      checkPositions(file, path, ring, bbox, `district "${feature.properties.id}" ring ${r}`, c);
    });
    if (!byId.has(feature.properties.id)) byId.set(feature.properties.id, feature);
  });
  return { loaded: parsed !== undefined, knownIds, byId };
}

function checkWaterways(parsed: Parsed, bbox: BBox | undefined, c: Collector): WaterwayFeature[] | undefined {
  const file = 'waterways.geojson';
  if (parsed) c.errors.push(...schemaIssues(file, WaterwaysFileSchema, parsed.doc));
  const valid = parsed !== undefined && matches(WaterwaysFileSchema, parsed.doc);
  const seen = new Map<string, string>();
  listAt(parsed, 'features').forEach((raw, i) => {
    const id = featureId(raw);
    c.unique(seen, file, id, pointer('features', i, 'properties', 'id'));
    if (!matches(WaterwayFeatureSchema, raw)) return;
    const feature = raw as WaterwayFeature;
    const path = pointer('features', i, 'geometry', 'coordinates');
    checkPositions(file, path, feature.geometry.coordinates, bbox, `waterway "${feature.properties.id}"`, c);
    if (feature.properties.kind === 'moat' && !isRingClosed(feature.geometry.coordinates)) {
      c.warn('moat_not_closed', file, path, `moat "${feature.properties.id}" does not end where it starts`);
    }
  });
  return valid ? (parsed.doc as WaterwayCollection).features : undefined;
}

type CanalRecord = NonNullable<StationRecord['canal']>;

function checkCanal(
  id: string,
  kind: StationRecord['kind'],
  canal: CanalRecord | undefined,
  i: number,
  c: Collector,
): void {
  const file = 'stations.json';
  const path = pointer('stations', i, 'canal');
  if (kind === 'air') {
    if (canal) c.error('canal_levels_unexpected', file, path, `air station "${id}" must not have canal levels`, canal);
    return;
  }
  if (!canal) {
    const msg = `canal station "${id}" needs canal {bankHeightM, warningLevelM, criticalLevelM}`;
    c.error('canal_levels_missing', file, path, msg);
    return;
  }
  const { bankHeightM: bank, warningLevelM: warning, criticalLevelM: critical } = canal;
  if (!(warning > 0 && warning < critical && critical <= bank)) {
    const msg = `canal levels of "${id}" must satisfy 0 < warning (${warning}) < critical (${critical}) <= bank (${bank})`;
    c.error('canal_levels_order', file, path, msg, canal);
  }
  if (canal.levelsSource !== 'surveyed') {
    const msg = `canal levels of "${id}" are placeholders: replace with surveyed values and set levelsSource "surveyed"`;
    c.warn('placeholder_levels', file, path, msg);
  }
}

function toStation(rec: StationRecord, city: string): Station {
  const station: Station = {
    id: rec.id,
    city,
    kind: rec.kind,
    name: { th: rec.name.th, en: rec.name.en },
    location: { lat: rec.location.lat, lon: rec.location.lon },
    district: rec.district,
    provider: { ...rec.provider },
    owner: { ...rec.owner },
    instrument: { grade: rec.instrument.grade, manufacturer: rec.instrument.manufacturer, model: rec.instrument.model },
  };
  if (rec.canal) {
    const { bankHeightM, warningLevelM, criticalLevelM } = rec.canal;
    station.canal = { bankHeightM, warningLevelM, criticalLevelM };
  }
  return station;
}

function checkStations(
  parsed: Parsed,
  cityId: string,
  bbox: BBox | undefined,
  districts: ReturnType<typeof checkDistricts>,
  c: Collector,
) {
  const file = 'stations.json';
  if (parsed) c.errors.push(...schemaIssues(file, StationsFileSchema, parsed.doc));
  const knownIds = new Set<string>();
  const stations: Station[] = [];
  const waterwayOf = new Map<string, { waterway?: string; index: number }>();
  const seen = new Map<string, string>();
  // Each rule runs on the fields it needs, so one bad field does not hide the item's other problems.
  listAt(parsed, 'stations').forEach((raw, i) => {
    const r = isRecord(raw) ? raw : {};
    c.unique(seen, file, r.id, pointer('stations', i, 'id'));
    if (typeof r.id === 'string') knownIds.add(r.id);
    const label = typeof r.id === 'string' ? r.id : `#${i}`;
    const location = matches(GeoPointSchema, r.location) ? (r.location as GeoPoint) : undefined;
    if (location && bbox && !pointInBBox(location, bbox)) {
      const msg = `station "${label}" at ${fmtPoint(location)} is outside the city bbox [${bbox}]`;
      c.error('outside_bbox', file, pointer('stations', i, 'location'), msg, location);
    }
    if (typeof r.district === 'string') {
      const district = districts.byId.get(r.district);
      if (districts.loaded && !districts.knownIds.has(r.district)) {
        const msg = `station "${label}" names district "${r.district}", which is not in districts.geojson`;
        c.error('unknown_district', file, pointer('stations', i, 'district'), msg, r.district);
      } else if (location && district && !pointInPolygon(location, district.geometry.coordinates)) {
        const msg = `station "${label}" at ${fmtPoint(location)} is not inside the polygon of district "${r.district}"`;
        c.error('outside_district', file, pointer('stations', i, 'location'), msg, location);
      }
    }
    if ((r.kind === 'air' || r.kind === 'canal') && (r.canal === undefined || matches(CanalLevelsSchema, r.canal))) {
      checkCanal(label, r.kind, r.canal as CanalRecord | undefined, i, c);
    }
    if (!matches(StationRecordSchema, raw)) return;
    const rec = raw as StationRecord;
    stations.push(toStation(rec, cityId));
    waterwayOf.set(rec.id, { ...(rec.canal?.waterway ? { waterway: rec.canal.waterway } : {}), index: i });
  });
  return { loaded: parsed !== undefined, knownIds, stations, waterwayOf };
}

function checkDevices(parsed: Parsed, stations: ReturnType<typeof checkStations>, c: Collector): Device[] {
  const file = 'devices.json';
  if (parsed) c.errors.push(...schemaIssues(file, DevicesFileSchema, parsed.doc));
  const devices: Device[] = [];
  const seen = new Map<string, string>();
  listAt(parsed, 'devices').forEach((raw, i) => {
    c.unique(seen, file, isRecord(raw) ? raw.id : undefined, pointer('devices', i, 'id'));
    const r = isRecord(raw) ? raw : {};
    if (typeof r.stationId === 'string' && stations.loaded && !stations.knownIds.has(r.stationId)) {
      const label = typeof r.id === 'string' ? r.id : `#${i}`;
      const msg = `device "${label}" names station "${r.stationId}", which is not in stations.json`;
      c.error('unknown_station', file, pointer('devices', i, 'stationId'), msg, r.stationId);
    }
    if (!matches(DeviceRecordSchema, raw)) return;
    const rec = raw as DeviceRecord;
    devices.push({
      id: rec.id,
      stationId: rec.stationId,
      model: rec.model,
      transport: rec.transport,
      ...(rec.intervalS === undefined ? {} : { intervalS: rec.intervalS }),
    });
  });
  return devices;
}

/** Validates a whole city pack from its file texts, collecting every problem before answering. */
export function buildCityPack(
  sources: CityPackSources,
  options: BuildCityPackOptions = {},
): Result<CityPack, CityPackError[]> {
  const c = new Collector();
  const cityDoc = parse('city.json', sources['city.json'], c);
  const stationsDoc = parse('stations.json', sources['stations.json'], c);
  const devicesDoc = parse('devices.json', sources['devices.json'], c);
  const districtsDoc = parse('districts.geojson', sources['districts.geojson'], c);
  const waterwaysDoc = parse('waterways.geojson', sources['waterways.geojson'], c);

  const { city, bbox, cityId } = checkCity(cityDoc, c);
  if (options.dirName !== undefined && cityId !== '' && options.dirName !== cityId) {
    const msg = `folder "${options.dirName}" differs from city id "${cityId}"; name the folder after the id`;
    c.warn('city_dir_mismatch', 'city.json', '/id', msg, cityId);
  }
  const districts = checkDistricts(districtsDoc, bbox, c);
  const lines = checkWaterways(waterwaysDoc, bbox, c);
  const stations = checkStations(stationsDoc, cityId, bbox, districts, c);
  const flow = flowOrder(stations.stations, stations.waterwayOf, lines);
  c.errors.push(...flow.errors);
  c.warnings.push(...flow.warnings);
  if (city && !city.waterwayPage && stations.stations.some((s) => s.kind === 'canal')) {
    const msg = 'the pack has canal stations: name their page in city.json waterwayPage {name: {th, en}}';
    c.warn('waterway_page_missing', 'city.json', '/waterwayPage', msg);
  }
  const devices = checkDevices(devicesDoc, stations, c);

  const equipped = new Set(devices.map((d) => d.stationId));
  stations.stations.forEach((s, i) => {
    if (!equipped.has(s.id)) {
      c.warn(
        'station_without_device',
        'stations.json',
        pointer('stations', i, 'id'),
        `station "${s.id}" has no device`,
      );
    }
  });

  if (c.errors.length > 0 || !city || !districtsDoc || !waterwaysDoc) return err(c.errors);
  const districtById = new Map<string, DistrictInfo>();
  for (const [id, f] of districts.byId) {
    districtById.set(id, { id, name: { th: f.properties.name_th, en: f.properties.name_en }, kind: f.properties.kind });
  }
  return ok({
    city,
    stations: stations.stations,
    devices,
    districts: districtsDoc.doc as DistrictCollection,
    waterways: waterwaysDoc.doc as WaterwayCollection,
    stationById: new Map(stations.stations.map((s) => [s.id, s])),
    deviceById: new Map(devices.map((d) => [d.id, d])),
    districtById,
    flowOrder: flow.order,
    warnings: c.warnings,
  });
}
