import { createClient } from '@cnx/api-client';
import { api, publicApiUrl } from '$lib/server/api';
import { fromApi } from '$lib/server/load';
import type { PageServerLoad } from './$types';

const DAY = 86_400_000;

export const load: PageServerLoad = async () => {
  const meta = await fromApi(api().getMeta());
  // Links the browser follows: built with the public base URL by the same typed client.
  const pub = createClient({ baseUrl: publicApiUrl() });
  const to = new Date(Math.ceil(Date.now() / 3_600_000) * 3_600_000);
  const from = new Date(to.getTime() - 7 * DAY);
  const base = pub.baseUrl;
  return {
    meta,
    links: {
      csvAll: pub.exportUrl({ from, to, format: 'csv' }),
      geojsonAll: pub.exportUrl({ from, to, format: 'geojson' }),
      csvAir: pub.exportUrl({ from, to, format: 'csv', kind: 'air' }),
      csvCanal: pub.exportUrl({ from, to, format: 'csv', kind: 'canal' }),
      docs: `${base}${meta.api.docs.startsWith('/') ? '' : '/'}${meta.api.docs}`,
      openapi: `${base}${meta.api.openapi.startsWith('/') ? '' : '/'}${meta.api.openapi}`,
      latest: `${base}/v1/latest`,
      stream: `${base}/v1/stream`,
    },
  };
};
