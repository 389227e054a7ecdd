import { json, type RequestHandler } from '@sveltejs/kit';
import { apiUrl } from '$lib/server/api';
import { NO_STORE, readiness } from '$lib/server/health';

/** The readiness report for people and status pages: always 200, status ok or degraded (lib/server/health.ts). */
export const GET: RequestHandler = async ({ fetch }) => json(await readiness(apiUrl(), fetch), { headers: NO_STORE });
