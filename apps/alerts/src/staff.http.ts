/**
 * The staff API (issue 6): on-call staff list, acknowledge and resolve alerts with their own Bearer
 * credential (ALERTS_STAFF_FILE), and read the audit trail. This service owns alert state and the
 * audit; the public API (apps/api, /v1/staff/...) forwards the staff member's credential here.
 *
 * Answers: 200 with JSON; 400 {error:'invalid_request', problems}; 401 {error:'unauthorized',
 * staffConfigured} (+ WWW-Authenticate); 404 {error:'not_found'}; 409 {error:'not_firing'|'already_closed', status}.
 * Times are RFC 3339 (UTC).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { StaffMember } from './config';
import type { Evaluator } from './evaluator';
import type { AlertRow, AlertStore } from './store';

/** Longest note a staff member may attach to an acknowledgement or resolution. */
export const MAX_NOTE_LENGTH = 500;
/** Deliveries listed in one audit answer (a city-wide alert may have thousands): the newest ones. */
export const AUDIT_MAX_DELIVERIES = 500;

const digest = (s: string) => createHash('sha256').update(s).digest();
const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
const ID = /^[1-9]\d{0,14}$/;

/** An alert as the public sees it (GET /v1/alerts): no personal data. */
export const publicAlert = (a: AlertRow, ev: Evaluator) => {
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

/** An alert as staff see it: who acknowledged or resolved it, and which on-call tier has been told. */
export const staffAlert = (a: AlertRow, ev: Evaluator) => {
  const rule = ev.rule(a.rule_id);
  const lvl = rule?.levels[a.level];
  return {
    id: a.id,
    rule: a.rule_id,
    ruleName: rule?.name ?? null,
    subject: { type: a.subject_type, id: a.subject_id, name: ev.subjectName(a.subject_type, a.subject_id) },
    level: lvl?.id ?? null,
    severity: lvl?.severity ?? null,
    status: a.status,
    since: iso(a.since)!,
    updatedAt: iso(a.updated_at)!,
    value: a.value,
    ackedBy: a.acked_by,
    ackedAt: iso(a.acked_at),
    resolvedBy: a.resolved_by,
    resolvedAt: iso(a.resolved_at),
    escalationTier: a.escalation_tier,
  };
};

export interface StaffRoutesOptions {
  store: AlertStore;
  evaluator: Evaluator;
  staff: readonly StaffMember[];
  now: () => number;
}

export const staffRoutes: FastifyPluginAsync<StaffRoutesOptions> = async (app, opts) => {
  const { store, evaluator, now } = opts;
  const keys = opts.staff.map((s) => ({ s, d: digest(s.token) }));
  const names = new Map(opts.staff.map((s) => [s.id, s.name ?? s.id]));
  const staffOf = (req: FastifyRequest): StaffMember | undefined => {
    const auth = req.headers.authorization;
    if (typeof auth !== 'string' || !/^Bearer /i.test(auth)) return undefined;
    const d = digest(auth.slice(7).trim());
    let found: StaffMember | undefined;
    // Compare with every key (constant time, digests: the token length does not leak either).
    for (const k of keys) if (timingSafeEqual(k.d, d)) found = k.s;
    return found;
  };
  const who = new WeakMap<FastifyRequest, StaffMember>();

  // onRequest: an unauthenticated request is refused before its body is read.
  app.addHook('onRequest', async (req, reply) => {
    const s = staffOf(req);
    // staffConfigured: false tells the API (and an operator) that ALERTS_STAFF_FILE lists nobody, so no
    // token can work; the API then names the setting to fix instead of "wrong token".
    if (!s)
      return reply
        .code(401)
        .header('www-authenticate', 'Bearer realm="cnx-staff"')
        .send({ error: 'unauthorized', staffConfigured: keys.length > 0 });
    who.set(req, s);
    reply.header('cache-control', 'no-store');
  });

  const bad = (reply: FastifyReply, problems: string[]) => reply.code(400).send({ error: 'invalid_request', problems });
  /** The alert of `:id`, or the error answer already sent. */
  const alertOf = (req: FastifyRequest, reply: FastifyReply): AlertRow | undefined => {
    const id = (req.params as { id: string }).id;
    if (!ID.test(id)) {
      void bad(reply, [`alert id must be a positive integer, got ${JSON.stringify(id.slice(0, 20))}`]);
      return undefined;
    }
    const a = store.getAlert(Number(id));
    if (!a) void reply.code(404).send({ error: 'not_found', message: `no alert ${id}` });
    return a;
  };
  /** The optional `{note}` of an action, or the error answer already sent (`false`). */
  const noteOf = (req: FastifyRequest, reply: FastifyReply): string | undefined | false => {
    const body = req.body as { note?: unknown } | undefined | null;
    if (body !== undefined && body !== null && (typeof body !== 'object' || Array.isArray(body))) {
      void bad(reply, ['the body must be a JSON object {note?}']);
      return false;
    }
    const note = body?.note;
    if (note === undefined) return undefined;
    if (typeof note !== 'string' || note.length > MAX_NOTE_LENGTH) {
      void bad(reply, [`note must be a string of at most ${MAX_NOTE_LENGTH} characters`]);
      return false;
    }
    return note;
  };

  app.get('/v1/staff/alerts', async () => ({ alerts: store.activeAlerts().map((a) => staffAlert(a, evaluator)) }));

  app.post('/v1/staff/alerts/:id/ack', async (req, reply) => {
    const note = noteOf(req, reply);
    if (note === false) return reply;
    const a = alertOf(req, reply);
    if (!a) return reply;
    if (a.status !== 'firing') return reply.code(409).send({ error: 'not_firing', status: a.status });
    const t = now();
    const by = who.get(req)!.id;
    store.tx(() => {
      // Acknowledging stops the escalation to the next on-call tier.
      store.updateAlert(a.id, { status: 'acknowledged', acked_by: by, acked_at: t, next_escalation_at: null });
      store.audit(t, by, 'acknowledged', a.id, note === undefined ? undefined : { note });
    });
    return { id: a.id, status: 'acknowledged', by, at: iso(t) };
  });

  app.post('/v1/staff/alerts/:id/resolve', async (req, reply) => {
    const note = noteOf(req, reply);
    if (note === false) return reply;
    const a = alertOf(req, reply);
    if (!a) return reply;
    if (a.status === 'resolved' || a.status === 'cleared')
      return reply.code(409).send({ error: 'already_closed', status: a.status });
    const t = now();
    const by = who.get(req)!.id;
    store.tx(() => {
      store.updateAlert(a.id, { status: 'resolved', resolved_by: by, resolved_at: t, next_escalation_at: null });
      store.audit(t, by, 'resolved', a.id, note === undefined ? undefined : { note });
    });
    return { id: a.id, status: 'resolved', by, at: iso(t) };
  });

  app.get('/v1/staff/alerts/:id/audit', async (req, reply) => {
    const a = alertOf(req, reply);
    if (!a) return reply;
    const { rows, total } = store.deliveriesOfAlert(a.id, AUDIT_MAX_DELIVERIES);
    return {
      alert: staffAlert(a, evaluator),
      audit: store.auditOf(a.id).map((e) => ({
        at: iso(e.at),
        actor: e.actor,
        actorName: e.actor === 'system' ? null : (names.get(e.actor) ?? null),
        action: e.action,
        detail: e.detail === null ? null : JSON.parse(e.detail),
      })),
      // Who was told what: channel and status per delivery; staff by id, never contact details.
      deliveries: rows.map((d) => ({
        id: d.id,
        event: d.event,
        channel: d.channel,
        target: d.target_kind,
        staff: d.target_kind === 'staff' ? d.target_id : null,
        status: d.status,
        attempts: d.attempts,
        lastError: d.last_error,
        sentAt: iso(d.sent_at),
        nextAttemptAt: d.status === 'pending' ? iso(d.next_attempt_at) : null,
      })),
      deliveriesTotal: total,
    };
  });
};
