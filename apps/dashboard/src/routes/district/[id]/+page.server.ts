import { api } from '$lib/server/api';
import { fromApi } from '$lib/server/load';
import type { PageServerLoad } from './$types';

export const load: PageServerLoad = async ({ params, depends }) => {
  depends('cnx:now');
  return { district: await fromApi(api().getDistrict(params.id)) };
};
