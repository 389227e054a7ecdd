/** Test support: every city pack of the repository, and its map projection (tests run on every pack). */
import { readdirSync } from 'node:fs';
import { type CityPack, loadCityPackSync, REPO_CITIES_DIR, resolveCityDir } from '@cnx/city-pack';
import { projectCity } from './geo';

type Layer = Parameters<typeof projectCity>[0];

/** Every city pack of the repository: the map is drawn from data, the same way for each. */
export const PACKS: [string, CityPack][] = readdirSync(REPO_CITIES_DIR, { withFileTypes: true })
  .filter((e) => e.isDirectory())
  .map((e) => {
    const r = loadCityPackSync(resolveCityDir(e.name));
    if (!r.ok) throw new Error(`${e.name} is invalid`);
    return [e.name, r.value] as [string, CityPack];
  });

export const projectPack = (pack: CityPack) =>
  projectCity(
    pack.districts as unknown as Layer,
    pack.waterways as unknown as Layer,
    pack.stations.map((s) => s.location),
  );
