/** Reads a city pack folder from disk (async or sync) and hands the texts to the pure validator. */
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Result } from '@cnx/domain';
import { CITY_PACK_FILES, type CityPackError, type CityPackFileName } from './errors';
import { ID_PATTERN } from './schema';
import { buildCityPack, type CityPack, type CityPackSource, type CityPackSources } from './validate';

/**
 * The city pack apps use when CNX_CITY is not set: the project's first city. This is the one place in
 * the apps and packages that names a city (test/repo/city-names.test.ts checks it); everything a user
 * reads about a city comes from its pack.
 */
export const DEFAULT_CITY_ID = 'chiang-mai';

/** Environment variable that moves the default cities folder (e.g. a deployment's own packs). */
export const CITIES_DIR_ENV = 'CNX_CITIES_DIR';

/** The repository's cities/ folder, found from this file's place (packages/city-pack/src/). */
export const REPO_CITIES_DIR = fileURLToPath(new URL('../../../cities', import.meta.url));

/** The cities folder in effect: `citiesDir` if given, else $CNX_CITIES_DIR, else the repo's cities/. */
export function defaultCitiesDir(citiesDir?: string): string {
  const fromEnv = process.env[CITIES_DIR_ENV];
  return path.resolve(citiesDir ?? (fromEnv !== undefined && fromEnv !== '' ? fromEnv : REPO_CITIES_DIR));
}

/**
 * Folder of the city pack `cityId`. Throws RangeError for an id that is not a valid city id, so a
 * configured id can never walk out of the cities folder ('../etc').
 */
export function resolveCityDir(cityId: string, citiesDir?: string): string {
  if (!ID_PATTERN.test(cityId)) {
    throw new RangeError(`invalid city id ${JSON.stringify(cityId)}: must match ${ID_PATTERN}`);
  }
  return path.join(defaultCitiesDir(citiesDir), cityId);
}

function sourceFromError(error: unknown): CityPackSource {
  const e = error as NodeJS.ErrnoException;
  return e.code === 'ENOENT' ? { missing: true } : { readError: e.message };
}

function options(dir: string) {
  return { dirName: path.basename(path.resolve(dir)) };
}

/** Loads and validates the city pack in `dir`; on failure, every problem found, not just the first. */
export async function loadCityPack(dir: string): Promise<Result<CityPack, CityPackError[]>> {
  const entries = await Promise.all(
    CITY_PACK_FILES.map(async (file): Promise<[CityPackFileName, CityPackSource]> => {
      try {
        return [file, { text: await readFile(path.join(dir, file), 'utf8') }];
      } catch (error) {
        return [file, sourceFromError(error)];
      }
    }),
  );
  return buildCityPack(Object.fromEntries(entries) as CityPackSources, options(dir));
}

/** Synchronous twin of loadCityPack, for start-up code and config modules. */
export function loadCityPackSync(dir: string): Result<CityPack, CityPackError[]> {
  const entries = CITY_PACK_FILES.map((file): [CityPackFileName, CityPackSource] => {
    try {
      return [file, { text: readFileSync(path.join(dir, file), 'utf8') }];
    } catch (error) {
      return [file, sourceFromError(error)];
    }
  });
  return buildCityPack(Object.fromEntries(entries) as CityPackSources, options(dir));
}

/** loadCityPack(resolveCityDir(cityId, citiesDir)). */
export function loadCityPackById(cityId: string, citiesDir?: string): Promise<Result<CityPack, CityPackError[]>> {
  return loadCityPack(resolveCityDir(cityId, citiesDir));
}
