import { thaiLegend } from '$lib/legend';
import { api } from '$lib/server/api';
import { fromApi } from '$lib/server/load';
import { overviewMap } from '$lib/server/overview-map';
import type { PageServerLoad } from './$types';

export const load: PageServerLoad = async ({ depends, locals }) => {
  depends('cnx:now');
  const client = api();
  const [latest, districts] = await fromApi(Promise.all([client.allLatest(), client.allDistricts()]));
  const map = overviewMap(
    latest.data.map((s) => ({ id: s.station.id, location: s.station.location })),
    locals.lang,
  );
  // Approved citizen reports (open data): none when the alerts service cannot be reached.
  const reports = await client
    .listReports()
    .then((fc) => fc.features)
    .catch(() => null);
  return { latest, districts, ...map, legend: thaiLegend(), reports };
};
