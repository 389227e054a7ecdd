import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import Type from 'typebox';
import { ApiError, staffUnauthorized } from '../../errors';
import {
  errorResponses,
  NoQuery,
  ok,
  ReportApproveBody,
  ReportIdParams,
  ReportMergeBody,
  ReportModerated,
  ReportRejectBody,
  StaffHeaders,
  StaffReportDetail,
  StaffReportList,
  StaffReportQuery,
} from '../../schemas';

const BEARER = /^Bearer [\x21-\x7e]{1,500}$/i;

/**
 * Staff moderation of citizen reports (issue 12 item 3), authenticated as the staff alert routes are:
 * the staff member's own `Authorization: Bearer <token>` (ALERTS_STAFF_FILE) is forwarded, never
 * logged; the alerts service checks it and records every action under its owner in the report's audit
 * trail. For each report staff also see the sensor alerts and other reports near it.
 */
export const staffReportRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const alerts = app.cnx.alerts;
  const security = [{ staffToken: [] }];
  const tags = ['staff'];

  app.addHook('onRequest', async (request) => {
    if (!alerts)
      throw new ApiError('alerts_unavailable', 'staff routes are disabled: API_ALERTS_URL is not set on this API');
    const auth = request.headers.authorization;
    if (!auth) throw staffUnauthorized('missing');
    if (!BEARER.test(auth)) throw staffUnauthorized('not_bearer');
  });
  app.addHook('preValidation', async (request) => {
    if (request.method === 'POST' && (request.body === undefined || request.body === null)) request.body = {};
  });
  app.addHook('onSend', async (_req, reply) => {
    reply.header('cache-control', 'no-store');
  });

  const forward = async (request: FastifyRequest, method: 'GET' | 'POST', path: string) =>
    (await alerts!.forward(
      {
        method,
        path,
        authorization: request.headers.authorization!,
        body: method === 'POST' ? request.body : undefined,
        requestId: request.id,
        clientIp: request.ip,
      },
      request.log,
    )) as never;
  const base = { tags, security, headers: StaffHeaders };

  app.get(
    '/staff/reports',
    {
      schema: {
        ...base,
        operationId: 'listStaffReports',
        summary: 'Citizen reports, newest first (at most 1000), optionally only those in one state',
        querystring: StaffReportQuery,
        response: { 200: ok(StaffReportList, 'Reports'), ...errorResponses(401) },
      },
    },
    async (request) =>
      forward(request, 'GET', `/v1/staff/reports${request.query.status ? `?status=${request.query.status}` : ''}`),
  );

  app.get(
    '/staff/reports/:reportId',
    {
      schema: {
        ...base,
        operationId: 'getStaffReport',
        summary:
          'One report with the sensor alerts and reports near it (distance and time window stated) and its audit',
        params: ReportIdParams,
        querystring: NoQuery,
        response: { 200: ok(StaffReportDetail, 'The report'), ...errorResponses(401, 404) },
      },
    },
    async (request) => forward(request, 'GET', `/v1/staff/reports/${request.params.reportId}`),
  );

  app.get(
    '/staff/reports/:reportId/photo',
    {
      schema: {
        ...base,
        operationId: 'getStaffReportPhoto',
        summary: 'The photo of any report still holding one (pending ones included): JPEG, no metadata',
        params: ReportIdParams,
        querystring: NoQuery,
        response: {
          200: {
            description: 'The photo',
            content: { 'image/jpeg': { schema: Type.String({ contentEncoding: 'binary' }) } },
          },
          ...errorResponses(401, 404),
        },
      },
    },
    async (request, reply) => {
      const jpeg = await alerts!.forwardJpeg(
        {
          method: 'GET',
          path: `/v1/staff/reports/${request.params.reportId}/photo`,
          authorization: request.headers.authorization!,
          requestId: request.id,
          clientIp: request.ip,
        },
        request.log,
      );
      return reply
        .type('image/jpeg')
        .header('x-content-type-options', 'nosniff')
        .send(jpeg as never);
    },
  );

  const action = (
    name: 'approve' | 'reject' | 'merge',
    operationId: string,
    summary: string,
    body: typeof ReportApproveBody | typeof ReportRejectBody | typeof ReportMergeBody,
  ) =>
    app.post(
      `/staff/reports/:reportId/${name}`,
      {
        schema: {
          ...base,
          operationId,
          summary,
          params: ReportIdParams,
          querystring: NoQuery,
          body,
          response: { 200: ok(ReportModerated, 'Done, and audited'), ...errorResponses(401, 404, 409) },
        },
      },
      async (request) =>
        forward(request, 'POST', `/v1/staff/reports/${(request.params as { reportId: number }).reportId}/${name}`),
    );
  action(
    'approve',
    'approveReport',
    'Approve a pending report: it becomes open data (GeoJSON, live stream, map)',
    ReportApproveBody,
  );
  action(
    'reject',
    'rejectReport',
    'Reject a pending report with a reason (audited, never public); its photo is deleted',
    ReportRejectBody,
  );
  action(
    'merge',
    'mergeReport',
    'Merge a pending report into the report it duplicates (pending or approved); its photo is deleted',
    ReportMergeBody,
  );
};
