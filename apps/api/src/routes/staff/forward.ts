import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ApiError, staffUnauthorized } from '../../errors';
import type { AlertsForwarder } from '../../services/alerts.client';

const BEARER = /^Bearer [\x21-\x7e]{1,500}$/i;

/**
 * How every staff route (alerts, reports) reaches the alerts service with the staff member's own
 * credential: the `Authorization: Bearer <token>` header is checked for shape here and forwarded
 * unchanged (never logged); the alerts service checks the token itself, and its answers come back in
 * the API's error catalogue (AlertsForwarder). Without API_ALERTS_URL every staff route answers 503.
 */
export interface StaffForwarder {
  /** The alerts service's JSON answer to `method path`, with the request's body on POST. */
  json(request: FastifyRequest, method: 'GET' | 'POST', path: string): Promise<never>;
  /** A JPEG the alerts service serves to staff (a report's photo). */
  jpeg(request: FastifyRequest, path: string): Promise<Buffer>;
}

/**
 * Hooks the staff credential gate into a route plugin and returns its forwarder. onRequest: refused
 * before the body is read when the feature is off or no Bearer credential is given; an action without
 * a body (curl -X POST) is an action without a note; no answer is cached.
 */
export function staffForwarding(app: FastifyInstance, alerts: AlertsForwarder | undefined): StaffForwarder {
  app.addHook('onRequest', async (request) => {
    if (!alerts)
      throw new ApiError('alerts_unavailable', 'staff routes are disabled: API_ALERTS_URL is not set on this API');
    const auth = request.headers.authorization;
    if (!auth) throw staffUnauthorized('missing');
    if (!BEARER.test(auth)) throw staffUnauthorized('not_bearer');
  });
  app.addHook('preValidation', async (request) => {
    if (request.method === 'POST' && (request.body === undefined || request.body === null)) request.body = {};
  });
  app.addHook('onSend', async (_req, reply) => {
    reply.header('cache-control', 'no-store');
  });

  const target = (request: FastifyRequest) => ({
    authorization: request.headers.authorization!,
    requestId: request.id,
    clientIp: request.ip,
  });
  return {
    json: async (request, method, path) =>
      (await alerts!.forward(
        { method, path, ...target(request), body: method === 'POST' ? request.body : undefined },
        request.log,
      )) as never,
    jpeg: (request, path) => alerts!.forwardJpeg({ method: 'GET', path, ...target(request) }, request.log),
  };
}
