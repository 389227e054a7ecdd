/**
 * The staff API (issue 6): on-call staff list, acknowledge and resolve alerts with their own Bearer
 * credential (ALERTS_STAFF_FILE), and read the audit trail. This service owns alert state and the
 * audit; the public API (apps/api, /v1/staff/...) forwards the staff member's credential here.
 * Errors from the catalogue (src/errors.ts): 401 unauthorized | staff_not_configured (+
 * WWW-Authenticate), 404 alert_not_found, 409 not_firing | already_closed. Times are RFC 3339 (UTC).
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import type { StaffMember } from '../config';
import { AlertsError } from '../errors';
import type { Evaluator } from '../evaluator';
import type { AlertRow, AlertStore } from '../store';
import { staffAuth } from './staff-auth';
import { staffAlert } from './views';

/** Longest note a staff member may attach to an acknowledgement or resolution. */
export const MAX_NOTE_LENGTH = 500;
/** Deliveries listed in one audit answer (a city-wide alert may have thousands): the newest ones. */
export const AUDIT_MAX_DELIVERIES = 500;

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

const IdParams = Type.Object(
  { id: Type.Integer({ minimum: 1, maximum: 999_999_999_999_999 }) },
  { additionalProperties: false },
);
const NoteBody = Type.Union([
  Type.Object({ note: Type.Optional(Type.String({ maxLength: MAX_NOTE_LENGTH })) }, { additionalProperties: false }),
  Type.Null(),
]);

export interface StaffRoutesOptions {
  store: AlertStore;
  evaluator: Evaluator;
  staff: readonly StaffMember[];
  now: () => number;
}

export const staffRoutes: FastifyPluginAsyncTypebox<StaffRoutesOptions> = async (app, opts) => {
  const { store, evaluator, now } = opts;
  const names = new Map(opts.staff.map((s) => [s.id, s.name ?? s.id]));
  const who = staffAuth(app as never, opts.staff);

  // An action without a body (curl -X POST) is an action without a note.
  app.addHook('preValidation', async (req) => {
    if (req.body === undefined) req.body = null;
  });

  const alertOf = (id: number): AlertRow => {
    const a = store.getAlert(id);
    if (!a) throw new AlertsError('alert_not_found', `no alert ${id}`);
    return a;
  };

  app.get('/v1/staff/alerts', async () => ({ alerts: store.activeAlerts().map((a) => staffAlert(a, evaluator)) }));

  app.post('/v1/staff/alerts/:id/ack', { schema: { params: IdParams, body: NoteBody } }, async (req) => {
    const a = alertOf(req.params.id);
    if (a.status !== 'firing')
      throw new AlertsError('not_firing', `alert ${a.id} is ${a.status}: only a firing alert can be acknowledged`);
    const t = now();
    const by = who(req).id;
    const note = req.body?.note;
    store.tx(() => {
      // Acknowledging stops the escalation to the next on-call tier.
      store.updateAlert(a.id, { status: 'acknowledged', acked_by: by, acked_at: t, next_escalation_at: null });
      store.audit(t, by, 'acknowledged', a.id, note === undefined ? undefined : { note });
    });
    return { id: a.id, status: 'acknowledged', by, at: iso(t) };
  });

  app.post('/v1/staff/alerts/:id/resolve', { schema: { params: IdParams, body: NoteBody } }, async (req) => {
    const a = alertOf(req.params.id);
    if (a.status === 'resolved' || a.status === 'cleared')
      throw new AlertsError('already_closed', `alert ${a.id} is already ${a.status}`);
    const t = now();
    const by = who(req).id;
    const note = req.body?.note;
    store.tx(() => {
      store.updateAlert(a.id, { status: 'resolved', resolved_by: by, resolved_at: t, next_escalation_at: null });
      store.audit(t, by, 'resolved', a.id, note === undefined ? undefined : { note });
    });
    return { id: a.id, status: 'resolved', by, at: iso(t) };
  });

  app.get('/v1/staff/alerts/:id/audit', { schema: { params: IdParams } }, async (req) => {
    const a = alertOf(req.params.id);
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
