import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { ApiError } from '../errors';

declare module 'fastify' {
  interface FastifyInstance {
    /** preHandler for routes that write or administer: a configured API key is required. */
    requireAdminKey: (request: FastifyRequest) => Promise<void>;
  }
}

const digest = (s: string): Buffer => createHash('sha256').update(s).digest();

/**
 * API keys for anything that writes or administers (reads need none). A key comes as
 * `Authorization: Bearer <key>` or `X-API-Key: <key>` and is compared in constant time (as SHA-256
 * digests, so the length of a configured key does not leak either).
 */
export const authPlugin = fp(async (app: FastifyInstance, opts: { keys: string[] }) => {
  const keys = opts.keys.map(digest);
  app.decorate('requireAdminKey', async (request: FastifyRequest) => {
    const auth = request.headers.authorization;
    const header = request.headers['x-api-key'];
    const given =
      typeof auth === 'string' && /^Bearer /i.test(auth)
        ? auth.slice(7).trim()
        : typeof header === 'string'
          ? header
          : '';
    const d = digest(given);
    let ok = false;
    for (const k of keys) ok = timingSafeEqual(k, d) || ok;
    if (!ok || given === '') {
      const why =
        keys.length === 0
          ? 'admin routes are disabled: no API_ADMIN_KEYS configured'
          : "a valid admin API key is required: one of API_ADMIN_KEYS, sent as 'Authorization: Bearer <key>' or 'X-API-Key: <key>'";
      throw new ApiError('unauthorized', why, undefined, { 'www-authenticate': 'Bearer realm="cnx-admin"' });
    }
  });
});
