/**
 * A citizen's own data (Thailand's PDPA), with the token of a manage link, as the other subscription
 * routes (the API forwards here):
 *   GET    /v1/subscription/data   everything held about the token's contact, as JSON (privacy.ts)
 *   DELETE /v1/subscription/data   erase all of it: every subscription of that contact
 * An unknown, expired or ended token gets the one 404 `subscription_not_found`; an erasure answers
 * `{status: 'erased'}` whatever was held.
 */
import { PersonalDataErased, PersonalDataExport } from '@cnx/protocol';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { PrivacyService } from '../privacy';
import { tokenOf } from './subscriptions.routes';

export const privacyRoutes: FastifyPluginAsyncTypebox<{ privacy: PrivacyService }> = async (app, { privacy }) => {
  app.addHook('onSend', async (_req, reply) => {
    reply.header('cache-control', 'no-store');
  });
  app.get('/v1/subscription/data', { schema: { response: { 200: PersonalDataExport } } }, async (req) =>
    privacy.export(tokenOf(req)),
  );
  app.delete('/v1/subscription/data', { schema: { response: { 200: PersonalDataErased } } }, async (req) =>
    privacy.erase(tokenOf(req)),
  );
};
