import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
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
import { staffForwarding } from './forward';

/**
 * Staff routes (issue 6): municipal on-call staff list, acknowledge and resolve alerts with their own
 * credential. The alerts service (apps/alerts, API_ALERTS_URL) owns alert state and the audit trail
 * and checks the credential; this plugin validates the request and forwards it with the staff
 * member's `Authorization` header (staffForwarding, ./forward.ts), answering with the alerts service's
 * result in the API's shapes and error catalogue. Without API_ALERTS_URL every staff route answers 503.
 */
export const staffRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const security = [{ staffToken: [] }];
  const tags = ['staff'];
  const forward = staffForwarding(app, app.cnx.alerts).json;

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
    async (request) => forward(request, 'GET', '/v1/staff/alerts'),
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
    async (request) => forward(request, 'POST', `/v1/staff/alerts/${request.params.alertId}/ack`),
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
    async (request) => forward(request, 'POST', `/v1/staff/alerts/${request.params.alertId}/resolve`),
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
    async (request) => forward(request, 'GET', `/v1/staff/alerts/${request.params.alertId}/audit`),
  );
};
