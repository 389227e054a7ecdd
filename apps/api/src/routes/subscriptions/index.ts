import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import { ApiError } from '../../errors';
import {
  ConfirmBody,
  errorResponses,
  NoQuery,
  ok,
  PersonalDataErased,
  PersonalDataExport,
  SubscriptionAccepted,
  SubscriptionEnded,
  SubscriptionHeaders,
  SubscriptionRequest,
  SubscriptionUpdate,
  SubscriptionView,
  UnsubscribeQuery,
  WebPushKey,
} from '../../schemas';

/**
 * Citizen alert subscriptions (issue 12), forwarded to the alerts service, which owns them and the
 * contact details. Double opt-in: POST /v1/subscriptions answers 202 the same way whether or not the
 * address is already subscribed (no enumeration); the confirmation message carries a token, the key to
 * confirm, read, change, delete and unsubscribe. Limits: API_SUBSCRIBE_RATE_LIMIT_MAX new subscriptions
 * an hour per client here, at most 3 confirmation messages per address a day in the alerts service.
 */
export const subscriptionRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { alerts, config } = app.cnx;
  const tags = ['alerts'];
  const security = [{ subscriptionToken: [] }];

  app.addHook('onRequest', async () => {
    if (!alerts)
      throw new ApiError('alerts_unavailable', 'subscriptions are off: API_ALERTS_URL is not set on this API');
  });
  app.addHook('onSend', async (_req, reply) => {
    reply.header('cache-control', 'no-store');
  });
  // RFC 8058: a mail provider's one-click unsubscribe is a form POST (`List-Unsubscribe=One-Click`).
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) =>
    done(null, Object.fromEntries(new URLSearchParams(String(body)))),
  );

  const forward = (
    request: FastifyRequest,
    method: 'GET' | 'POST' | 'PATCH' | 'DELETE',
    path: string,
    body?: unknown,
  ) =>
    alerts!.forward(
      {
        method,
        path,
        ...(request.headers.authorization ? { authorization: request.headers.authorization } : {}),
        body,
        requestId: request.id,
        clientIp: request.ip,
      },
      request.log,
    ) as never;

  app.post(
    '/subscriptions',
    {
      config: { rateLimit: { max: config.rateLimit.subscribeMaxPerHour, timeWindow: 3_600_000 } },
      schema: {
        tags,
        operationId: 'createSubscription',
        summary: 'Ask for alerts by email, LINE, Web Push or webhook (double opt-in)',
        description:
          'A confirmation goes to the address; alerts start once it is confirmed. The answer is the same whether or not ' +
          'the address is subscribed already, and at most 3 confirmations go to one address a day. webhook: the ' +
          'Standard Webhooks signing secret is in the answer, once.',
        querystring: NoQuery,
        body: SubscriptionRequest,
        response: { 202: ok(SubscriptionAccepted, 'Accepted: a confirmation is on its way'), ...errorResponses() },
      },
    },
    async (request, reply) => reply.code(202).send(await forward(request, 'POST', '/v1/subscriptions', request.body)),
  );

  app.post(
    '/subscriptions/confirm',
    {
      schema: {
        tags,
        operationId: 'confirmSubscription',
        summary: 'Confirm a subscription with the token from its confirmation message',
        querystring: NoQuery,
        body: ConfirmBody,
        response: { 200: ok(SubscriptionView, 'Confirmed'), ...errorResponses(404) },
      },
    },
    async (request) => forward(request, 'POST', '/v1/subscriptions/confirm', request.body),
  );

  const manage = { tags, security, headers: SubscriptionHeaders, querystring: NoQuery };
  app.get(
    '/subscription',
    {
      schema: {
        ...manage,
        operationId: 'getSubscription',
        summary: 'The subscription of a token (Authorization: Bearer <token>); the address masked',
        response: { 200: ok(SubscriptionView, 'The subscription'), ...errorResponses(404) },
      },
    },
    async (request) => forward(request, 'GET', '/v1/subscription'),
  );
  app.patch(
    '/subscription',
    {
      schema: {
        ...manage,
        operationId: 'updateSubscription',
        summary: 'Change where, what and when: scope, language, PM2.5 threshold, quiet hours, daily cap, rules',
        body: SubscriptionUpdate,
        response: { 200: ok(SubscriptionView, 'Changed'), ...errorResponses(404) },
      },
    },
    async (request) => forward(request, 'PATCH', '/v1/subscription', request.body),
  );
  app.delete(
    '/subscription',
    {
      schema: {
        ...manage,
        operationId: 'deleteSubscription',
        summary: 'Delete the subscription and its contact details',
        response: { 200: ok(SubscriptionEnded, 'Deleted'), ...errorResponses(404) },
      },
    },
    async (request) => forward(request, 'DELETE', '/v1/subscription'),
  );

  // Thailand's PDPA: a person's own data, with the token of their manage link (docs/privacy.md).
  app.get(
    '/subscription/data',
    {
      schema: {
        ...manage,
        operationId: 'exportSubscriptionData',
        summary: 'Everything held about the contact of this token, as JSON (all its subscriptions and deliveries)',
        description:
          'The contact unmasked, every subscription of that address (any status), the deliveries sent to them and ' +
          'the retention periods. An unknown, expired or ended token: 404 `subscription_not_found`.',
        response: { 200: ok(PersonalDataExport, 'The data held'), ...errorResponses(404) },
      },
    },
    async (request) => forward(request, 'GET', '/v1/subscription/data'),
  );
  app.delete(
    '/subscription/data',
    {
      schema: {
        ...manage,
        operationId: 'eraseSubscriptionData',
        summary: 'Erase everything held about the contact of this token: every subscription of that address',
        description:
          'Answers `{status: "erased"}` whatever was held (it never says how many subscriptions there were); ' +
          'the token stops working. Deliveries stay only as counts, linked to nobody.',
        response: { 200: ok(PersonalDataErased, 'Erased'), ...errorResponses(404) },
      },
    },
    async (request) => forward(request, 'DELETE', '/v1/subscription/data'),
  );

  app.post(
    '/unsubscribe',
    {
      schema: {
        tags,
        operationId: 'unsubscribe',
        summary: 'One-click unsubscribe (RFC 8058): the List-Unsubscribe link of every message',
        description: 'POST with the token in the query; a form body (List-Unsubscribe=One-Click), JSON or none.',
        querystring: UnsubscribeQuery,
        response: { 200: ok(SubscriptionEnded, 'Unsubscribed'), ...errorResponses(404) },
      },
    },
    async (request) => forward(request, 'POST', `/v1/unsubscribe?token=${encodeURIComponent(request.query.token)}`, {}),
  );

  app.get(
    '/subscriptions/webpush-key',
    {
      schema: {
        tags,
        operationId: 'getWebPushKey',
        summary: 'The VAPID public key to pass to PushManager.subscribe (applicationServerKey)',
        querystring: NoQuery,
        response: { 200: ok(WebPushKey, 'The key'), ...errorResponses() },
      },
    },
    async (request) => forward(request, 'GET', '/v1/webpush/vapid-public-key'),
  );
};
