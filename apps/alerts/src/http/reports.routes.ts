/**
 * Citizen reports (issue 12 item 3), served to the public and to staff through the API (apps/api
 * forwards here, with the client's address for the per-client limit):
 *   POST /v1/reports                          a resident's report (202; ALERTS_REPORT_RATE_LIMIT_MAX an hour per client)
 *   GET  /v1/reports                          approved reports, GeoJSON FeatureCollection (open data)
 *   GET  /v1/reports/:id/photo                an approved report's photo (re-encoded JPEG)
 *   GET  /v1/staff/reports?status=            staff: the list, newest first
 *   GET  /v1/staff/reports/:id                staff: one report, the alerts and reports near it, its audit
 *   GET  /v1/staff/reports/:id/photo          staff: the photo of a report not yet approved
 *   POST /v1/staff/reports/:id/approve|reject|merge   staff moderation, audited
 */
import {
  MAX_PHOTO_BASE64,
  REPORT_STATUSES,
  ReportAccepted,
  ReportApproveBody,
  ReportFeatureCollection,
  ReportListQuery,
  ReportMergeBody,
  ReportModerated,
  ReportRejectBody,
  ReportRequest,
  StaffReportDetail,
  StaffReportList,
} from '@cnx/protocol';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply } from 'fastify';
import Type from 'typebox';
import type { AlertsConfig } from '../config';
import type { ReportsService } from '../reports/reports.service';
import { staffAuth } from './staff-auth';

export const REPORT_ACCEPTED_MESSAGE = 'Thank you. Staff will check the report; once approved it is on the public map.';
/** The JSON body of a report with the largest photo, with room for the other fields. */
export const REPORT_BODY_LIMIT = MAX_PHOTO_BASE64 + 16 * 1024;

const IdParams = Type.Object(
  { id: Type.Integer({ minimum: 1, maximum: 999_999_999_999_999 }) },
  { additionalProperties: false },
);
const sendJpeg = (reply: FastifyReply, jpeg: Buffer, cache: string) =>
  reply
    .header('content-type', 'image/jpeg')
    .header('cache-control', cache)
    .header('x-content-type-options', 'nosniff')
    .send(jpeg);

export const publicReportRoutes: FastifyPluginAsyncTypebox<{ reports: ReportsService; cfg: AlertsConfig }> = async (
  app,
  { reports, cfg },
) => {
  app.post(
    '/v1/reports',
    {
      bodyLimit: REPORT_BODY_LIMIT,
      config: { rateLimit: { max: cfg.rateLimit.reportMaxPerHour, timeWindow: 3_600_000 } },
      schema: { body: ReportRequest, response: { 202: ReportAccepted } },
    },
    async (req, reply) => {
      const { id } = await reports.create(req.body);
      return reply
        .code(202)
        .header('cache-control', 'no-store')
        .send({ id, status: 'pending', message: REPORT_ACCEPTED_MESSAGE });
    },
  );
  app.get(
    '/v1/reports',
    { schema: { querystring: ReportListQuery, response: { 200: ReportFeatureCollection } } },
    async (req) => reports.geojson(req.query),
  );
  app.get('/v1/reports/:id/photo', { schema: { params: IdParams } }, async (req, reply) =>
    sendJpeg(reply, reports.photo(req.params.id, false), 'public, max-age=3600'),
  );
};

export const staffReportRoutes: FastifyPluginAsyncTypebox<{ reports: ReportsService; cfg: AlertsConfig }> = async (
  app,
  { reports, cfg },
) => {
  const who = staffAuth(app as never, cfg.staff);
  app.get(
    '/v1/staff/reports',
    {
      schema: {
        querystring: Type.Object(
          { status: Type.Optional(Type.Enum([...REPORT_STATUSES])) },
          { additionalProperties: false },
        ),
        response: { 200: StaffReportList },
      },
    },
    async (req) => reports.list(req.query.status),
  );
  app.get(
    '/v1/staff/reports/:id',
    { schema: { params: IdParams, response: { 200: StaffReportDetail } } },
    async (req) => reports.detail(req.params.id),
  );
  app.get('/v1/staff/reports/:id/photo', { schema: { params: IdParams } }, async (req, reply) =>
    sendJpeg(reply, reports.photo(req.params.id, true), 'private, no-store'),
  );
  // An approval without a body (curl -X POST) is one without a note.
  app.addHook('preValidation', async (req) => {
    if (req.method === 'POST' && (req.body === undefined || req.body === null)) req.body = {};
  });
  app.post(
    '/v1/staff/reports/:id/approve',
    { schema: { params: IdParams, body: ReportApproveBody, response: { 200: ReportModerated } } },
    async (req) => reports.approve(req.params.id, who(req).id, req.body.note),
  );
  app.post(
    '/v1/staff/reports/:id/reject',
    { schema: { params: IdParams, body: ReportRejectBody, response: { 200: ReportModerated } } },
    async (req) => reports.reject(req.params.id, who(req).id, req.body.reason),
  );
  app.post(
    '/v1/staff/reports/:id/merge',
    { schema: { params: IdParams, body: ReportMergeBody, response: { 200: ReportModerated } } },
    async (req) => reports.merge(req.params.id, req.body.into, who(req).id, req.body.note),
  );
};
