import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import { ApiError, staffUnauthorized } from '../../errors';
import {
  AlertAction,
  AlertActionBody,
  AlertAudit,
  AlertIdParams,
  errorResponses,
  NoQuery,
  ok,
  StaffAlertList,
  StaffHeaders,
} from '../../schemas';

const BEARER = /^Bearer [\x21-\x7e]{1,500}$/i;

/**
 * Staff routes (issue 6): municipal on-call staff list, acknowledge and resolve alerts with their own
 * credential. The alerts service (apps/alerts, API_ALERTS_URL) owns alert state and the audit trail
 * and checks the credential; this plugin validates the request, forwards it with the staff member's
 * `Authorization` header (never logged), and answers with the alerts service's result in the API's
 * shapes and error catalogue. Without API_ALERTS_URL every staff route answers 503.
 */
export const staffRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const alerts = app.cnx.alerts;
  const security = [{ staffToken: [] }];
  const tags = ['staff'];

  // onRequest: refused before the body is read when the feature is off or no credential is given.
  app.addHook('onRequest', async (request) => {
    if (!alerts)
      throw new ApiError('alerts_unavailable', 'staff routes are disabled: API_ALERTS_URL is not set on this API');
    const auth = request.headers.authorization;
    if (!auth) throw staffUnauthorized('missing');
    if (!BEARER.test(auth)) throw staffUnauthorized('not_bearer');
  });
  // An action without a body (curl -X POST) is an action without a note.
  app.addHook('preValidation', async (request) => {
    if (request.body === undefined || request.body === null) request.body = {};
  });
  app.addHook('onSend', async (_req, reply) => {
    reply.header('cache-control', 'no-store');
  });

  const forward = (request: FastifyRequest, method: 'GET' | 'POST', path: string) =>
    alerts!.forward(
      {
        method,
        path,
        authorization: request.headers.authorization!,
        body: method === 'POST' ? request.body : undefined,
        requestId: request.id,
        clientIp: request.ip,
      },
      request.log,
    );

  app.get(
    '/staff/alerts',
    {
      schema: {
        tags,
        operationId: 'listStaffAlerts',
        summary: 'Alerts firing or acknowledged, with who acknowledged them and the on-call tier told',
        security,
        headers: StaffHeaders,
        querystring: NoQuery,
        response: { 200: ok(StaffAlertList, 'Active alerts'), ...errorResponses(401) },
      },
    },
    async (request) => (await forward(request, 'GET', '/v1/staff/alerts')) as never,
  );

  app.post(
    '/staff/alerts/:alertId/ack',
    {
      schema: {
        tags,
        operationId: 'acknowledgeAlert',
        summary: 'Acknowledge a firing alert: stops the escalation to the next on-call tier',
        description: 'Recorded in the audit trail under the staff member of the credential, with the note if given.',
        security,
        headers: StaffHeaders,
        params: AlertIdParams,
        querystring: NoQuery,
        body: AlertActionBody,
        response: { 200: ok(AlertAction, 'Acknowledged'), ...errorResponses(401, 404, 409) },
      },
    },
    async (request) => (await forward(request, 'POST', `/v1/staff/alerts/${request.params.alertId}/ack`)) as never,
  );

  app.post(
    '/staff/alerts/:alertId/resolve',
    {
      schema: {
        tags,
        operationId: 'resolveAlert',
        summary: 'Close an alert by hand; later transitions of it go to the bus only',
        security,
        headers: StaffHeaders,
        params: AlertIdParams,
        querystring: NoQuery,
        body: AlertActionBody,
        response: { 200: ok(AlertAction, 'Resolved'), ...errorResponses(401, 404, 409) },
      },
    },
    async (request) => (await forward(request, 'POST', `/v1/staff/alerts/${request.params.alertId}/resolve`)) as never,
  );

  app.get(
    '/staff/alerts/:alertId/audit',
    {
      schema: {
        tags,
        operationId: 'getAlertAudit',
        summary: 'Who did what when to an alert, and every delivery with its status and attempts',
        security,
        headers: StaffHeaders,
        params: AlertIdParams,
        querystring: NoQuery,
        response: { 200: ok(AlertAudit, 'Audit trail'), ...errorResponses(401, 404) },
      },
    },
    async (request) => (await forward(request, 'GET', `/v1/staff/alerts/${request.params.alertId}/audit`)) as never,
  );
};
