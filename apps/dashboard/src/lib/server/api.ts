import { type CnxApiClient, createClient } from '@cnx/api-client';
import { env } from '$env/dynamic/private';

/** Where the server-side load functions reach the API (DASHBOARD_API_URL, default the API's default). */
export const apiUrl = (): string => env.DASHBOARD_API_URL || 'http://127.0.0.1:8080';

/**
 * The API base URL the browser uses (live stream, download links): DASHBOARD_PUBLIC_API_URL, else the
 * same as DASHBOARD_API_URL (fine when both run on one machine or behind one name).
 */
export const publicApiUrl = (): string => env.DASHBOARD_PUBLIC_API_URL || apiUrl();

let client: CnxApiClient | undefined;
let clientBase = '';

/** The typed API client for server-side loads (the dashboard reads only through it). */
export function api(): CnxApiClient {
  const base = apiUrl();
  if (!client || clientBase !== base) {
    client = createClient({ baseUrl: base });
    clientBase = base;
  }
  return client;
}
