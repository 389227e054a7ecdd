/**
 * Operator endpoints (GET /health, GET /metrics, as in apps/gateway), the public alert list, citizen
 * subscriptions (double opt-in, one-click unsubscribe) and the staff API (Bearer credentials from
 * ALERTS_STAFF_FILE): list, acknowledge, resolve, audit trail, deliveries. Contact details never
 * leave this service through any route.
 */
import { randomBytes, randomInt, randomUUID } from 'node:crypto';
import type { Logger } from '@cnx/runtime';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';
import { pushSubscriptionProblem } from './channels/webpush.adapter';
import type { AlertsConfig } from './config';
import type { Evaluator } from './evaluator';
import { publicAlert, staffRoutes } from './staff.http';
import type { AlertStore } from './store';

export interface HealthReport {
  status: 'ok' | 'degraded' | 'down';
  checks: Record<string, { ok: boolean; detail?: unknown }>;
}

const CHANNELS = ['email', 'line', 'webhook', 'webpush'] as const;
const HHMM = /^([01]\d|2[0-3]):([0-5]\d)$/;
const toMin = (s: string) => Number(s.slice(0, 2)) * 60 + Number(s.slice(3));

export function buildHttp(deps: {
  logger: Logger;
  registry: Registry;
  health: () => Promise<HealthReport>;
  store: AlertStore;
  evaluator: Evaluator;
  cfg: AlertsConfig;
  channels: ReadonlySet<string>;
  kick: () => void;
  now?: () => number;
}): FastifyInstance {
  const { store, evaluator, cfg } = deps;
  const now = deps.now ?? Date.now;
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

  app.get('/v1/alerts', async () => ({ alerts: store.activeAlerts().map((a) => publicAlert(a, evaluator)) }));
  app.get('/v1/alerts/rules', async () => ({ rules: evaluator.rules }));

  app.post('/v1/subscriptions', async (req, reply) => {
    const b = (req.body ?? {}) as Record<string, unknown>;
    const problems: string[] = [];
    const channel = b.channel as (typeof CHANNELS)[number];
    if (!CHANNELS.includes(channel)) problems.push(`channel must be one of ${CHANNELS.join(', ')}`);
    else if (!deps.channels.has(channel)) problems.push(`channel ${channel} is not configured on this server`);
    const address = b.address;
    if (channel === 'email' && (typeof address !== 'string' || !/^[^\s@]+@[^\s@]+$/.test(address)))
      problems.push('address must be an email address');
    if (channel === 'line' && (typeof address !== 'string' || !/^U[0-9a-f]{32}$/.test(address)))
      problems.push('address must be a LINE user id (U + 32 hex)');
    if (channel === 'webhook' && (typeof address !== 'string' || !/^https?:\/\//.test(address)))
      problems.push('address must be an http(s) URL');
    if (channel === 'webpush') {
      const problem = pushSubscriptionProblem(address, cfg.webpushAllowHttp);
      if (problem) problems.push(`address ${problem}`);
    }
    let scopeType: 'station' | 'district' | 'city' = 'city';
    let scopeId = cfg.city;
    if (typeof b.station === 'string') {
      if (!evaluator.city.stations.has(b.station)) problems.push(`unknown station ${JSON.stringify(b.station)}`);
      scopeType = 'station';
      scopeId = b.station;
    } else if (typeof b.district === 'string') {
      if (!evaluator.city.districts.has(b.district)) problems.push(`unknown district ${JSON.stringify(b.district)}`);
      scopeType = 'district';
      scopeId = b.district;
    }
    const lang = b.lang ?? 'th';
    if (lang !== 'th' && lang !== 'en') problems.push('lang must be th or en');
    if (b.threshold !== undefined && (typeof b.threshold !== 'number' || !Number.isFinite(b.threshold)))
      problems.push('threshold must be a number');
    const q = b.quietHours as { start?: unknown; end?: unknown } | undefined;
    if (
      q !== undefined &&
      !(typeof q?.start === 'string' && HHMM.test(q.start) && typeof q.end === 'string' && HHMM.test(q.end))
    )
      problems.push('quietHours must be {start: "HH:MM", end: "HH:MM"} (Thai time)');
    const cap = b.dailyCap ?? cfg.defaultDailyCap;
    if (!Number.isInteger(cap) || (cap as number) < 1 || (cap as number) > 100)
      problems.push('dailyCap must be an integer 1..100');
    const rules = b.rules;
    if (
      rules !== undefined &&
      (!Array.isArray(rules) || rules.some((r) => typeof r !== 'string' || !evaluator.rule(r)))
    )
      problems.push('rules must be a list of rule ids');
    if (problems.length) return reply.code(400).send({ error: 'invalid_subscription', problems });

    const token = randomBytes(24).toString('base64url');
    const secret = channel === 'webhook' ? randomBytes(32).toString('base64url') : undefined;
    const contact = { address: channel === 'webpush' ? JSON.stringify(address) : (address as string), secret };
    const t = now();
    const id = store.tx(() => {
      const sid = store.insertSubscription({
        token,
        channel,
        address: JSON.stringify(contact),
        scope_type: scopeType,
        scope_id: scopeId,
        threshold: (b.threshold as number | undefined) ?? null,
        quiet_start: q ? toMin(q.start as string) : null,
        quiet_end: q ? toMin(q.end as string) : null,
        lang: lang as 'th' | 'en',
        daily_cap: cap as number,
        rules: rules ? JSON.stringify(rules) : null,
        status: 'pending',
        confirm_code: String(randomInt(0, 1_000_000)).padStart(6, '0'),
        created_at: t,
      });
      store.enqueue({
        event_id: null,
        kind: 'confirm',
        channel,
        target_kind: 'subscriber',
        target_id: String(sid),
        retry_key: randomUUID(),
        status: 'pending',
        next_attempt_at: t,
        created_at: t,
      });
      return sid;
    });
    deps.kick();
    // The webhook secret is shown once, to the app that subscribed; never again.
    return reply.code(202).send({ id, status: 'pending', ...(secret ? { secret } : {}) });
  });

  const confirm = (token: string | undefined, code: string | undefined) => {
    const sub = token ? store.subscriptionByToken(token) : undefined;
    if (!sub || (code !== undefined && code !== sub.confirm_code)) return undefined;
    if (sub.status === 'pending') store.setSubscriptionStatus(sub.id, 'active', now());
    return sub.status === 'unsubscribed' ? undefined : sub;
  };
  app.get('/v1/subscriptions/confirm', async (req, reply) => {
    const sub = confirm((req.query as { token?: string }).token, undefined);
    if (!sub) return reply.code(404).type('text/html; charset=utf-8').send('<p>ไม่พบ / Not found</p>');
    return reply.type('text/html; charset=utf-8').send('<p>ยืนยันแล้ว / Subscription confirmed.</p>');
  });
  app.post('/v1/subscriptions/confirm', async (req, reply) => {
    const b = (req.body ?? {}) as { token?: string; code?: string };
    const sub = confirm(b.token, b.code ?? undefined);
    return sub ? { id: sub.id, status: 'active' } : reply.code(404).send({ error: 'not_found' });
  });
  const unsubscribe = (token: string | undefined) => {
    const sub = token ? store.subscriptionByToken(token) : undefined;
    if (sub) store.setSubscriptionStatus(sub.id, 'unsubscribed', now());
    return sub;
  };
  app.get('/v1/unsubscribe', async (req, reply) => {
    const sub = unsubscribe((req.query as { token?: string }).token);
    return reply
      .code(sub ? 200 : 404)
      .type('text/html; charset=utf-8')
      .send(sub ? '<p>ยกเลิกการรับการแจ้งเตือนแล้ว / You have been unsubscribed.</p>' : '<p>ไม่พบ / Not found</p>');
  });
  // RFC 8058 one-click: POST to the List-Unsubscribe URL.
  app.post('/v1/unsubscribe', async (req, reply) => {
    const sub = unsubscribe((req.query as { token?: string }).token);
    return reply.code(sub ? 200 : 404).send({ status: sub ? 'unsubscribed' : 'not_found' });
  });
  app.get('/v1/webpush/vapid-public-key', async (_req, reply) =>
    cfg.vapid ? { publicKey: cfg.vapid.publicKey } : reply.code(404).send({ error: 'webpush_disabled' }),
  );

  app.register(staffRoutes, { store, evaluator, staff: cfg.staff, now });
  return app as unknown as FastifyInstance;
}
