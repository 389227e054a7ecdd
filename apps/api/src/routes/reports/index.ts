import { MAX_PHOTO_BASE64 } from '@cnx/protocol';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import { ApiError } from '../../errors';
import {
  errorResponses,
  NoQuery,
  ok,
  ReportAccepted,
  ReportFeatureCollection,
  ReportIdParams,
  ReportListQuery,
  ReportRequest,
} from '../../schemas';
import { cacheFor } from '../../util/http';

/** The JSON body of a report with the largest photo (base64), with room for the other fields. */
export const REPORT_BODY_LIMIT = MAX_PHOTO_BASE64 + 16 * 1024;

/**
 * Citizen reports (issue 12 item 3), forwarded to the alerts service, which owns them (apps/alerts,
 * API_ALERTS_URL). No account: a report is limited per client (API_REPORT_RATE_LIMIT_MAX an hour here,
 * ALERTS_REPORT_RATE_LIMIT_MAX there). Approved reports are open data: GET /v1/reports (GeoJSON), their
 * photos re-encoded without metadata, and `event: report` on GET /v1/stream.
 */
export const reportRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { alerts, config } = app.cnx;
  const tags = ['reports'];

  app.addHook('onRequest', async () => {
    if (!alerts) throw new ApiError('alerts_unavailable', 'reports are off: API_ALERTS_URL is not set on this API');
  });

  app.post(
    '/reports',
    {
      bodyLimit: REPORT_BODY_LIMIT,
      config: { rateLimit: { max: config.rateLimit.reportMaxPerHour, timeWindow: 3_600_000 } },
      schema: {
        tags,
        operationId: 'createReport',
        summary: 'Report smoke, open burning, canal flooding or polluted water (no account)',
        description:
          'A point (lat/lon inside the city), a category, a short text (≤ 500 characters) and an optional photo ' +
          '(base64 JPEG, PNG or WebP, ≤ 4 MiB; the type is read from the bytes). The photo is re-encoded as JPEG ' +
          'without metadata (the camera position is dropped). Staff check every report; approved ones appear in ' +
          `GET /v1/reports and on the live stream. At most ${config.rateLimit.reportMaxPerHour} reports an hour ` +
          'per client. The client address is not stored.',
        querystring: NoQuery,
        body: ReportRequest,
        response: { 202: ok(ReportAccepted, 'Received: staff will check it'), ...errorResponses(413, 415) },
      },
    },
    async (request, reply) => {
      const out = await alerts!.forward(
        { method: 'POST', path: '/v1/reports', body: request.body, requestId: request.id, clientIp: request.ip },
        request.log,
      );
      return reply
        .code(202)
        .header('cache-control', 'no-store')
        .send(out as never);
    },
  );

  app.get(
    '/reports',
    {
      schema: {
        tags,
        operationId: 'listReports',
        summary: 'Approved citizen reports as GeoJSON (open data, no personal data)',
        description:
          'A FeatureCollection of points ([lon, lat], 4 decimals): category with its Thai and English name, the ' +
          'approved text, when it was reported and approved, the photo URL (re-encoded JPEG) and how many duplicate ' +
          'reports were merged into it. In pages counted back from the newest approval (`limit`, at most 1000, and ' +
          '`page`; `meta.found` counts all), oldest first within a page. Follow GET /v1/stream (event: report) for new ones.',
        querystring: ReportListQuery,
        response: {
          200: {
            description: 'Approved reports',
            content: { 'application/geo+json': { schema: ReportFeatureCollection } },
          },
          ...errorResponses(),
        },
      },
    },
    async (request, reply) => {
      // Both are set: the validator applies the schema's defaults.
      const { limit, page } = request.query;
      const path = `/v1/reports?limit=${limit}&page=${page}`;
      const out = await alerts!.forward({ method: 'GET', path, requestId: request.id }, request.log);
      cacheFor(reply, 10);
      return reply.type('application/geo+json').send(out as never);
    },
  );

  app.get(
    '/reports/:reportId/photo',
    {
      schema: {
        tags,
        operationId: 'getReportPhoto',
        summary: "An approved report's photo: JPEG, re-encoded, no metadata",
        params: ReportIdParams,
        querystring: NoQuery,
        response: {
          200: {
            description: 'The photo',
            content: { 'image/jpeg': { schema: Type.String({ contentEncoding: 'binary' }) } },
          },
          ...errorResponses(404),
        },
      },
    },
    async (request, reply) => {
      const jpeg = await alerts!.forwardJpeg(
        { method: 'GET', path: `/v1/reports/${request.params.reportId}/photo`, requestId: request.id },
        request.log,
      );
      cacheFor(reply, 3600);
      return reply
        .type('image/jpeg')
        .header('x-content-type-options', 'nosniff')
        .send(jpeg as never);
    },
  );
};
