/**
 * The optional base map under the city layers: raster tiles of a tile server the deployment chooses
 * (DASHBOARD_BASEMAP_URL, a {z}/{x}/{y} template; off by default, so the map makes no request to any
 * other server). Our map is spherical Mercator like Web Mercator tiles, so a tile is a square in map
 * units: the tiles covering the frame are placed as SVG images, computed on the server.
 */
import type { CityMap } from './geo';

export interface BaseMapConfig {
  /** Tile URL template with {z}, {x} and {y}, e.g. https://tiles.example.org/{z}/{x}/{y}.png */
  url: string;
  /** The credit the tile provider requires, shown under the map whenever tiles are drawn. */
  attribution: string;
}

export interface BaseMapTile {
  href: string;
  x: number;
  y: number;
  size: number;
}

/** Reads DASHBOARD_BASEMAP_URL and DASHBOARD_BASEMAP_ATTRIBUTION; every problem is listed. */
export function parseBaseMapEnv(env: Record<string, string | undefined>): {
  config: BaseMapConfig | null;
  problems: string[];
} {
  const url = env.DASHBOARD_BASEMAP_URL?.trim() ?? '';
  const attribution = env.DASHBOARD_BASEMAP_ATTRIBUTION?.trim() ?? '';
  if (url === '') return { config: null, problems: [] };
  const problems: string[] = [];
  let protocol = '';
  try {
    protocol = new URL(url.replaceAll(/\{[zxy]\}/g, '0')).protocol;
  } catch {
    problems.push(`DASHBOARD_BASEMAP_URL=${JSON.stringify(url)}: not a URL`);
  }
  if (protocol !== '' && protocol !== 'https:' && protocol !== 'http:')
    problems.push(`DASHBOARD_BASEMAP_URL=${JSON.stringify(url)}: expected an http(s) URL`);
  for (const p of ['{z}', '{x}', '{y}'])
    if (!url.includes(p)) problems.push(`DASHBOARD_BASEMAP_URL=${JSON.stringify(url)}: the template needs ${p}`);
  if (attribution === '')
    problems.push(
      'DASHBOARD_BASEMAP_ATTRIBUTION is required with DASHBOARD_BASEMAP_URL (tile providers require credit)',
    );
  return { config: problems.length === 0 ? { url, attribution } : null, problems };
}

/** The zoom whose tiles are about `tilePx` map units wide (256-px tiles drawn near their own size). */
export function tileZoom(m: CityMap['mercator'], tilePx = 256): number {
  return Math.max(0, Math.min(19, Math.round(Math.log2((2 * Math.PI * m.k) / tilePx))));
}

/** The tiles covering the frame, in map units, each with its URL. */
export function basemapTiles(map: Pick<CityMap, 'width' | 'height' | 'mercator'>, template: string): BaseMapTile[] {
  const m = map.mercator;
  const z = tileZoom(m);
  const n = 2 ** z;
  const size = (2 * Math.PI * m.k) / n;
  // The world's top-left corner (longitude -180°, latitude +85.05°) in map units.
  const left = m.tx - Math.PI * m.k;
  const top = m.ty - Math.PI * m.k;
  const tiles: BaseMapTile[] = [];
  const [x0, x1] = [Math.floor(-left / size), Math.floor((map.width - left) / size)];
  const [y0, y1] = [Math.max(0, Math.floor(-top / size)), Math.min(n - 1, Math.floor((map.height - top) / size))];
  for (let ty = y0; ty <= y1; ty++) {
    for (let tx = x0; tx <= x1; tx++) {
      const wrapped = ((tx % n) + n) % n;
      const href = template
        .replaceAll('{z}', String(z))
        .replaceAll('{x}', String(wrapped))
        .replaceAll('{y}', String(ty));
      tiles.push({ href, x: round(left + tx * size), y: round(top + ty * size), size: round(size) });
    }
  }
  return tiles;
}

const round = (v: number) => Math.round(v * 100) / 100;
