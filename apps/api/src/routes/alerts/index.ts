import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { AlertRuleList, errorResponses, NoQuery, ok, PublicAlertList } from '../../schemas';
import { cacheFor } from '../../util/http';

/**
 * Public alerts (issue 12): what is firing now and what ended recently, in Thai and English, with the
 * stations and districts each is about; no personal data. Served from the alerts service (the owner of
 * alert state, API_ALERTS_URL), cached a few seconds; the live stream carries each transition as an
 * `alert` event.
 */
export const alertRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { publicAlerts, alerts } = app.cnx;
  const tags = ['alerts'];

  app.get(
    '/alerts',
    {
      schema: {
        tags,
        operationId: 'listAlerts',
        summary: 'Current and recent alerts (smoke, canal level, water quality, stations offline)',
        description:
          'current: firing now (or acknowledged by staff); recent: ended (cleared or resolved) within recentHours. ' +
          'Times are RFC 3339 UTC; texts in Thai and English. Follow GET /v1/stream (event: alert) for changes.',
        querystring: NoQuery,
        response: { 200: ok(PublicAlertList, 'Current and recent alerts'), ...errorResponses() },
      },
    },
    async (request, reply) => {
      cacheFor(reply, 5);
      return publicAlerts.list(request.log, request.id);
    },
  );

  app.get(
    '/alerts/rules',
    {
      schema: {
        tags,
        operationId: 'listAlertRules',
        summary: 'The alert rules of the city: signal, scope, levels with thresholds and labels',
        querystring: NoQuery,
        response: { 200: ok(AlertRuleList, 'Alert rules'), ...errorResponses() },
      },
    },
    async (request, reply) => {
      cacheFor(reply, 300);
      if (!alerts) return { rules: [] };
      return (await alerts.forward(
        { method: 'GET', path: '/v1/alerts/rules', requestId: request.id },
        request.log,
      )) as never;
    },
  );
};
