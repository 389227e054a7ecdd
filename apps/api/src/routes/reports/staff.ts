import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
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
import { staffForwarding } from '../staff/forward';

/**
 * Staff moderation of citizen reports (issue 12 item 3), authenticated as the staff alert routes are:
 * the staff member's own `Authorization: Bearer <token>` (ALERTS_STAFF_FILE) is forwarded, never
 * logged (staffForwarding, ../staff/forward.ts); the alerts service checks it and records every action
 * under its owner in the report's audit trail. For each report staff also see the sensor alerts and
 * other reports near it.
 */
export const staffReportRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const security = [{ staffToken: [] }];
  const tags = ['staff'];
  const staff = staffForwarding(app, app.cnx.alerts);
  const forward = staff.json;
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
      const jpeg = await staff.jpeg(request, `/v1/staff/reports/${request.params.reportId}/photo`);
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
