import type { Logger } from '@cnx/runtime';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';

export interface HealthReport {
  status: 'ok' | 'degraded' | 'down';
  checks: Record<string, { ok: boolean; detail?: unknown }>;
}

/**
 * The gateway's operator endpoints: GET /health (200 ok/degraded, 503 down) and GET /metrics
 * (Prometheus text). Later transports (airrohr HTTP push, Modbus status) register routes here too.
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
