import { existsSync } from 'node:fs';
import path from 'node:path';
import { type CityPack, DEFAULT_CITY_ID, formatCityPackIssue, loadCityPackSync } from '@cnx/city-pack';
import type { FeatureCollection, Geometry } from 'geojson';
import { env } from '$env/dynamic/private';
import type { CityView } from '$lib/city';

type Props = { id?: string; name_th?: string; name_en?: string; kind?: string };
export interface CityLayers {
  districts: FeatureCollection<Geometry, Props>;
  waterways: FeatureCollection<Geometry, Props>;
}

/** The city pack folder: CNX_CITIES_DIR/CNX_CITY, else the nearest `cities/<city>` above the working dir. */
export function cityDir(): string {
  const city = env.CNX_CITY || DEFAULT_CITY_ID;
  if (env.CNX_CITIES_DIR) return path.resolve(env.CNX_CITIES_DIR, city);
  let dir = process.cwd();
  for (;;) {
    const candidate = path.join(dir, 'cities', city);
    if (existsSync(path.join(candidate, 'city.json'))) return candidate;
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`city pack "${city}" not found: set CNX_CITIES_DIR`);
    dir = parent;
  }
}

let cached: { dir: string; pack: CityPack; view: CityView } | undefined;

/** The city pack, validated by @cnx/city-pack (read once; every city word on the pages comes from it). */
export function cityPack(): CityPack {
  return load().pack;
}

/** What every page needs to know about the city (layout data: name, time zone, water page). */
export function cityView(): CityView {
  return load().view;
}

function load(): { pack: CityPack; view: CityView } {
  const dir = cityDir();
  if (cached?.dir === dir) return cached;
  const r = loadCityPackSync(dir);
  if (!r.ok) throw new Error(`city pack ${dir} is invalid:\n  ${r.error.map(formatCityPackIssue).join('\n  ')}`);
  const pack = r.value;
  const { city } = pack;
  const hasWater = pack.stations.some((s) => s.kind === 'canal');
  const view: CityView = {
    id: city.id,
    name: city.name,
    timezone: city.timezone,
    // The water page exists where the pack has water stations; its name is the pack's (a generic one
    // when the pack names none: the validator warns about that).
    water: hasWater ? { name: city.waterwayPage?.name ?? null } : null,
    waterways: pack.waterways.features.map((w) => ({ th: w.properties.name_th, en: w.properties.name_en })),
  };
  cached = { dir, pack, view };
  return cached;
}

/** The districts and waterways GeoJSON of the city pack. */
export function cityLayers(): CityLayers {
  const { districts, waterways } = cityPack();
  return {
    districts: districts as unknown as CityLayers['districts'],
    waterways: waterways as unknown as CityLayers['waterways'],
  };
}
