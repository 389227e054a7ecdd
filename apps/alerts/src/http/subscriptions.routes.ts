/**
 * Citizen subscriptions (issue 12), served to the public through the API (apps/api forwards here):
 *   POST   /v1/subscriptions          ask (202, the same answer whether or not the address is known)
 *   POST   /v1/subscriptions/confirm  double opt-in with the token from the confirmation message
 *   GET    /v1/subscription           the subscription of `Authorization: Bearer <token>`
 *   PATCH  /v1/subscription           change scope, language, threshold, quiet hours, cap, rules
 *   DELETE /v1/subscription           delete it and its personal data
 *   POST   /v1/unsubscribe?token=     one-click unsubscribe (RFC 8058; form or JSON body or none)
 * New subscriptions are limited per client (ALERTS_SUBSCRIBE_RATE_LIMIT_MAX an hour), confirmations
 * per contact address (subscriptions.service.ts).
 */
import {
  SubscriptionAccepted,
  SubscriptionEnded,
  SubscriptionRequest,
  SubscriptionUpdate,
  SubscriptionView,
  TokenBody,
} from '@cnx/protocol';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import Type from 'typebox';
import type { AlertsConfig } from '../config';
import { AlertsError } from '../errors';
import type { SubscriptionService } from '../subscriptions.service';

export const ACCEPTED_MESSAGE =
  'If this address can receive our messages, a confirmation is on its way; alerts start once it is confirmed.';
const TOKEN = /^Bearer ([A-Za-z0-9_-]{16,128})$/;

/** The subscription token of `Authorization: Bearer <token>`, or the one 404. */
export const tokenOf = (req: FastifyRequest): string => {
  const m = TOKEN.exec(req.headers.authorization ?? '');
  if (!m)
    throw new AlertsError(
      'subscription_not_found',
      'send the token of the subscription as Authorization: Bearer <token>',
    );
  return m[1]!;
};

export const subscriptionRoutes: FastifyPluginAsyncTypebox<{
  subscriptions: SubscriptionService;
  cfg: AlertsConfig;
}> = async (app, { subscriptions, cfg }) => {
  app.addHook('onSend', async (_req, reply) => {
    reply.header('cache-control', 'no-store');
  });
  app.post(
    '/v1/subscriptions',
    {
      config: { rateLimit: { max: cfg.rateLimit.subscribeMaxPerHour, timeWindow: 3_600_000 } },
      schema: { body: SubscriptionRequest, response: { 202: SubscriptionAccepted } },
    },
    async (req, reply) => {
      const out = subscriptions.create(req.body);
      return reply.code(202).send({ status: 'pending', message: ACCEPTED_MESSAGE, ...out });
    },
  );
  app.post(
    '/v1/subscriptions/confirm',
    { schema: { body: TokenBody, response: { 200: SubscriptionView } } },
    async (req) => subscriptions.confirm(req.body.token),
  );
  app.get('/v1/subscription', { schema: { response: { 200: SubscriptionView } } }, async (req) =>
    subscriptions.view(tokenOf(req)),
  );
  app.patch(
    '/v1/subscription',
    { schema: { body: SubscriptionUpdate, response: { 200: SubscriptionView } } },
    async (req) => subscriptions.update(tokenOf(req), req.body),
  );
  app.delete('/v1/subscription', { schema: { response: { 200: SubscriptionEnded } } }, async (req) => {
    subscriptions.remove(tokenOf(req));
    return { status: 'deleted' as const };
  });
  app.post(
    '/v1/unsubscribe',
    {
      schema: {
        querystring: Type.Object({ token: TokenBody.properties.token }, { additionalProperties: false }),
        response: { 200: SubscriptionEnded },
      },
    },
    async (req) => {
      subscriptions.unsubscribe(req.query.token);
      return { status: 'unsubscribed' as const };
    },
  );
};
