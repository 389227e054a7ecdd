/**
 * Operator endpoints (GET /health, GET /metrics, as in apps/gateway), the public alert list, citizen
 * subscriptions (double opt-in, one-click unsubscribe) and the staff API (Bearer credentials from
 * ALERTS_STAFF_FILE): list, acknowledge, resolve, audit trail, deliveries. Contact details never
 * leave this service through any route.
 */
import { createHash, randomBytes, randomInt, randomUUID, timingSafeEqual } from 'node:crypto';
import type { Logger } from '@cnx/runtime';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyRequest } from 'fastify';
import type { Registry } from 'prom-client';
import type { AlertsConfig, StaffMember } from './config';
import type { Evaluator } from './evaluator';
import type { AlertRow, AlertStore } from './store';

export interface HealthReport {
  status: 'ok' | 'degraded' | 'down';
  checks: Record<string, { ok: boolean; detail?: unknown }>;
}

const digest = (s: string) => createHash('sha256').update(s).digest();
const CHANNELS = ['email', 'line', 'webhook', 'webpush'] as const;
const HHMM = /^([01]\d|2[0-3]):([0-5]\d)$/;
const toMin = (s: string) => Number(s.slice(0, 2)) * 60 + Number(s.slice(3));

const publicAlert = (a: AlertRow, ev: Evaluator) => {
  const rule = ev.rule(a.rule_id);
  const lvl = rule?.levels[a.level];
  return {
    id: a.id,
    rule: a.rule_id,
    ruleName: rule?.name,
    subject: { type: a.subject_type, id: a.subject_id, name: ev.subjectName(a.subject_type, a.subject_id) },
    level: lvl?.id ?? null,
    severity: lvl?.severity ?? null,
    status: a.status,
    since: a.since,
    value: a.value,
  };
};

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
  const staffKeys = cfg.staff.map((s) => ({ s, d: digest(s.token) }));
  const staffOf = (req: FastifyRequest): StaffMember | undefined => {
    const auth = req.headers.authorization;
    if (typeof auth !== 'string' || !/^Bearer /i.test(auth)) return undefined;
    const d = digest(auth.slice(7).trim());
    let found: StaffMember | undefined;
    for (const k of staffKeys) if (timingSafeEqual(k.d, d)) found = k.s;
    return found;
  };

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
      const s = address as { endpoint?: unknown; keys?: { p256dh?: unknown; auth?: unknown } } | undefined;
      if (typeof s?.endpoint !== 'string' || typeof s.keys?.p256dh !== 'string' || typeof s.keys?.auth !== 'string')
        problems.push('address must be a PushSubscription {endpoint, keys: {p256dh, auth}}');
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

  // staff ---------------------------------------------------------------------
  app.register(async (staffApp) => {
    staffApp.decorateRequest('staff', null);
    staffApp.addHook('preHandler', async (req, reply) => {
      const s = staffOf(req);
      if (!s)
        return reply.code(401).header('www-authenticate', 'Bearer realm="cnx-staff"').send({ error: 'unauthorized' });
      (req as unknown as { staff: StaffMember }).staff = s;
    });
    const who = (req: FastifyRequest) => (req as unknown as { staff: StaffMember }).staff;
    const alertOr404 = (id: string) => store.getAlert(Number(id));
    staffApp.get('/v1/staff/alerts', async () => ({
      alerts: store
        .activeAlerts()
        .map((a) => ({ ...publicAlert(a, evaluator), ackedBy: a.acked_by, escalationTier: a.escalation_tier })),
    }));
    staffApp.post('/v1/staff/alerts/:id/ack', async (req, reply) => {
      const a = alertOr404((req.params as { id: string }).id);
      if (!a) return reply.code(404).send({ error: 'not_found' });
      if (a.status !== 'firing') return reply.code(409).send({ error: 'not_firing', status: a.status });
      const t = now();
      store.tx(() => {
        store.updateAlert(a.id, {
          status: 'acknowledged',
          acked_by: who(req).id,
          acked_at: t,
          next_escalation_at: null,
        });
        store.audit(
          t,
          who(req).id,
          'acknowledged',
          a.id,
          (req.body as { note?: string } | undefined)?.note ?? undefined,
        );
      });
      return { id: a.id, status: 'acknowledged', by: who(req).id, at: t };
    });
    staffApp.post('/v1/staff/alerts/:id/resolve', async (req, reply) => {
      const a = alertOr404((req.params as { id: string }).id);
      if (!a) return reply.code(404).send({ error: 'not_found' });
      if (a.status === 'resolved' || a.status === 'cleared')
        return reply.code(409).send({ error: 'already_closed', status: a.status });
      const t = now();
      store.tx(() => {
        store.updateAlert(a.id, {
          status: 'resolved',
          resolved_by: who(req).id,
          resolved_at: t,
          next_escalation_at: null,
        });
        store.audit(t, who(req).id, 'resolved', a.id, (req.body as { note?: string } | undefined)?.note ?? undefined);
      });
      return { id: a.id, status: 'resolved', by: who(req).id, at: t };
    });
    staffApp.get('/v1/staff/alerts/:id/audit', async (req, reply) => {
      const a = alertOr404((req.params as { id: string }).id);
      if (!a) return reply.code(404).send({ error: 'not_found' });
      return {
        alert: publicAlert(a, evaluator),
        audit: store.auditOf(a.id),
        deliveries: store.deliveriesOfAlert(a.id),
      };
    });
  });
  return app as unknown as FastifyInstance;
}
