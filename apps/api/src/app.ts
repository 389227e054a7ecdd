import { randomUUID } from 'node:crypto';
import type { CityPack } from '@cnx/city-pack';
import type { Logger } from '@cnx/runtime';
import type { ReadingStore } from '@cnx/store';
import etag from '@fastify/etag';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { ApiConfig } from './config';
import { authPlugin } from './plugins/auth.plugin';
import { errorsPlugin, frameworkErrors } from './plugins/errors.plugin';
import { metricsPlugin } from './plugins/metrics.plugin';
import { pressurePlugin } from './plugins/pressure.plugin';
import { securityPlugin } from './plugins/security.plugin';
import { swaggerPlugin } from './plugins/swagger.plugin';
import { adminRoutes } from './routes/admin';
import { alertRoutes } from './routes/alerts';
import { canalRoutes } from './routes/canal';
import { districtRoutes } from './routes/districts';
import { exportRoutes } from './routes/exports';
import { latestRoutes } from './routes/latest';
import { metaRoutes } from './routes/meta';
import { reportRoutes } from './routes/reports';
import { staffReportRoutes } from './routes/reports/staff';
import { seriesRoutes } from './routes/series';
import { staffRoutes } from './routes/staff';
import { stationRoutes } from './routes/stations';
import { streamRoutes } from './routes/stream';
import { subscriptionRoutes } from './routes/subscriptions';
import { AlertsForwarder } from './services/alerts.client';
import type { LiveSource } from './services/bus.service';
import { ViewCache } from './services/cache';
import { CanalService } from './services/canal.service';
import { CityContext } from './services/city';
import { DistrictService } from './services/district.service';
import { ExportService } from './services/export.service';
import { LATEST_FILTERS, NowService } from './services/now.service';
import { NowViewService, type ReadingFeed } from './services/now-view.service';
import { PublicAlerts } from './services/public-alerts.service';
import { ReadingSpanService } from './services/reading-span.service';
import { RollupExportService } from './services/rollup-export.service';
import { SeriesService } from './services/series.service';
import { StreamRegistry } from './services/streams';
import { BodyCache } from './util/body-cache';

export const API_VERSION = '1.0.0';

export interface AppDeps {
  config: ApiConfig;
  pack: CityPack;
  store: ReadingStore;
  /** The live stream's source; undefined: GET /v1/stream answers 503. */
  live?: LiveSource;
  logger: Logger;
  /** Clock for the "now" views (tests). */
  now?: () => number;
}

/** What the route plugins use, decorated on the instance as `app.cnx`. */
export interface ApiServices {
  config: ApiConfig;
  city: CityContext;
  store: ReadingStore;
  live: LiveSource | undefined;
  cache: ViewCache;
  /** Serialised bodies and ETags of the "now" routes, per variant, while the in-memory view serves. */
  bodies: BodyCache;
  now: NowService;
  spans: ReadingSpanService;
  series: SeriesService;
  districts: DistrictService;
  canal: CanalService;
  exports: ExportService;
  rollupExports: RollupExportService;
  clock: () => number;
  startedAt: number;
  publicUrl: string;
  streams: StreamRegistry;
  /** The alerts service behind the staff, alert and subscription routes; undefined without API_ALERTS_URL. */
  alerts: AlertsForwarder | undefined;
  /** Public alerts: the list (cached) and the stream's view of each alert event. */
  publicAlerts: PublicAlerts;
}

declare module 'fastify' {
  interface FastifyInstance {
    cnx: ApiServices;
  }
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,64}$/;

/**
 * Builds the API (not listening: see server.ts / main.ts). The plugin tree (docs/architecture.md house style 5):
 * external plugins first (errors/validation, load shedding, metrics, CORS + rate limit, ETag,
 * OpenAPI, keys), then one plugin per route group under routes/<group>/.
 */
