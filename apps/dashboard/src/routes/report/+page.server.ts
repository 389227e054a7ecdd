import { api } from '$lib/server/api';
import { fromApi } from '$lib/server/load';
import { overviewMap } from '$lib/server/overview-map';
import type { PageServerLoad } from './$types';

/** The report page's map: the overview's frame and layers (projected on the server), no station data. */
export const load: PageServerLoad = async ({ locals }) => {
  const stations = await fromApi(api().listStations());
  const { map } = overviewMap(
    stations.data.map((s) => ({ id: s.id, location: s.location })),
    locals.lang,
  );
  return { map };
};
