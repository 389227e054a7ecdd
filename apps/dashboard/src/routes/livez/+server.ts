import { json, type RequestHandler } from '@sveltejs/kit';
import { liveness, NO_STORE } from '$lib/server/health';

/** Liveness: the server answers; the API is not asked (lib/server/health.ts). */
export const GET: RequestHandler = () => json(liveness(), { headers: NO_STORE });
