import { api, publicApiUrl } from '$lib/server/api';
import { cityView } from '$lib/server/city';
import type { LayoutServerLoad } from './$types';

/**
 * Public alerts (issue 12) for every page's banner: none when the alerts service cannot be reached.
 * Not reloaded with the live readings ('cnx:now'): the stream's `alert` events update the banner.
 */
export const load: LayoutServerLoad = async ({ locals, depends }) => {
  depends('cnx:alerts');
  const alerts = await api()
    .listAlerts()
    .catch(() => null);
  return { lang: locals.lang, publicApiUrl: publicApiUrl(), city: cityView(), alerts };
};
