import type { Logger } from '@cnx/runtime';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';

export interface HealthReport {
  status: 'ok' | 'degraded' | 'down';
  checks: Record<string, { ok: boolean; detail?: unknown }>;
}

/**
 * The gateway's operator endpoints (later transports, airrohr HTTP push and Modbus status, register
 * routes here too):
 *   GET /livez    liveness: the process and its event loop answer (always 200; never checks the
 *                 broker or the store, so an outage of either never restart-loops the gateway)
 *   GET /readyz   readiness: 200 only while it can do its job (broker connected, store writing,
 *                 spool not full), else 503 with the same report as /health
 *   GET /health   the full report: 200 ok/degraded, 503 down (unchanged)
 *   GET /metrics  Prometheus text
 */
export function buildHttp(deps: {
  logger: Logger;
  registry: Registry;
  health: () => Promise<HealthReport>;
}): FastifyInstance {
  const app = Fastify({
    loggerInstance: deps.logger.child({ component: 'http' }) as FastifyBaseLogger,
    bodyLimit: 64 * 1024,
  });
  app.get('/livez', { logLevel: 'warn' }, async (_req, reply) =>
    reply.header('cache-control', 'no-store').send({ status: 'ok', uptimeSeconds: Math.round(process.uptime()) }),
  );
  app.get('/readyz', { logLevel: 'warn' }, async (_req, reply) => {
    const report = await deps.health();
    return reply
      .code(report.status === 'ok' ? 200 : 503)
      .header('cache-control', 'no-store')
      .send(report);
  });
  app.get('/health', { logLevel: 'warn' }, async (_req, reply) => {
    const report = await deps.health();
    return reply.code(report.status === 'down' ? 503 : 200).send(report);
  });
  app.get('/metrics', { logLevel: 'warn' }, async (_req, reply) => {
    reply.header('content-type', deps.registry.contentType);
    return deps.registry.metrics();
  });
  return app as unknown as FastifyInstance;
}
