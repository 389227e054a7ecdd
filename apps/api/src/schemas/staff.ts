/**
 * Staff routes (/v1/staff/...): the alerts service's staff answers (apps/alerts/src/staff.http.ts),
 * forwarded as they are. The schemas name every field, so the served body is exactly this.
 */
import Type, { type TSchema } from 'typebox';
import { LocalizedText, Timestamp } from './common';

export const StaffHeaders = Type.Object({
  authorization: Type.Optional(
    Type.String({ maxLength: 512, description: 'Bearer <staff token> (the staff member’s own credential)' }),
  ),
});

export const AlertIdParams = Type.Object(
  {
    alertId: Type.Integer({
      minimum: 1,
      maximum: 999_999_999_999_999,
      description: 'An alert id (GET /v1/staff/alerts)',
      examples: [1],
    }),
  },
  { additionalProperties: false },
);

/** Longest note on an acknowledgement or resolution (the alerts service's MAX_NOTE_LENGTH). */
export const MAX_NOTE_LENGTH = 500;

export const AlertActionBody = Type.Object(
  {
    note: Type.Optional(
      Type.String({ maxLength: MAX_NOTE_LENGTH, description: 'Why, for the audit trail (optional)' }),
    ),
  },
  { additionalProperties: false, title: 'AlertActionBody' },
);

const Nullable = <T extends TSchema>(t: T) => Type.Union([t, Type.Null()]);
const Time = (description: string) => Nullable({ ...Timestamp, description });

export const AlertStatus = Type.Enum(['firing', 'acknowledged', 'resolved', 'cleared'], {
  description:
    'firing: nobody acknowledged yet; acknowledged: a staff member is on it; resolved: closed by staff; cleared: the condition ended',
});

export const StaffAlert = Type.Object(
  {
    id: Type.Integer(),
    rule: Type.String({ description: 'Rule id (cities/<city>/alert-rules.json)' }),
    ruleName: Nullable(LocalizedText),
    subject: Type.Object({
      type: Type.Enum(['station', 'district', 'city']),
      id: Type.String(),
      name: LocalizedText,
    }),
    level: Nullable(Type.String({ description: 'Level id of the rule, e.g. orange, red, warning' })),
    severity: Nullable(Type.Enum(['info', 'warning', 'critical'])),
    status: AlertStatus,
    since: { ...Timestamp, description: 'When the condition started (observation time)' },
    updatedAt: { ...Timestamp, description: 'Last change' },
    value: Nullable(Type.Number({ description: 'The signal value that caused the last transition' })),
    ackedBy: Nullable(Type.String({ description: 'Staff id' })),
    ackedAt: Time('When it was acknowledged'),
    resolvedBy: Nullable(Type.String({ description: 'Staff id' })),
    resolvedAt: Time('When it was resolved'),
    escalationTier: Type.Integer({ minimum: 0, description: 'Highest on-call tier told so far' }),
  },
  { title: 'StaffAlert' },
);

export const StaffAlertList = Type.Object(
  { alerts: Type.Array(StaffAlert, { description: 'Alerts firing or acknowledged' }) },
  { title: 'StaffAlertList' },
);

export const AlertAction = Type.Object(
  {
    id: Type.Integer(),
    status: Type.Enum(['acknowledged', 'resolved']),
    by: Type.String({ description: 'Staff id of the credential used' }),
    at: Timestamp,
  },
  { title: 'AlertAction' },
);

export const AlertAuditEntry = Type.Object(
  {
    at: Timestamp,
    actor: Type.String({ description: 'A staff id, or "system"' }),
    actorName: Nullable(Type.String({ description: 'The staff member’s name' })),
    action: Type.String({
      description: 'raised, escalated, deescalated, cleared, escalated_to_tier, acknowledged, resolved',
    }),
    detail: Type.Unknown({ description: 'level/value, the on-call tier, or the staff member’s note' }),
  },
  { title: 'AlertAuditEntry' },
);

export const AlertDelivery = Type.Object(
  {
    id: Type.Integer(),
    event: Type.String({ description: 'The transition delivered (raised, escalated, cleared, ...)' }),
    channel: Type.String({ description: 'email, line, webhook, webpush, mqtt' }),
    target: Type.Enum(['subscriber', 'staff', 'system']),
    staff: Nullable(Type.String({ description: 'Staff id, for staff deliveries' })),
    status: Type.Enum(['pending', 'sent', 'failed', 'suppressed']),
    attempts: Type.Integer({ minimum: 0 }),
    lastError: Nullable(Type.String()),
    sentAt: Time('When the channel confirmed it'),
    nextAttemptAt: Time('Pending only: when it is (re)tried, e.g. after quiet hours'),
  },
  { title: 'AlertDelivery' },
);

export const AlertAudit = Type.Object(
  {
    alert: StaffAlert,
    audit: Type.Array(AlertAuditEntry),
    deliveries: Type.Array(AlertDelivery, { description: 'The newest 500 deliveries, oldest first' }),
    deliveriesTotal: Type.Integer({ minimum: 0 }),
  },
  { title: 'AlertAudit' },
);
