import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { redactedConfig } from '../../config';
import { AdminConfig, AdminHeaders, CacheFlushed, errorResponses, NoQuery, ok } from '../../schemas';

/**
 * Routes that administer the API: they need an API key (API_ADMIN_KEYS). There is nothing to write
 * through the API yet; these two prove the mechanism and help operators.
 */
export const adminRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const security = [{ adminKey: [] }];
  // onRequest: an unauthenticated request is refused before its body is even read.
  app.addHook('onRequest', app.requireAdminKey);
  app.addHook('onSend', async (_req, reply) => {
    reply.header('cache-control', 'no-store');
  });

  app.post(
    '/cache/flush',
    {
      schema: {
        tags: ['admin'],
        operationId: 'flushCache',
        summary: 'Drop the cached "now" views (latest, districts, canal, station status)',
        security,
        headers: AdminHeaders,
        querystring: NoQuery,
        response: { 200: ok(CacheFlushed, 'Entries dropped'), ...errorResponses(401) },
      },
    },
    async () => ({ flushed: app.cnx.cache.flush() }),
  );

  app.get(
    '/config',
    {
      schema: {
        tags: ['admin'],
        operationId: 'getConfig',
        summary: 'The effective configuration, secrets redacted',
        security,
        headers: AdminHeaders,
        querystring: NoQuery,
        response: { 200: ok(AdminConfig, 'Configuration'), ...errorResponses(401) },
      },
    },
    async () => ({ config: redactedConfig(app.cnx.config) }),
  );
};
