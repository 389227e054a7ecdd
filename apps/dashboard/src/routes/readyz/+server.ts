import { json, type RequestHandler } from '@sveltejs/kit';
import { apiUrl } from '$lib/server/api';
import { NO_STORE, readiness } from '$lib/server/health';

/** Readiness: 503 while the API does not answer its /readyz (lib/server/health.ts). */
export const GET: RequestHandler = async ({ fetch }) => {
  const report = await readiness(apiUrl(), fetch);
  return json(report, { status: report.status === 'ok' ? 200 : 503, headers: NO_STORE });
};