export function buildApp(deps: AppDeps): FastifyInstance {
  const { config } = deps;
  const clock = deps.now ?? Date.now;
  // Subscription tokens ride in the one-click unsubscribe URL (RFC 8058): never in a log line.
  const logger = deps.logger.child(
    { component: 'http' },
    {
      serializers: {
        req: (req: { method: string; url: string }) => ({
          method: req.method,
          url: req.url.replace(/([?&]token=)[^&]*/g, '$1[redacted]'),
        }),
      },
    },
  );
  const app = Fastify({
    loggerInstance: logger as FastifyBaseLogger,
    bodyLimit: 16 * 1024,
    // A client must send its whole request within this (slow-request protection; SSE is unaffected).
    requestTimeout: 30_000,
    // Long ids must reach the schema (a clear 400), not fall off the router as a 404.
    routerOptions: { maxParamLength: 1000 },
    frameworkErrors,
    trustProxy: config.trustProxy,
    requestIdHeader: false,
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    },
  }).withTypeProvider<TypeBoxTypeProvider>();

  const city = new CityContext(deps.pack);
  const cache = new ViewCache(config.cacheTtlMs, clock);
  // With a bus, the "now" views come from memory (issue 14 item 3): rebuilt from the store at start,
  // kept up to date from the bus's readings batches.
  const feed = deps.live?.subscribeReadings ? (deps.live as ReadingFeed) : undefined;
  const view = feed
    ? new NowViewService(
        city,
        deps.store,
        feed,
        { lastSeenLookbackMs: config.lastSeenLookbackMs, latestFilters: LATEST_FILTERS },
        clock,
        deps.logger.child({ component: 'now-view' }),
      )
    : undefined;
  const now = new NowService(city, deps.store, cache, config, clock, view);
  const series = new SeriesService(city, deps.store, config.limits, clock);
  const canal = new CanalService(city, now, cache);
  // Without API_PUBLIC_URL, links are relative (the OpenAPI server is "/").
  const publicUrl = config.publicUrl ?? '';
  const services: ApiServices = {
    config,
    city,
    store: deps.store,
    live: deps.live,
    cache,
    bodies: new BodyCache(() => now.stamp()),
    now,
    spans: new ReadingSpanService(city, deps.store, cache, clock, feed),
    series,
    districts: new DistrictService(city, now, canal, clock),
    canal,
    exports: new ExportService(city, deps.store, series, config.limits, publicUrl),
    rollupExports: new RollupExportService(city, deps.store, series, config.limits),
    clock,
    startedAt: Date.now(),
    publicUrl,
    streams: new StreamRegistry(config.stream.maxStreams, config.stream.maxPerClient),
    alerts: undefined,
    publicAlerts: undefined as never,
  };
  services.alerts = config.alerts ? new AlertsForwarder(config.alerts.url, config.alerts.timeoutMs) : undefined;
  services.publicAlerts = new PublicAlerts(services.alerts, city, clock);
  // An alert event: the next GET /v1/alerts asks the alerts service again.
  const stopAlerts = deps.live?.subscribeAlerts?.(() => services.publicAlerts.invalidate());
  app.addHook('onClose', async () => {
    stopAlerts?.();
    services.spans.stop();
  });
  if (view) {
    app.addHook('onReady', () => view.start());
    app.addHook('onClose', () => view.stop());
  }
  app.decorate('cnx', services);
  // Set early, so error answers and hijacked (SSE) responses carry it too.
  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });

  // External plugins.
  app.register(errorsPlugin);
  app.register(pressurePlugin, { maxEventLoopDelayMs: config.maxEventLoopDelayMs });
  app.register(metricsPlugin, { nowViewReadings: () => view?.window?.size ?? 0 });
  app.register(securityPlugin, { rateLimit: config.rateLimit });
  app.register(etag, { weak: true });
  app.register(swaggerPlugin, {
    version: API_VERSION,
    publicUrl: publicUrl || '/',
    cityName: deps.pack.city.name.en,
    licence: city.licence,
    // The document's example ids are the city's own, so "try it" works on every pack.
    examples: {
      station: deps.pack.stations.find((s) => s.kind === 'air')?.id ?? deps.pack.stations[0]?.id ?? '',
      canalStation: deps.pack.flowOrder[0]?.stationId ?? '',
      district: deps.pack.districts.features[0]?.properties.id ?? '',
    },
  });
  app.register(authPlugin, { keys: config.adminKeys });

  // Routes.
  app.register(metaRoutes);
  app.register(stationRoutes, { prefix: '/v1' });
  app.register(latestRoutes, { prefix: '/v1' });
  app.register(seriesRoutes, { prefix: '/v1' });
  app.register(districtRoutes, { prefix: '/v1' });
  app.register(canalRoutes, { prefix: '/v1' });
  app.register(exportRoutes, { prefix: '/v1' });
  app.register(streamRoutes, { prefix: '/v1' });
  app.register(staffRoutes, { prefix: '/v1' });
  app.register(alertRoutes, { prefix: '/v1' });
  app.register(subscriptionRoutes, { prefix: '/v1' });
  app.register(reportRoutes, { prefix: '/v1' });
  app.register(staffReportRoutes, { prefix: '/v1' });
  app.register(adminRoutes, { prefix: '/admin' });
  return app as unknown as FastifyInstance;
}
