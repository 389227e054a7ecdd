import { type CityPack, type DistrictInfo, distanceM, pointInBBox } from '@cnx/city-pack';
import type { Device, Station } from '@cnx/domain';
import type { Static } from 'typebox';
import { ApiError, badParameter } from '../errors';
import type { CanalLevels, StationRef } from '../schemas';
import { timeZoneOffsetMs } from '../util/time';

/** The data licence of everything the API serves (README: data CC BY 4.0). */
export const DATA_LICENCE = { id: 'CC-BY-4.0', url: 'https://creativecommons.org/licenses/by/4.0/' } as const;

export interface StationFilter {
  kind?: 'air' | 'canal';
  district?: string;
  bbox?: string;
  /** Comma-separated ids. */
  station?: string;
  /** `lat,lon`: the centre of a radius search, with `radius` (metres). */
  coordinates?: string;
  radius?: number;
}

/**
 * The city pack as the API needs it: lookups that answer 404 for unknown ids (ids are validated
 * against the pack before they reach the store), station selection by kind/district/bbox, the city
 * time zone offset and the licence line.
 */
export class CityContext {
  readonly id: string;
  readonly stations: readonly Station[];
  /** The canal (water) stations upstream to downstream along their waterways (pack flowOrder). */
  readonly canalStationsInFlowOrder: readonly Station[];
  readonly offsetMs: number;
  readonly licence: { id: string; url: string; attribution: string };
  private readonly devices = new Map<string, Device[]>();
  private readonly placeholder = new Set<string>();

  constructor(readonly pack: CityPack) {
    this.id = pack.city.id;
    this.stations = [...pack.stations].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    this.canalStationsInFlowOrder = pack.flowOrder.map((f) => pack.stationById.get(f.stationId)!);
    for (const d of pack.devices) {
      const list = this.devices.get(d.stationId) ?? [];
      list.push(d);
      this.devices.set(d.stationId, list);
    }
    // The pack reports canal levels still awaiting a survey as warnings at /stations/<i>/canal.
    for (const w of pack.warnings) {
      const m = w.code === 'placeholder_levels' ? /^\/stations\/(\d+)\/canal$/.exec(w.path) : null;
      const station = m ? pack.stations[Number(m[1])] : undefined;
      if (station) this.placeholder.add(station.id);
    }
    this.offsetMs = timeZoneOffsetMs(pack.city.timezone);
    this.licence = { ...DATA_LICENCE, attribution: pack.city.attribution };
  }

  station(id: string, where: 'path' | 'query' = 'path', parameter = 'stationId'): Station {
    const s = this.pack.stationById.get(id);
    if (!s) {
      throw new ApiError('station_not_found', `no station ${JSON.stringify(id)} in ${this.id}`, [
        { in: where, parameter, problem: 'is not a station of this city', value: JSON.stringify(id) },
      ]);
    }
    return s;
  }

  canalStation(id: string): Station {
    const s = this.station(id);
    if (s.kind !== 'canal') {
      throw new ApiError('station_not_found', `${JSON.stringify(id)} is not a canal station`, [
        { in: 'path', parameter: 'stationId', problem: 'is not a canal station', value: JSON.stringify(id) },
      ]);
    }
    return s;
  }

  district(id: string, where: 'path' | 'query' = 'path', parameter = 'districtId'): DistrictInfo {
    const d = this.pack.districtById.get(id);
    if (!d) {
      throw new ApiError('district_not_found', `no district ${JSON.stringify(id)} in ${this.id}`, [
        { in: where, parameter, problem: 'is not a district of this city', value: JSON.stringify(id) },
      ]);
    }
    return d;
  }

  get districts(): DistrictInfo[] {
    return [...this.pack.districtById.values()];
  }

  devicesOf(stationId: string): Device[] {
    return this.devices.get(stationId) ?? [];
  }

  /** Stations matching every given filter, sorted by id; unknown ids are 404s. */
  select(f: StationFilter): Station[] {
    const ids = f.station ? new Set(f.station.split(',')) : undefined;
    if (ids) for (const id of ids) this.station(id, 'query', 'station');
    if (f.district) for (const d of f.district.split(',')) this.district(d, 'query', 'district');
    const districts = f.district ? new Set(f.district.split(',')) : undefined;
    const bbox = f.bbox ? parseBBox(f.bbox) : undefined;
    const circle = parseCircle(f);
    return this.stations.filter(
      (s) =>
        (!ids || ids.has(s.id)) &&
        (!f.kind || s.kind === f.kind) &&
        (!districts || districts.has(s.district)) &&
        (!bbox || pointInBBox(s.location, bbox)) &&
        (!circle || distanceM(circle.centre, s.location) <= circle.radiusM),
    );
  }

  ref(s: Station): Static<typeof StationRef> {
    return { id: s.id, kind: s.kind, name: s.name, district: s.district, location: s.location };
  }

  levels(s: Station): Static<typeof CanalLevels> | undefined {
    if (!s.canal) return undefined;
    return { ...s.canal, source: this.placeholder.has(s.id) ? 'placeholder' : 'surveyed' };
  }
}

/** west,south,east,north -> BBox, with ranges and order checked. */
export function parseBBox(text: string): [number, number, number, number] {
  const [w, s, e, n] = text.split(',').map(Number) as [number, number, number, number];
  const allowed = 'west,south,east,north with -180 <= west <= east <= 180 and -90 <= south <= north <= 90';
  if (![w, e].every((x) => x >= -180 && x <= 180) || ![s, n].every((x) => x >= -90 && x <= 90) || w > e || s > n) {
    throw badParameter('query', 'bbox', 'is not a valid bounding box', allowed, text);
  }
  return [w, s, e, n];
}

/**
 * A radius search (`coordinates=lat,lon&radius=metres`, OpenAQ v3's parameters): both or neither,
 * latitude and longitude in range, not together with `bbox` (one area at a time, as OpenAQ).
 * The radius bound (MAX_RADIUS_M) is in the schema.
 */
export function parseCircle(f: StationFilter): { centre: { lat: number; lon: number }; radiusM: number } | undefined {
  if (f.coordinates === undefined && f.radius === undefined) return undefined;
  if (f.coordinates === undefined) {
    throw badParameter('query', 'coordinates', 'is required with radius', 'latitude,longitude in degrees');
  }
  if (f.radius === undefined) {
    throw badParameter('query', 'radius', 'is required with coordinates', 'metres, an integer');
  }
  if (f.bbox !== undefined) {
    throw badParameter(
      'query',
      'bbox',
      'cannot be combined with coordinates and radius',
      'one of bbox or coordinates+radius',
      f.bbox,
    );
  }
  const [lat, lon] = f.coordinates.split(',').map(Number) as [number, number];
  if (!(lat >= -90 && lat <= 90 && lon >= -180 && lon <= 180)) {
    throw badParameter(
      'query',
      'coordinates',
      'is not a valid point',
      'latitude,longitude with -90 <= latitude <= 90 and -180 <= longitude <= 180',
      f.coordinates,
    );
  }
  return { centre: { lat, lon }, radiusM: f.radius };
}

/** One page of a list (1-based `page`), with the OpenAQ v3 paging members of its `meta`. */
export function pageOf<T>(items: readonly T[], q: { limit?: number; page?: number }) {
  const limit = q.limit ?? 100;
  const page = q.page ?? 1;
  const data = items.slice((page - 1) * limit, page * limit);
  return { data, meta: { found: items.length, limit, page, count: data.length } };
}
