import { RISE_DEFAULTS } from '@cnx/domain';
import { api } from '$lib/server/api';
import { fromApi } from '$lib/server/load';
import { canalRises } from '$lib/server/rise';
import type { PageServerLoad } from './$types';

export const load: PageServerLoad = async ({ depends }) => {
  depends('cnx:now');
  const client = api();
  const canal = await fromApi(client.listCanalStations());
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
  return { canal, rise, riseRules };
};
