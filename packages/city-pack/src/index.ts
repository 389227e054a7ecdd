export {
  CITY_PACK_ERROR_CODES,
  CITY_PACK_FILES,
  CITY_PACK_WARNING_CODES,
  type CityPackError,
  type CityPackErrorCode,
  type CityPackFileName,
  type CityPackIssue,
  type CityPackWarning,
  type CityPackWarningCode,
  formatCityPackIssue,
} from './errors';
export { type FlowPosition, type FlowResult, flowOrder, MAX_WATERWAY_OFFSET_M } from './flow';
export * from './geo';
export {
  CITIES_DIR_ENV,
  DEFAULT_CITY_ID,
  defaultCitiesDir,
  loadCityPack,
  loadCityPackById,
  loadCityPackSync,
  REPO_CITIES_DIR,
  resolveCityDir,
} from './load';
export * from './schema';
export { pointer, valueAt } from './schema-errors';
export { type SyntheticCityPackOptions, syntheticCityPackFiles, writeSyntheticCityPack } from './synthetic';
export {
  type BuildCityPackOptions,
  buildCityPack,
  type CityInfo,
  type CityPack,
  type CityPackSource,
  type CityPackSources,
  type DistrictInfo,
} from './validate';
