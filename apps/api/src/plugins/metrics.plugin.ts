import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

declare module 'fastify' {
  interface FastifyInstance {
    metrics: ApiMetrics;
  }
}

export interface ApiMetrics {
  registry: Registry;
  streamsOpen: Gauge;
  streamEvents: Counter<'outcome'>;
  busMessages: Counter<'outcome'>;
}

/**
 * Prometheus metrics (prom-client, own registry): process defaults, requests by route template and
 * status class (never by raw URL: unbounded label values), durations, live streams and the bus.
 */
export const metricsPlugin = fp(async (app: FastifyInstance, opts: { nowViewReadings?: () => number }) => {
  const registry = new Registry();
  const nowViewReadings = opts.nowViewReadings;
  new Gauge({
    name: 'api_now_view_readings',
    help: 'Readings held by the in-memory "now" view (0 while the views read the store: no bus, or not built yet)',
    registers: [registry],
    collect() {
      this.set(nowViewReadings?.() ?? 0);
    },
  });
  collectDefaultMetrics({ register: registry, prefix: 'api_' });
  const requests = new Counter({
    name: 'api_http_requests_total',
    help: 'HTTP requests by method, route template and status code',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'api_http_request_duration_seconds',
    help: 'HTTP request duration by route template',
    labelNames: ['method', 'route'] as const,
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  const metrics: ApiMetrics = {
    registry,
    streamsOpen: new Gauge({ name: 'api_live_streams', help: 'Open live (SSE) streams', registers: [registry] }),
    streamEvents: new Counter({
      name: 'api_live_events_total',
      help: 'Live stream events by outcome (sent, dropped for a slow client)',
      labelNames: ['outcome'] as const,
      registers: [registry],
    }),
    busMessages: new Counter({
      name: 'api_bus_messages_total',
      help: 'Normalised readings from the bus by outcome (accepted, invalid, duplicate, foreign, not_live: older than the live window)',
      labelNames: ['outcome'] as const,
      registers: [registry],
    }),
  };
  app.decorate('metrics', metrics);
  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    requests.inc({ method: request.method, route, status: String(reply.statusCode) });
    duration.observe({ method: request.method, route }, reply.elapsedTime / 1000);
  });
});
