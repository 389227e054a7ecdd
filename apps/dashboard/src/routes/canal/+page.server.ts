import { api } from '$lib/server/api';
import { fromApi } from '$lib/server/load';
import type { PageServerLoad } from './$types';

export const load: PageServerLoad = async ({ depends }) => {
  depends('cnx:now');
  return { canal: await fromApi(api().listCanalStations()) };
};
