import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import {
  errorResponses,
  NotModified,
  ok,
  ReadingsPage,
  readingsQuery,
  Series,
  StationParams,
  seriesQuery,
} from '../../schemas';
import { ViewCache } from '../../services/cache';
import { EncodedBody } from '../../util/encoded-body';
import { cacheFor, licenceLinks } from '../../util/http';

/** Series answers kept (serialised, with their ETag): a year of hours is ~1.7 MB. */
const SERIES_CACHE_ENTRIES = 32;

/** GET /v1/stations/{stationId}/series (aggregated) and /readings (raw, keyset pages). */
export const seriesRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { city, series, config, clock } = app.cnx;
  const { limits } = config;
  // A series with explicit from and to is the same bytes for everyone asking within the cache TTL
  // (API_CACHE_TTL_S, as the "now" views): kept serialised with its ETag, so a popular chart (a year
  // of hours from the rollups) costs what sending its bytes costs. Concurrent misses share one query.
  const bodies = new ViewCache(config.cacheTtlMs, clock, SERIES_CACHE_ENTRIES);

  app.get(
    '/stations/:stationId/series',
    {
      schema: {
        tags: ['series'],
        operationId: 'getStationSeries',
        summary: 'Time series of one metric, aggregated into 5 min, 1 h or 1 d buckets',
        description:
          'mean/min/max/count per bucket with coverage (expected vs observed samples, as OpenAQ) and the number of ' +
          'QC-flagged samples. `metric=pm25` is the raw sensor PM2.5, `metric=pm25_corrected` the EPA-corrected one. ' +
          `At most ${limits.maxPoints} buckets and ${limits.seriesMaxDays} days per request: interval=auto picks the ` +
          'finest interval that fits, an explicit interval that does not fit is refused with 400 range_too_large. ' +
          'Hourly and daily buckets are local clock hours and days of the city.',
        params: StationParams,
        querystring: seriesQuery(limits),
        response: { 200: ok(Series, 'The series'), ...NotModified, ...errorResponses(404) },
      },
    },
    async (req, reply) => {
      const q = req.query;
      if (config.cacheTtlMs === 0 || q.from === undefined || q.to === undefined) {
        const body = await series.series(req.params.stationId, q);
        cacheFor(reply, series.settled(Date.parse(body.meta.to)) ? 3600 : 60);
        licenceLinks(reply, city.licence);
        return body;
      }
      const key = JSON.stringify([req.params.stationId, q.metric, q.interval, q.from, q.to, q.qc]);
      const hit = await bodies.get(key, async () => {
        const body = await series.series(req.params.stationId, q);
        // Bytes, not a string: nothing is encoded again per request (a year of hours is ~1.8 MB),
        // and its brotli/gzip encodings are made once (encoded-body.ts).
        return { body: new EncodedBody(Buffer.from(String(reply.serialize(body)))), to: Date.parse(body.meta.to) };
      });
      cacheFor(reply, series.settled(hit.to) ? 3600 : 60);
      licenceLinks(reply, city.licence);
      // Bytes with a JSON content type are sent as they are (no second serialisation); @fastify/etag
      // keeps the ETag set here.
      return hit.body.send(req, reply);
    },
  );

  app.get(
    '/stations/:stationId/readings',
    {
      schema: {
        tags: ['series'],
        operationId: 'listStationReadings',
        summary: 'Raw readings of one station, with QC flags and corrections, in pages',
        description:
          `Every reading as stored: values, corrections (method ids) and QC flags; filter with qc. Pages of at most ` +
          `${limits.maxPoints} readings, in time order; follow meta.next (keyset cursor) for the next page. ` +
          `At most ${limits.rawMaxDays} days per request; use /v1/exports/readings for files.`,
        params: StationParams,
        querystring: readingsQuery(limits),
        response: { 200: ok(ReadingsPage, 'One page of readings'), ...NotModified, ...errorResponses(404) },
      },
    },
    async (req, reply) => {
      const body = await series.readings(req.params.stationId, req.query);
      cacheFor(reply, series.settled(Date.parse(body.meta.to)) ? 3600 : 30);
      licenceLinks(reply, city.licence);
      return body;
    },
  );
};
