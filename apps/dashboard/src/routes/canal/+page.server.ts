import { RISE_DEFAULTS } from '@cnx/domain';
import { error } from '@sveltejs/kit';
import { api } from '$lib/server/api';
import { cityPack } from '$lib/server/city';
import { fromApi } from '$lib/server/load';
import { canalRises } from '$lib/server/rise';
import type { PageServerLoad } from './$types';

export const load: PageServerLoad = async ({ depends }) => {
  // The water page exists only where the city pack has water stations (the navigation hides it too).
  const { flowOrder } = cityPack();
  if (flowOrder.length === 0) error(404, 'not_found');
  depends('cnx:now');
  const client = api();
  const canal = await fromApi(client.allCanalStations());
  // Upstream to downstream along each waterway, as the pack orders them (flowOrder).
  const rank = new Map(flowOrder.map((f, i) => [f.stationId, i]));
  const at = (id: string) => rank.get(id) ?? flowOrder.length;
  canal.data.sort((a, b) => at(a.station.id) - at(b.station.id));
  const alongM = Object.fromEntries(flowOrder.map((f) => [f.stationId, f.alongM]));
  // The rate of rise is estimated here from the raw readings (see $lib/server/rise.ts), with the city
  // pack's threshold as the API reports it.
  const rise = await canalRises(
    client,
    canal.data.map((c) => ({ id: c.station.id, thresholdMPerHour: c.rise.warningMPerHour })),
    Date.now(),
  );
  const riseRules = {
    minSamples: RISE_DEFAULTS.minSamples,
    minSpanMinutes: RISE_DEFAULTS.minSpanMs / 60_000,
    windowMinutes: RISE_DEFAULTS.windowMs / 60_000,
  };
  return { canal, rise, riseRules, alongM };
};
