/**
 * Minimal GeoJSON (RFC 7946) types for what a city pack holds, plus the few geometry helpers the
 * validator needs. Positions are [lon, lat] (RFC 7946 section 3.1.1), unlike GeoPoint {lat, lon}.
 */
import type { GeoPoint } from '@cnx/domain';

export type Position = [lon: number, lat: number] | [lon: number, lat: number, alt: number];
/** A closed ring: at least 4 positions, the last equal to the first. */
export type LinearRing = Position[];
/** [west, south, east, north] in degrees (RFC 7946 section 5). */
export type BBox = [west: number, south: number, east: number, north: number];

export interface PolygonGeometry {
  type: 'Polygon';
  /** Outer ring first, then holes. */
  coordinates: LinearRing[];
}

export interface LineStringGeometry {
  type: 'LineString';
  coordinates: Position[];
}

export type Geometry = PolygonGeometry | LineStringGeometry;

export interface Feature<G extends Geometry = Geometry, P = Record<string, unknown>> {
  type: 'Feature';
  id?: string | number;
  geometry: G;
  properties: P;
}

export interface FeatureCollection<G extends Geometry = Geometry, P = Record<string, unknown>> {
  type: 'FeatureCollection';
  features: Feature<G, P>[];
  [foreignMember: string]: unknown;
}

export type DistrictKind = 'innovation-district' | 'ward' | 'neighbourhood';

export interface DistrictProperties {
  id: string;
  name_th: string;
  name_en: string;
  kind: DistrictKind;
  short_th?: string;
  short_en?: string;
  [key: string]: unknown;
}

export type WaterwayKind = 'moat' | 'canal' | 'river';

export interface WaterwayProperties {
  id: string;
  name_th: string;
  name_en: string;
  kind: WaterwayKind;
  [key: string]: unknown;
}

export type DistrictFeature = Feature<PolygonGeometry, DistrictProperties>;
export type WaterwayFeature = Feature<LineStringGeometry, WaterwayProperties>;
export type DistrictCollection = FeatureCollection<PolygonGeometry, DistrictProperties>;
export type WaterwayCollection = FeatureCollection<LineStringGeometry, WaterwayProperties>;

/**
 * Ray casting (even-odd rule) on a planar ring in lon/lat degrees. Good enough for city-sized
 * polygons far from the poles and the antimeridian, which is all a city pack holds. A point exactly
 * on an edge may land on either side: keep stations away from district edges.
 */
export function pointInRing(point: GeoPoint, ring: readonly (readonly number[])[]): boolean {
  const x = point.lon;
  const y = point.lat;
  let inside = false;
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
    const a = ring[i];
    const b = ring[j];
    if (!a || !b) continue;
    const [xi = Number.NaN, yi = Number.NaN] = a;
    const [xj = Number.NaN, yj = Number.NaN] = b;
    const crosses = yi > y !== yj > y && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi;
    if (crosses) inside = !inside;
  }
  return inside;
}

/** Inside the outer ring and not inside any hole. */
export function pointInPolygon(point: GeoPoint, polygon: readonly (readonly (readonly number[])[])[]): boolean {
  const [outer, ...holes] = polygon;
  if (!outer || !pointInRing(point, outer)) return false;
  return !holes.some((hole) => pointInRing(point, hole));
}

export function pointInBBox(point: GeoPoint, bbox: BBox): boolean {
  const [west, south, east, north] = bbox;
  return point.lon >= west && point.lon <= east && point.lat >= south && point.lat <= north;
}

export function positionToPoint(position: readonly number[]): GeoPoint {
  return { lon: position[0] ?? Number.NaN, lat: position[1] ?? Number.NaN };
}

export function isRingClosed(ring: readonly (readonly number[])[]): boolean {
  const first = ring[0];
  const last = ring[ring.length - 1];
  return first !== undefined && last !== undefined && first[0] === last[0] && first[1] === last[1];
}

/** Mean Earth radius, metres (IUGG). */
const EARTH_RADIUS_M = 6_371_008.8;

/**
 * Where `point` falls along a line, in metres: `alongM` from the line's first position to the point's
 * foot on the line, `offsetM` from the point to that foot. Local equirectangular metres around the
 * point: fine over the few kilometres of a city (error well under 1 %).
 */
export function locateOnLine(
  point: GeoPoint,
  line: readonly (readonly number[])[],
): { alongM: number; offsetM: number } | undefined {
  const k = (Math.PI / 180) * EARTH_RADIUS_M;
  const kx = k * Math.cos((point.lat * Math.PI) / 180);
  const xy = (p: readonly number[]): [number, number] => [
    ((p[0] ?? Number.NaN) - point.lon) * kx,
    ((p[1] ?? Number.NaN) - point.lat) * k,
  ];
  let best: { alongM: number; offsetM: number } | undefined;
  let walked = 0;
  for (let i = 0; i + 1 < line.length; i++) {
    const [ax, ay] = xy(line[i] ?? []);
    const [bx, by] = xy(line[i + 1] ?? []);
    const dx = bx - ax;
    const dy = by - ay;
    const len2 = dx * dx + dy * dy;
    const f = len2 === 0 ? 0 : Math.min(1, Math.max(0, -(ax * dx + ay * dy) / len2));
    const offsetM = Math.hypot(ax + f * dx, ay + f * dy);
    if (Number.isFinite(offsetM) && (!best || offsetM < best.offsetM)) {
      best = { alongM: walked + f * Math.sqrt(len2), offsetM };
    }
    walked += Math.sqrt(len2);
  }
  return best;
}

/** Great-circle distance between two points, metres (haversine). */
export function distanceM(a: GeoPoint, b: GeoPoint): number {
  const rad = Math.PI / 180;
  const dLat = (b.lat - a.lat) * rad;
  const dLon = (b.lon - a.lon) * rad;
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(a.lat * rad) * Math.cos(b.lat * rad) * Math.sin(dLon / 2) ** 2;
  return 2 * EARTH_RADIUS_M * Math.asin(Math.min(1, Math.sqrt(h)));
}
