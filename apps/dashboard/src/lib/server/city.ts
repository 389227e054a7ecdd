import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { FeatureCollection, Geometry } from 'geojson';
import { env } from '$env/dynamic/private';

type Props = { id?: string; name_th?: string; name_en?: string; kind?: string };
export interface CityLayers {
  districts: FeatureCollection<Geometry, Props>;
  waterways: FeatureCollection<Geometry, Props>;
}

/** The city pack folder: CNX_CITIES_DIR/CNX_CITY, else the nearest `cities/<city>` above the working dir. */
export function cityDir(): string {
  const city = env.CNX_CITY || 'chiang-mai';
  if (env.CNX_CITIES_DIR) return path.resolve(env.CNX_CITIES_DIR, city);
  let dir = process.cwd();
  for (;;) {
    const candidate = path.join(dir, 'cities', city);
    if (existsSync(path.join(candidate, 'districts.geojson'))) return candidate;
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`city pack "${city}" not found: set CNX_CITIES_DIR`);
    dir = parent;
  }
}

let cached: { dir: string; layers: CityLayers } | undefined;

/** The districts and waterways GeoJSON of the city pack (read once). */
export function cityLayers(): CityLayers {
  const dir = cityDir();
  if (cached?.dir === dir) return cached.layers;
  const read = (name: string) =>
    JSON.parse(readFileSync(path.join(dir, name), 'utf8')) as FeatureCollection<Geometry, Props>;
  const layers = { districts: read('districts.geojson'), waterways: read('waterways.geojson') };
  cached = { dir, layers };
  return layers;
}
