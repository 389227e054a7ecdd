import { projectCity } from '$lib/geo';
import { thaiLegend } from '$lib/legend';
import { api } from '$lib/server/api';
import { cityLayers } from '$lib/server/city';
import { fromApi } from '$lib/server/load';
import type { PageServerLoad } from './$types';

export const load: PageServerLoad = async ({ depends }) => {
  depends('cnx:now');
  const client = api();
  const [latest, districts] = await fromApi(Promise.all([client.listLatest(), client.listDistricts()]));
  const layers = cityLayers();
  const { map, project } = projectCity(
    layers.districts,
    layers.waterways,
    latest.data.map((s) => s.station.location),
  );
  const positions: Record<string, [number, number]> = {};
  for (const s of latest.data) positions[s.station.id] = project(s.station.location.lon, s.station.location.lat);
  return { latest, districts, map, positions, legend: thaiLegend() };
};
