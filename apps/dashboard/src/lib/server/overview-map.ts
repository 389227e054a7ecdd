import { basemapTiles } from '$lib/basemap';
import { type CityMap, projectCity } from '$lib/geo';
import type { Lang } from '$lib/i18n';
import { declutterMarkers, MAP_MODES, type MapModeName, placeLabels } from '$lib/maplayout';
import { baseMapConfig } from './basemap';
import { cityLayers, cityPack } from './city';

/** A marker's true place on the map and where each map size draws it (apart from its neighbours). */
export interface MarkerPlace {
  at: [number, number];
  desktop: [number, number];
  phone: [number, number];
}

export interface MapLabel {
  id: string;
  text: string;
  x: number;
  y: number;
}

export interface OverviewMap {
  map: CityMap;
  markers: Record<string, MarkerPlace>;
  /** District names per map size; a district without room for its name is not in the list. */
  labels: Record<MapModeName, MapLabel[]>;
  basemap: { tiles: ReturnType<typeof basemapTiles>; attribution: string } | null;
}

let cached: { key: string; value: OverviewMap } | undefined;

/**
 * The overview map of the city pack for `lang`: layers, marker places, labels, base map tiles. The same
 * for every request with the same stations and language (live refreshes rerun the load every few
 * seconds): kept until either changes.
 */
export function overviewMap(
  stations: readonly { id: string; location: { lon: number; lat: number } }[],
  lang: Lang,
): OverviewMap {
  const key = `${lang}|${stations.map((s) => `${s.id}@${s.location.lon},${s.location.lat}`).join(';')}`;
  if (cached?.key !== key) cached = { key, value: computeMap(stations, lang) };
  return cached.value;
}

function computeMap(stations: readonly { id: string; location: { lon: number; lat: number } }[], lang: Lang) {
  const layers = cityLayers();
  const { map, project, insideDistrict } = projectCity(
    layers.districts,
    layers.waterways,
    stations.map((s) => s.location),
  );
  const at = stations.map((s) => {
    const [x, y] = project(s.location.lon, s.location.lat);
    return { x, y };
  });
  const placed = {
    desktop: declutterMarkers(at, map, MAP_MODES.desktop.markerR),
    phone: declutterMarkers(at, map, MAP_MODES.phone.markerR, 3),
  };
  const markers: Record<string, MarkerPlace> = {};
  stations.forEach((s, i) => {
    markers[s.id] = { at: [at[i]!.x, at[i]!.y], desktop: placed.desktop[i]!, phone: placed.phone[i]! };
  });
  // Priority: the districts with more stations first, then the larger ones.
  const perDistrict = new Map<string, number>();
  for (const s of cityPack().stations) perDistrict.set(s.district, (perDistrict.get(s.district) ?? 0) + 1);
  const labels = {} as OverviewMap['labels'];
  for (const mode of ['desktop', 'phone'] as const) {
    const requests = map.districts.map((d) => ({
      id: d.id,
      text: d.label[lang],
      x: d.x,
      y: d.y,
      priority: (perDistrict.get(d.id) ?? 0) * 10_000 + d.w,
      inside: (x: number, y: number) => insideDistrict(d.id, x, y),
    }));
    const markerPoints = placed[mode].map(([x, y]) => ({ x, y }));
    const result = placeLabels(requests, map, MAP_MODES[mode], markerPoints);
    labels[mode] = map.districts.flatMap((d) => {
      const l = result.get(d.id);
      return l ? [{ id: l.id, text: l.text, x: l.x, y: l.y }] : [];
    });
  }
  const base = baseMapConfig();
  const basemap = base ? { tiles: basemapTiles(map, base.url), attribution: base.attribution } : null;
  return { map, markers, labels, basemap } satisfies OverviewMap;
}
