/**
 * Error catalogue of @cnx/city-pack (docs/architecture.md house style 6): stable codes, one issue per problem,
 * each naming the file, the JSON Pointer (RFC 6901) inside it and the offending value.
 */
export const CITY_PACK_ERROR_CODES = {
  file_missing: 'a required file is not in the city folder',
  file_unreadable: 'a file exists but could not be read',
  json_invalid: 'a file is not valid JSON',
  schema_invalid: 'a value does not match the file schema',
  invalid_id: 'an id does not match /^[a-z0-9][a-z0-9-]{0,62}$/',
  duplicate_id: 'the same id is used twice in one file',
  unknown_station: 'a device names a station that is not in stations.json',
  unknown_district: 'a station names a district that is not in districts.geojson',
  outside_bbox: 'a coordinate lies outside the city bbox',
  outside_district: 'a station does not lie inside its district polygon',
  canal_levels_missing: 'a canal station has no canal levels',
  canal_levels_unexpected: 'an air station has canal levels',
  canal_levels_order: 'canal levels are not 0 < warning < critical <= bank',
  ring_not_closed: 'a polygon ring does not end where it starts',
  bbox_invalid: 'the city bbox is not [west, south, east, north] with west < east and south < north',
  timezone_invalid: 'the city timezone is not an IANA time zone known to this runtime',
  thresholds_order: 'a warning threshold is not below its critical threshold',
  unknown_waterway: 'a canal station names a waterway that is not in waterways.geojson',
  off_waterway: 'a canal station lies too far from the waterway it names',
} as const;

export type CityPackErrorCode = keyof typeof CITY_PACK_ERROR_CODES;

/** Non-fatal findings: the pack loads, but someone should look. */
export const CITY_PACK_WARNING_CODES = {
  placeholder_levels: 'canal levels are placeholders, not surveyed values',
  station_without_device: 'a station has no device',
  city_dir_mismatch: 'the folder name differs from city.json id (resolveCityDir will not find it)',
  moat_not_closed: 'a waterway of kind "moat" does not end where it starts',
  station_without_waterway: 'a canal station names no waterway, so its place upstream or downstream is unknown',
  waterway_page_missing: 'the pack has canal stations but city.json has no waterwayPage to name their page',
} as const;

export type CityPackWarningCode = keyof typeof CITY_PACK_WARNING_CODES;

export type CityPackFileName =
  | 'city.json'
  | 'stations.json'
  | 'devices.json'
  | 'districts.geojson'
  | 'waterways.geojson';

export const CITY_PACK_FILES: readonly CityPackFileName[] = [
  'city.json',
  'stations.json',
  'devices.json',
  'districts.geojson',
  'waterways.geojson',
];

export interface CityPackIssue<C extends string = string> {
  code: C;
  /** File name inside the city folder, e.g. 'stations.json'. */
  file: CityPackFileName;
  /** JSON Pointer into that file, e.g. '/stations/3/location/lat'; '' is the whole document. */
  path: string;
  message: string;
  /** The offending value, where one exists. */
  value?: unknown;
}

/** Compatible with DomainError from @cnx/domain (code, message, value). */
export type CityPackError = CityPackIssue<CityPackErrorCode>;
export type CityPackWarning = CityPackIssue<CityPackWarningCode>;

const MAX_VALUE_CHARS = 120;

function showValue(value: unknown): string {
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = String(value);
  }
  return text.length > MAX_VALUE_CHARS ? `${text.slice(0, MAX_VALUE_CHARS - 1)}…` : text;
}

/** One line per issue: `stations.json /stations/3/location/lat [schema_invalid] must be <= 90 (value: 95)`. */
export function formatCityPackIssue(issue: CityPackIssue): string {
  const where = `${issue.file} ${issue.path === '' ? '/' : issue.path}`;
  const value = 'value' in issue && issue.value !== undefined ? ` (value: ${showValue(issue.value)})` : '';
  return `${where} [${issue.code}] ${issue.message}${value}`;
}
