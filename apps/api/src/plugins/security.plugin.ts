import cors from '@fastify/cors';
import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { ApiError } from '../errors';

export interface SecurityOptions {
  rateLimit: { max: number; windowMs: number };
}

/** Headers a browser script may read on a cross-origin response. */
const EXPOSED = [
  'etag',
  'link',
  'x-data-licence',
  'x-data-attribution',
  'retry-after',
  'content-disposition',
  'x-rolled-up-until',
  'x-request-id',
  'x-ratelimit-limit',
  'x-ratelimit-remaining',
  'x-ratelimit-reset',
];

/**
 * Routes a browser page writes to: a citizen's subscription (token-authenticated) and report (no
 * account), and staff moderation of reports (the staff member's Bearer token, typed into the dashboard's
 * moderation page). None uses cookies, so allowing them cross-origin lets no other site act for anyone:
 * a page can only send a credential it already has.
 */
export const CITIZEN_WRITE_ROUTES = [
  '/v1/subscriptions',
  '/v1/subscriptions/confirm',
  '/v1/subscription',
  '/v1/subscription/data',
  '/v1/unsubscribe',
  '/v1/reports',
  '/v1/staff/reports',
  '/v1/staff/reports/:id/approve',
  '/v1/staff/reports/:id/reject',
  '/v1/staff/reports/:id/merge',
] as const;

/**
 * Open reads, guarded: CORS allows any origin for GET/HEAD, and POST/PATCH/DELETE only on the citizen
 * subscription and report routes and staff report moderation (they take a token, never a cookie; admin and
 * the staff alert routes still cannot be written from a browser page), and a per-client rate limit (client = IP, or X-Forwarded-For behind
 * a trusted proxy) with the x-ratelimit-* headers on every response and 429 + Retry-After past it.
 * Routes tune it with `config.rateLimit` (exports are stricter; /health and /metrics are exempt).
 */
export const securityPlugin = fp(async (app: FastifyInstance, opts: SecurityOptions) => {
  const read = { origin: '*', methods: ['GET', 'HEAD'], exposedHeaders: EXPOSED, maxAge: 86_400 };
  const write = {
    ...read,
    methods: ['GET', 'HEAD', 'POST', 'PATCH', 'DELETE'],
    allowedHeaders: ['content-type', 'authorization'],
  };
  // The write methods and headers matter only in a preflight (OPTIONS) answer: every route answers
  // with the read options, and each write route has its own OPTIONS route whose config widens them
  // (@fastify/cors merges a route's `config.cors`). Static options: no options object is built per
  // request (a per-request delegator cost ~4 % of a cached answer's CPU).
  await app.register(cors, read);
  for (const url of CITIZEN_WRITE_ROUTES)
    app.route({
      method: 'OPTIONS',
      url,
      config: { cors: write },
      schema: { hide: true },
      // @fastify/cors answers the preflight in its onRequest hook; a bare OPTIONS (no Origin) lands here.
      handler: (_req, reply) => reply.code(204).send(),
    });
  await app.register(rateLimit, {
    global: true,
    max: opts.rateLimit.max,
    timeWindow: opts.rateLimit.windowMs,
    cache: 100_000,
    addHeadersOnExceeding: { 'x-ratelimit-limit': true, 'x-ratelimit-remaining': true, 'x-ratelimit-reset': true },
    addHeaders: {
      'x-ratelimit-limit': true,
      'x-ratelimit-remaining': true,
      'x-ratelimit-reset': true,
      'retry-after': true,
    },
    errorResponseBuilder: (_req, ctx) =>
      new ApiError(
        'rate_limited',
        `rate limit of ${ctx.max} requests per ${Math.round(ctx.ttl / 1000) || 1} s window exceeded; retry in ${ctx.after}`,
      ),
  });
});
