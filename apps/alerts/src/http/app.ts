/**
 * The alerts service's HTTP API as a plugin tree (docs/architecture.md house style 5): errors and
 * TypeBox validation, a per-client rate limit (@fastify/rate-limit; the client is X-Forwarded-For
 * from a trusted proxy, i.e. the public API forwarding a citizen's request), then the route groups:
 * operator endpoints (GET /livez: the process answers, always 200; GET /readyz: 503 while the bus is
 * down; GET /health; GET /metrics), public alerts, citizen subscriptions, citizen
 * reports and the staff API. Contact details never leave this service through any route.
 */
import type { Logger } from '@cnx/runtime';
import rateLimit from '@fastify/rate-limit';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';
import type { AlertsConfig } from '../config';
import { AlertsError } from '../errors';
import type { Evaluator } from '../evaluator';
import type { PrivacyService } from '../privacy';
import type { ReportsService } from '../reports/reports.service';
import type { AlertStore } from '../store';
import type { SubscriptionService } from '../subscriptions.service';
import { errorsPlugin } from './errors.plugin';
import { privacyRoutes } from './privacy.routes';
import { publicRoutes } from './public.routes';
import { publicReportRoutes, staffReportRoutes } from './reports.routes';
import { staffRoutes } from './staff.routes';
import { subscriptionRoutes } from './subscriptions.routes';

export interface HealthReport {
  status: 'ok' | 'degraded' | 'down';
  /** The sender lease (lease.ts): the leader evaluates and sends; a standby answers HTTP only. */
  role?: 'leader' | 'standby';
  checks: Record<string, { ok: boolean; detail?: unknown }>;
}

export interface HttpDeps {
  logger: Logger;
  registry: Registry;
  health: () => Promise<HealthReport>;
  store: AlertStore;
  evaluator: Evaluator;
  cfg: AlertsConfig;
  subscriptions: SubscriptionService;
  privacy: PrivacyService;
  reports: ReportsService;
  now?: () => number;
}

/** Tokens ride in query strings (RFC 8058 one-click links): never in a log line. */
const redactUrl = (url: string) => url.replace(/([?&]token=)[^&]*/g, '$1[redacted]');

export function buildHttp(deps: HttpDeps): FastifyInstance {
  const { store, evaluator, cfg } = deps;
  const now = deps.now ?? Date.now;
  const logger = deps.logger.child(
    { component: 'http' },
    {
      serializers: {
        req: (req: { method: string; url: string; id: string }) => ({ method: req.method, url: redactUrl(req.url) }),
      },
    },
  );
  const app = Fastify({
    loggerInstance: logger as FastifyBaseLogger,
    bodyLimit: 64 * 1024,
    trustProxy: cfg.trustProxy,
  }).withTypeProvider<TypeBoxTypeProvider>();

  app.register(errorsPlugin);
  // RFC 8058 one-click unsubscribe posts `List-Unsubscribe=One-Click` as a form.
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) =>
    done(null, Object.fromEntries(new URLSearchParams(String(body)))),
  );
  app.register(rateLimit, {
    global: true,
    max: cfg.rateLimit.max,
    timeWindow: cfg.rateLimit.windowMs,
    cache: 100_000,
    errorResponseBuilder: (_req, ctx) =>
      new AlertsError('rate_limited', `rate limit of ${ctx.max} requests exceeded; retry in ${ctx.after}`, undefined, {
        'retry-after': String(Math.ceil(ctx.ttl / 1000)),
      }),
  });

  app.get('/livez', { logLevel: 'warn', config: { rateLimit: false } }, async (_req, reply) =>
    reply.header('cache-control', 'no-store').send({ status: 'ok', uptimeSeconds: Math.round(process.uptime()) }),
  );
  app.get('/readyz', { logLevel: 'warn', config: { rateLimit: false } }, async (_req, reply) => {
    const report = await deps.health();
    return reply
      .code(report.status === 'ok' ? 200 : 503)
      .header('cache-control', 'no-store')
      .send(report);
  });
  app.get('/health', { logLevel: 'warn', config: { rateLimit: false } }, async (_req, reply) => {
    const report = await deps.health();
    return reply.code(report.status === 'down' ? 503 : 200).send(report);
  });
  app.get('/metrics', { logLevel: 'warn', config: { rateLimit: false } }, async (_req, reply) => {
    reply.header('content-type', deps.registry.contentType);
    return deps.registry.metrics();
  });

  app.register(publicRoutes, { store, evaluator, cfg, now });
  app.register(subscriptionRoutes, { subscriptions: deps.subscriptions, cfg });
  app.register(privacyRoutes, { privacy: deps.privacy });
  app.register(staffRoutes, { store, evaluator, staff: cfg.staff, now });
  app.register(publicReportRoutes, { reports: deps.reports, cfg });
  app.register(staffReportRoutes, { reports: deps.reports, cfg });
  return app as unknown as FastifyInstance;
}
