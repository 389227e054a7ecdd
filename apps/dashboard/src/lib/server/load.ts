import { isApiError } from '@cnx/api-client';
import { error } from '@sveltejs/kit';

/** Maps API failures to pages: 404s stay 404s, anything else is "the data service is not reachable". */
export async function fromApi<T>(promise: Promise<T>): Promise<T> {
  try {
    return await promise;
  } catch (e) {
    if (isApiError(e) && e.status === 404) error(404, 'not_found');
    error(503, 'api_unavailable');
  }
}
