/** Public, no personal data: current and recent alerts, the rules, the Web Push VAPID key. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { AlertsConfig } from '../config';
import type { Evaluator } from '../evaluator';
import type { AlertStore } from '../store';
import { publicAlertList } from './views';

export const publicRoutes: FastifyPluginAsyncTypebox<{
  store: AlertStore;
  evaluator: Evaluator;
  cfg: AlertsConfig;
  now: () => number;
}> = async (app, { store, evaluator, cfg, now }) => {
  app.get('/v1/alerts', async () => publicAlertList(store, evaluator, now(), cfg.recentAlertsHours));
  app.get('/v1/alerts/rules', async () => ({ rules: evaluator.rules }));
  app.get('/v1/webpush/vapid-public-key', async () => ({ publicKey: cfg.vapid?.publicKey ?? '' }));
};
