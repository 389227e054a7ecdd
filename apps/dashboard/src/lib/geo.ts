import { geoArea, geoMercator, geoPath } from 'd3-geo';
import type { Feature, FeatureCollection, Geometry } from 'geojson';

/**
 * The overview map as plain SVG: the city pack's districts and waterways projected once, on the
 * server (d3-geo never reaches the browser bundle). No tile server: the layers are our own GeoJSON.
 */
export interface MapLayerFeature {
  id: string;
  name: { th: string; en: string };
  kind: string;
  d: string;
  /** Label anchor (centroid for polygons). */
  x: number;
  y: number;
}

export interface CityMap {
  width: number;
  height: number;
  districts: MapLayerFeature[];
  waterways: MapLayerFeature[];
}

export interface MapProjector {
  map: CityMap;
  project(lon: number, lat: number): [number, number];
}

type Props = { id?: string; name_th?: string; name_en?: string; kind?: string };

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
  const everything: FeatureCollection = {
    type: 'FeatureCollection',
    features: [
      ...districts.features,
      ...waterways.features,
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
    everything,
  );
  const path = geoPath(projection);
  const layer = (f: Feature<Geometry, Props>, i: number): MapLayerFeature => {
    const [x, y] = path.centroid(f);
    return {
      id: f.properties?.id ?? `f${i}`,
      name: { th: f.properties?.name_th ?? '', en: f.properties?.name_en ?? '' },
      kind: f.properties?.kind ?? '',
      d: path(f) ?? '',
      x: round(x),
      y: round(y),
    };
  };
  return {
    map: { width, height, districts: districts.features.map(layer), waterways: waterways.features.map(layer) },
    project(lon, lat) {
      const [x, y] = projection([lon, lat]) ?? [Number.NaN, Number.NaN];
      return [round(x), round(y)];
    },
  };
}

const round = (v: number) => Math.round(v * 10) / 10;
