import { api } from '$lib/server/api';
import { fromApi } from '$lib/server/load';
import type { PageServerLoad } from './$types';

/** The choices of the subscription form: stations (with locations, for "near me"), districts, rules. */
export const load: PageServerLoad = async () => {
  const client = api();
  const [stations, districts] = await fromApi(Promise.all([client.allStations(), client.allDistricts()]));
  const rules = await client
    .listAlertRules()
    .then((r) => r.rules)
    .catch(() => []);
  return {
    stations: stations.data.map((s) => ({ id: s.id, name: s.name, kind: s.kind, location: s.location })),
    districts: districts.data.map((d) => ({ id: d.district.id, name: d.district.name })),
    rules: rules.map((r) => ({ id: r.id, name: r.name, signal: r.signal })),
  };
};
