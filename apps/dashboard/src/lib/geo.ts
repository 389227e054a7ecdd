import { geoArea, geoContains, geoMercator, geoPath } from 'd3-geo';
import type { Feature, FeatureCollection, Geometry } from 'geojson';

/**
 * The overview map as plain SVG: the city pack's districts and waterways projected once, on the
 * server (d3-geo never reaches the browser bundle). No tile server: the layers are our own GeoJSON.
 */
export interface MapLayerFeature {
  id: string;
  name: { th: string; en: string };
  /** The short name the map writes (GeoJSON short_th/short_en, else the name before any parenthesis). */
  label: { th: string; en: string };
  kind: string;
  d: string;
  /** Label anchor (centroid for polygons). */
  x: number;
  y: number;
  /** Width of the projected shape (map units): whether a label fits inside it. */
  w: number;
}

export interface CityMap {
  width: number;
  height: number;
  districts: MapLayerFeature[];
  waterways: MapLayerFeature[];
  /**
   * The projection, for the browser (a "near me" position): spherical Mercator, x = tx + k·λ and
   * y = ty − k·ln(tan(π/4 + φ/2)), λ and φ in radians. See projectMercator.
   */
  mercator: { k: number; tx: number; ty: number };
}

export interface MapProjector {
  map: CityMap;
  project(lon: number, lat: number): [number, number];
  /** [lon, lat] of a map point. */
  invert(x: number, y: number): [number, number];
  /** Whether the map point (x, y) lies inside district `id`. */
  insideDistrict(id: string, x: number, y: number): boolean;
}

/** The map point of a position, with the projection parameters of CityMap.mercator (no d3 needed). */
export function projectMercator(m: CityMap['mercator'], lon: number, lat: number): [number, number] {
  const rad = Math.PI / 180;
  return [m.tx + m.k * lon * rad, m.ty - m.k * Math.log(Math.tan(Math.PI / 4 + (lat * rad) / 2))];
}

type Props = { id?: string; name_th?: string; name_en?: string; kind?: string; short_th?: string; short_en?: string };

/** A district label: the pack's short name, else the name before any parenthesis. */
const shortName = (name: string | undefined, short: string | undefined) =>
  short?.trim() || (name ?? '').replace(/\s*\(.*$/, '');

/**
 * d3-geo reads polygons on the sphere with clockwise exterior rings; RFC 7946 GeoJSON (our city pack)
 * winds them counter-clockwise, which d3 takes as "the whole globe minus this polygon". A ring whose
 * area is more than a hemisphere is reversed.
 */
export function rewind<F extends Feature<Geometry, Props>>(f: F): F {
  const g = f.geometry;
  if (!g || (g.type !== 'Polygon' && g.type !== 'MultiPolygon')) return f;
  const fix = (rings: number[][][]) => {
    const probe: Feature = { type: 'Feature', properties: {}, geometry: { type: 'Polygon', coordinates: rings } };
    return geoArea(probe) > 2 * Math.PI ? rings.map((r) => [...r].reverse()) : rings;
  };
  const geometry: Geometry =
    g.type === 'Polygon' ? { ...g, coordinates: fix(g.coordinates) } : { ...g, coordinates: g.coordinates.map(fix) };
  return { ...f, geometry };
}

export function projectCity(
  districts: FeatureCollection<Geometry, Props>,
  waterways: FeatureCollection<Geometry, Props>,
  points: readonly { lon: number; lat: number }[] = [],
  width = 640,
  height = 560,
  padding = 24,
): MapProjector {
  districts = { ...districts, features: districts.features.map(rewind) };
  // The frame is the districts and the stations only: canals and rivers run on for kilometres beyond
  // the city, and fitting them too would shrink the city to a corner of a phone screen.
  // Waterways are drawn at the same scale and simply leave the frame (the SVG clips them).
  const framed: FeatureCollection = {
    type: 'FeatureCollection',
    features: [
      ...districts.features,
      ...points.map(
        (p): Feature => ({ type: 'Feature', properties: {}, geometry: { type: 'Point', coordinates: [p.lon, p.lat] } }),
      ),
    ],
  };
  const projection = geoMercator().fitExtent(
    [
      [padding, padding],
      [width - padding, height - padding],
    ],
    framed.features.length > 0 ? framed : { type: 'FeatureCollection', features: waterways.features },
  );
  // Lines leaving the frame are cut at its edge (shorter path strings; nothing drawn off-screen).
  projection.clipExtent([
    [0, 0],
    [width, height],
  ]);
  const path = geoPath(projection);
  const layer = (f: Feature<Geometry, Props>, i: number): MapLayerFeature => {
    const [x, y] = path.centroid(f);
    const [[x0], [x1]] = path.bounds(f);
    return {
      id: f.properties?.id ?? `f${i}`,
      name: { th: f.properties?.name_th ?? '', en: f.properties?.name_en ?? '' },
      label: {
        th: shortName(f.properties?.name_th, f.properties?.short_th),
        en: shortName(f.properties?.name_en, f.properties?.short_en),
      },
      kind: f.properties?.kind ?? '',
      d: path(f) ?? '',
      x: round(x),
      y: round(y),
      w: round(x1 - x0),
    };
  };
  const [tx, ty] = projection.translate();
  const byId = new Map(districts.features.map((f, i) => [f.properties?.id ?? `f${i}`, f]));
  return {
    map: {
      width,
      height,
      districts: districts.features.map(layer),
      waterways: waterways.features.map(layer),
      mercator: { k: projection.scale(), tx, ty },
    },
    project(lon, lat) {
      const [x, y] = projection([lon, lat]) ?? [Number.NaN, Number.NaN];
      return [round(x), round(y)];
    },
    invert(x, y) {
      return projection.invert?.([x, y]) ?? [Number.NaN, Number.NaN];
    },
    insideDistrict(id, x, y) {
      const f = byId.get(id);
      const p = projection.invert?.([x, y]);
      return f !== undefined && p != null && geoContains(f, p);
    },
  };
}

const round = (v: number) => Math.round(v * 10) / 10;

/** Thai vowel and tone marks drawn above or below the previous letter: they take no width. */
const COMBINING = /[\u0E31\u0E34-\u0E3A\u0E47-\u0E4E]/g;

/** Advance widths in em, on the wide side (DejaVu Sans at weight 600, the widest of the usual fonts). */
function charEm(c: string): number {
  if (c === ' ' || '.,:;!|'.includes(c) || 'ijlftI'.includes(c)) return 0.38;
  if ('mwMW'.includes(c)) return 1.05;
  if (c >= 'A' && c <= 'Z') return 0.82;
  if (c >= '0' && c <= '9') return 0.7;
  if (c >= '\u0E00' && c <= '\u0E7F') return 0.68;
  return 0.72;
}

/**
 * Width of a label in map units at a font size, erring wide (so that a name placed by it never overlaps
 * another): per letter class, Thai marks not counted. The e2e checks real rendered boxes in Chromium.
 */
export function labelWidth(text: string, fontSize: number): number {
  let em = 0;
  for (const c of text.replace(COMBINING, '')) em += charEm(c);
  return em * fontSize;
}
