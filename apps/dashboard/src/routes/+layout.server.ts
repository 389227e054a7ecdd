import { api, publicApiUrl } from '$lib/server/api';
import type { LayoutServerLoad } from './$types';

/** Public alerts (issue 12) for every page's banner: none when the alerts service cannot be reached. */
export const load: LayoutServerLoad = async ({ locals, depends }) => {
  depends('cnx:now');
  const alerts = await api()
    .listAlerts()
    .catch(() => null);
  return { lang: locals.lang, publicApiUrl: publicApiUrl(), alerts };
};
