import { AQI_BANDS, LIVE_MAX_AGE_MS, METRIC_IDS, METRICS, QC_FLAG_LIST, QC_POLICY, QC_USES } from '@cnx/domain';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type, { type Static } from 'typebox';
import { errorResponses, Health, MAX_PAGE_LIMIT, MAX_RADIUS_M, Meta, NoQuery, NotModified, ok } from '../../schemas';
import { cacheFor, licenceLinks } from '../../util/http';

/** How long /health waits for the store before calling it down. */
const HEALTH_TIMEOUT_MS = 3000;

/** GET /v1/meta (city, licence, registry, limits), GET /health, GET /livez, GET /readyz and GET /metrics. */
export const metaRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { config, city, store } = app.cnx;

  app.get(
    '/v1/meta',
    {
      schema: {
        tags: ['meta'],
        operationId: 'getMeta',
        summary: 'City, licence, metrics, QC flags, AQI bands and limits',
        description: 'Everything a client needs to label and colour the data, and the limits that apply to it.',
        querystring: NoQuery,
        response: { 200: ok(Meta, 'API and city metadata'), ...NotModified, ...errorResponses() },
      },
    },
    async (_req, reply) => {
      cacheFor(reply, 3600);
      licenceLinks(reply, city.licence);
      const c = city.pack.city;
      const body: Static<typeof Meta> = {
        api: { version: '1', openapi: '/openapi.json', docs: '/docs' },
        city: {
          id: c.id,
          name: c.name,
          timezone: c.timezone,
          center: c.center,
          bbox: [...c.bbox],
          primaryAqi: c.thresholds.air.aqiScale,
          dataNotes: c.dataNotes,
        },
        licence: city.licence,
        metrics: METRIC_IDS.map((id) => ({
          id,
          unit: METRICS[id].unit,
          label: METRICS[id].label,
          decimals: METRICS[id].decimals,
        })),
        qcFlags: [...QC_FLAG_LIST],
        qcPolicy: QC_USES.map((use) => ({ use, what: QC_POLICY[use].what, exclude: [...QC_POLICY[use].exclude] })),
        liveWindowSeconds: LIVE_MAX_AGE_MS / 1000,
        aqiSchemes: {
          'th-pcd-2023': AQI_BANDS['th-pcd-2023'].map((b) => ({ ...b })),
          'us-epa-2024': AQI_BANDS['us-epa-2024'].map((b) => ({ ...b })),
        },
        limits: {
          ...config.limits,
          rateLimit: {
            max: config.rateLimit.max,
            windowSeconds: config.rateLimit.windowMs / 1000,
            exportMax: config.rateLimit.exportMax,
          },
          maxStreams: config.stream.maxStreams,
          maxStreamsPerClient: config.stream.maxPerClient,
          maxPageLimit: MAX_PAGE_LIMIT,
          maxRadiusM: MAX_RADIUS_M,
        },
      };
      return body;
    },
  );

  /** The report of GET /health and GET /readyz: down (503) when the store does not answer, degraded without the bus. */
  const healthReport = async () => {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<{ ok: false; detail: string }>((resolve) => {
      timer = setTimeout(
        () => resolve({ ok: false, detail: `no answer within ${HEALTH_TIMEOUT_MS} ms` }),
        HEALTH_TIMEOUT_MS,
      );
    });
    const s = await Promise.race([store.health().catch((e: Error) => ({ ok: false, detail: e.message })), timeout]);
    clearTimeout(timer);
    const live = app.cnx.live;
    const bus = !live
      ? { ok: true, detail: 'live stream disabled (API_LIVE=false)' }
      : { ok: live.connected, detail: live.connected ? 'connected' : 'not connected; reconnecting' };
    const status: 'ok' | 'degraded' | 'down' = !s.ok ? 'down' : bus.ok ? 'ok' : 'degraded';
    return {
      status,
      checks: { store: { ok: s.ok, ...(s.detail ? { detail: s.detail } : {}) }, bus },
      uptimeSeconds: Math.round((Date.now() - app.cnx.startedAt) / 1000),
      streams: app.cnx.streams.size,
    };
  };

  app.get(
    '/health',
    {
      logLevel: 'warn',
      // Operators need health and metrics most when the API is overloaded: never shed them.
      config: { rateLimit: false, pressureHandler: () => undefined },
      schema: {
        tags: ['meta'],
        operationId: 'getHealth',
        summary: 'Health of the API, its store and the bus',
        response: {
          200: ok(Health, 'ok or degraded (the live stream bus is down)'),
          503: ok(Health, 'down: the store is unreachable'),
          500: errorResponses()[500]!,
        },
      },
    },
    async (_req, reply) => {
      const report = await healthReport();
      reply.header('cache-control', 'no-store');
      return reply.code(report.status === 'down' ? 503 : 200).send(report);
    },
  );

  // Probes for process managers, kept out of the public API description (operators only):
  // liveness never looks at the store or the bus, so their outage never restarts the API; readiness is
  // 503 only while the store does not answer (the API still serves stored data while the bus is down).
  const probe = { logLevel: 'warn' as const, config: { rateLimit: false, pressureHandler: () => undefined } };
  app.get('/livez', { ...probe, schema: { hide: true } }, async (_req, reply) =>
    reply.header('cache-control', 'no-store').send({ status: 'ok', uptimeSeconds: Math.round(process.uptime()) }),
  );
  app.get('/readyz', { ...probe, schema: { hide: true } }, async (_req, reply) => {
    const report = await healthReport();
    reply.header('cache-control', 'no-store');
    return reply.code(report.status === 'down' ? 503 : 200).send(report);
  });

  app.get(
    '/metrics',
    {
      logLevel: 'warn',
      // Operators need health and metrics most when the API is overloaded: never shed them.
      config: { rateLimit: false, pressureHandler: () => undefined },
      schema: {
        tags: ['meta'],
        operationId: 'getMetrics',
        summary: 'Prometheus metrics',
        response: {
          200: {
            description: 'Prometheus text exposition format',
            content: { 'text/plain': { schema: Type.String() } },
          },
          500: errorResponses()[500]!,
        },
      },
    },
    async (_req, reply) => {
      const text = await app.metrics.registry.metrics();
      return reply.type(app.metrics.registry.contentType).header('cache-control', 'no-store').send(text);
    },
  );
};
