import { Readable } from 'node:stream';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import {
  EXPORT_MEDIA_TYPES,
  ExportBody,
  ExportQuery,
  errorResponses,
  NotModified,
  RollupExportFile,
  RollupExportQuery,
} from '../../schemas';
import { licenceLinks } from '../../util/http';

/** GET /v1/exports/readings: CSV, JSON, NDJSON or GeoJSON, streamed from the store in pages. */
export const exportRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { city, exports, rollupExports, config } = app.cnx;
  const body = { schema: ExportBody };

  app.get(
    '/exports/readings',
    {
      exposeHeadRoute: false,
      config: { rateLimit: { max: config.rateLimit.exportMax, timeWindow: config.rateLimit.windowMs } },
      schema: {
        tags: ['exports'],
        operationId: 'exportReadings',
        summary: 'Download readings as CSV, JSON, NDJSON or GeoJSON',
        description:
          'Streamed from the store in pages, so any range up to the limit works without loading it. CSV is RFC ' +
          '4180 (CRLF line ends): the header is the first line, then one line per reading, no comment lines; ' +
          "metric columns carry their unit (`pm25_ugm3`) and every number is at its metric's precision " +
          `(GET /v1/meta). The licence (${city.licence.id}) and attribution are in the response headers ` +
          '(`Link: <…>; rel="license"`, `X-Data-Licence`, `X-Data-Attribution`), in GET /v1/meta, in the ' +
          '`meta` member of JSON and GeoJSON and on the first line of NDJSON. ' +
          `At most ${config.limits.exportMaxDays} days per export; ${config.rateLimit.exportMax} exports per ` +
          'rate-limit window. Past ranges (ending more than an hour ago) carry an ETag.',
        querystring: ExportQuery,
        response: {
          200: {
            description: 'The export file, streamed (Content-Disposition: attachment)',
            content: {
              'text/csv': body,
              'application/json': body,
              'application/x-ndjson': body,
              'application/geo+json': body,
            },
          },
          ...NotModified,
          ...errorResponses(404),
        },
      },
    },
    async (req, reply) => {
      const plan = exports.plan(req.query);
      reply.header('content-disposition', `attachment; filename="${plan.filename}"`);
      licenceLinks(reply, city.licence);
      if (app.cnx.series.settled(plan.to)) {
        // A past range changes only if late or replayed readings arrive: the count is a cheap detector.
        const tag = `W/"${plan.fingerprint}-${await exports.count(plan)}"`;
        reply.header('etag', tag).header('cache-control', 'public, max-age=3600');
        const inm = req.headers['if-none-match'];
        if (inm === tag || inm === tag.slice(2)) return reply.code(304).send(null);
      } else reply.header('cache-control', 'no-cache');
      const chunks = await exports.open(plan);
      const stream = Readable.from(chunks, { objectMode: false });
      stream.on('error', (err) => req.log.error({ err }, 'export stream failed'));
      // The body is a stream (no serialisation): the string type is only the schema's description of it.
      return reply.type(EXPORT_MEDIA_TYPES[plan.format]).send(stream as unknown as string);
    },
  );

  app.get(
    '/exports/rollups',
    {
      exposeHeadRoute: false,
      config: { rateLimit: { max: config.rateLimit.exportMax, timeWindow: config.rateLimit.windowMs } },
      schema: {
        tags: ['exports'],
        operationId: 'exportRollups',
        summary: 'Download hourly or daily aggregates over long ranges as JSON, NDJSON or CSV',
        description:
          'mean/min/max/count/flagged and coverage of the usable readings (the quality policy) per station, metric and ' +
          'local hour or day, read from the stored rollups (kept for good; raw readings are kept a limited time), ' +
          `streamed station by station. At most ${config.limits.seriesMaxDays} days per export. Buckets not rolled up ` +
          'yet (the last minutes) are not included: `meta.rolledUpUntil` and the `X-Rolled-Up-Until` header say up ' +
          'to where the file is complete. CSV is RFC 4180 (CRLF line ends), the header first and no comment lines, ' +
          'one line per station and bucket with the unit in the column names (`pm25_mean_ugm3`, `pm25_complete_pct`). ' +
          'Licence and attribution in the response headers (`Link: <…>; rel="license"`, `X-Data-Licence`, ' +
          '`X-Data-Attribution`) and in `meta`.',
        querystring: RollupExportQuery,
        response: {
          200: {
            description: 'The export file, streamed (Content-Disposition: attachment)',
            content: {
              'application/json': { schema: RollupExportFile },
              'application/x-ndjson': body,
              'text/csv': body,
            },
          },
          ...NotModified,
          ...errorResponses(404),
        },
      },
    },
    async (req, reply) => {
      const plan = rollupExports.plan(req.query);
      const until = await rollupExports.rolledUpUntil(plan);
      reply.header('content-disposition', `attachment; filename="${plan.filename}"`);
      licenceLinks(reply, city.licence);
      // A CSV file has no meta: where the rollups are complete travels in a header, as the licence does.
      if (until > 0) reply.header('x-rolled-up-until', new Date(until).toISOString());
      // The rows change when the rollup moves on or recomputes late hours: the state is the detector.
      const tag = `W/"${plan.fingerprint}-${until}"`;
      reply.header('etag', tag).header('cache-control', 'public, max-age=300');
      const inm = req.headers['if-none-match'];
      if (inm === tag || inm === tag.slice(2)) return reply.code(304).send(null);
      const stream = Readable.from(await rollupExports.open(plan, until), { objectMode: false });
      stream.on('error', (err) => req.log.error({ err }, 'export stream failed'));
      return reply.type(EXPORT_MEDIA_TYPES[plan.format]).send(stream as unknown as string);
    },
  );
};
