/**
 * The wire shapes of citizen alerts, shared by the alerts service (apps/alerts) and the public API
 * (apps/api), which forwards to it (issue 12): the alert event on the bus
 * (`cnx/v1/{city}/alerts/{rule}/{subject}`, also the `data` of a webhook), a public alert (no personal
 * data), and the subscription requests and views. One definition, so the two services cannot drift.
 */
import Type, { type Static, type TSchema } from 'typebox';

const Nullable = <T extends TSchema>(t: T) => Type.Union([t, Type.Null()]);
const Text = Type.Object({ th: Type.String(), en: Type.String() });
const Id = Type.String({ pattern: '^[a-z0-9][a-z0-9-]{0,62}$', maxLength: 63 });
const Rfc3339 = Type.String({ format: 'date-time', description: 'RFC 3339, UTC' });
const Severity = Type.Enum(['info', 'warning', 'critical']);
const TitledText = Type.Object({
  th: Type.Object({ title: Type.String(), body: Type.String() }),
  en: Type.Object({ title: Type.String(), body: Type.String() }),
});

/** The transitions of an alert (@cnx/domain AlertTransitionType). */
export const ALERT_EVENT_TYPES = ['raised', 'escalated', 'deescalated', 'renotify', 'cleared'] as const;

/** The payload of `cnx/v1/{city}/alerts/{rule}/{subject}` (QoS 1, retained): no personal data. */
export const AlertEventPayload = Type.Object({
  v: Type.Literal(1),
  city: Type.String(),
  alertId: Type.Integer({ minimum: 1 }),
  type: Type.Enum([...ALERT_EVENT_TYPES]),
  rule: Type.String(),
  ruleName: Text,
  signal: Type.String(),
  subject: Type.Object({ type: Type.Enum(['station', 'district', 'city']), id: Type.String(), name: Text }),
  level: Nullable(Type.String()),
  severity: Nullable(Severity),
  levelLabel: Nullable(Text),
  value: Nullable(Type.Number()),
  valueText: Type.String(),
  /** Observation time of the transition, epoch ms, and the same as RFC 3339 in the city's time zone. */
  ts: Type.Number(),
  time: Type.String(),
  /** When the alert started (observation time). */
  since: Rfc3339,
  text: TitledText,
});
export type AlertEventPayload = Static<typeof AlertEventPayload>;

/** An alert as anyone may see it (GET /v1/alerts, the live stream's `alert` event). */
export const PublicAlertCore = Type.Object({
  id: Type.Integer({ minimum: 1 }),
  rule: Type.String({ description: 'Rule id (cities/<city>/alert-rules.json)' }),
  ruleName: Text,
  signal: Type.String({ description: 'pm25_1h, pm25_24h, canal_level, canal_rise, do_low, offline, stuck' }),
  subject: Type.Object({ type: Type.Enum(['station', 'district', 'city']), id: Type.String(), name: Text }),
  status: Type.Enum(['active', 'ended'], { description: 'active: firing or acknowledged; ended: cleared or resolved' }),
  level: Nullable(Type.String({ description: 'Level id of the rule (orange, red, warning...); null once ended' })),
  severity: Nullable(Severity),
  levelLabel: Nullable(Text),
  value: Nullable(Type.Number({ description: 'The signal value of the last transition' })),
  valueText: Type.String({ description: 'The value with its unit, e.g. "82.40 µg/m³"' }),
  since: { ...Rfc3339, description: 'When the condition started (observation time), RFC 3339 UTC' },
  updatedAt: { ...Rfc3339, description: 'The last transition (observation time)' },
  endedAt: Nullable({ ...Rfc3339, description: 'When it cleared or was resolved' }),
  text: { ...TitledText, description: 'The message text of the last transition, Thai and English' },
});
export type PublicAlertCore = Static<typeof PublicAlertCore>;

export const PublicAlertCoreList = Type.Object({
  current: Type.Array(PublicAlertCore),
  recent: Type.Array(PublicAlertCore),
  recentHours: Type.Integer({ minimum: 1 }),
});

/** The public view of an event from the bus. */
export function publicAlertFromEvent(e: AlertEventPayload): PublicAlertCore {
  const at = new Date(e.ts).toISOString();
  const ended = e.type === 'cleared';
  return {
    id: e.alertId,
    rule: e.rule,
    ruleName: e.ruleName,
    signal: e.signal,
    subject: e.subject,
    status: ended ? 'ended' : 'active',
    level: ended ? null : e.level,
    severity: ended ? null : e.severity,
    levelLabel: ended ? null : e.levelLabel,
    value: e.value,
    valueText: e.valueText,
    since: e.since,
    updatedAt: at,
    endedAt: ended ? at : null,
    text: e.text,
  };
}

// --- subscriptions ---------------------------------------------------------------------------------

export const SUBSCRIPTION_CHANNELS = ['email', 'line', 'webhook', 'webpush'] as const;
const HHMM = Type.String({ pattern: '^([01][0-9]|2[0-3]):[0-5][0-9]$', description: 'HH:MM, Thai time' });

export const PushSubscriptionJson = Type.Object(
  {
    endpoint: Type.String({ maxLength: 2048 }),
    expirationTime: Type.Optional(Nullable(Type.Number())),
    keys: Type.Object({ p256dh: Type.String({ maxLength: 256 }), auth: Type.String({ maxLength: 64 }) }),
  },
  { description: "The browser's PushSubscription.toJSON()" },
);

export const QuietHours = Type.Object(
  { start: HHMM, end: HHMM },
  { additionalProperties: false, description: 'Deliveries due inside wait until the end (may span midnight)' },
);

const settings = {
  station: Type.Optional({ ...Id, description: 'A station id (else district, else the whole city)' }),
  district: Type.Optional({ ...Id, description: 'A district id' }),
  lang: Type.Optional(Type.Enum(['th', 'en'], { description: 'Language of the messages (default th)' })),
  pm25Threshold: Type.Optional(
    Nullable(
      Type.Number({
        minimum: 0,
        maximum: 1000,
        description: 'PM2.5 alerts only when the value is at least this (µg/m³); other alerts unaffected',
      }),
    ),
  ),
  quietHours: Type.Optional(Nullable(QuietHours)),
  dailyCap: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, description: 'Alert messages per Thai day' })),
  rules: Type.Optional(
    Nullable(Type.Array(Id, { maxItems: 50, description: 'Only these rules (GET /v1/alerts/rules); all if absent' })),
  ),
};

export const SubscriptionRequest = Type.Object(
  {
    channel: Type.Enum([...SUBSCRIPTION_CHANNELS]),
    address: Type.Union([Type.String({ minLength: 1, maxLength: 2048 }), PushSubscriptionJson], {
      description:
        'email: an address; line: a LINE user id (U + 32 hex); webhook: an https URL; webpush: the PushSubscription',
    }),
    ...settings,
  },
  { additionalProperties: false },
);
export type SubscriptionRequest = Static<typeof SubscriptionRequest>;

export const SubscriptionAccepted = Type.Object({
  status: Type.Literal('pending'),
  message: Type.String(),
  webhookSecret: Type.Optional(
    Type.String({ description: 'webhook only: the Standard Webhooks signing secret (whsec_...), shown once' }),
  ),
});

export const SubscriptionUpdate = Type.Object(
  { scope: Type.Optional(Type.Enum(['station', 'district', 'city'])), ...settings },
  { additionalProperties: false },
);
export type SubscriptionUpdate = Static<typeof SubscriptionUpdate>;

export const TokenBody = Type.Object(
  { token: Type.String({ minLength: 16, maxLength: 128, pattern: '^[A-Za-z0-9_-]+$' }) },
  { additionalProperties: false },
);

export const SubscriptionView = Type.Object({
  status: Type.Enum(['pending', 'active']),
  channel: Type.Enum([...SUBSCRIPTION_CHANNELS]),
  address: Type.String({ description: 'The contact, masked (n***@example.org)' }),
  scope: Type.Object({ type: Type.Enum(['station', 'district', 'city']), id: Type.String(), name: Text }),
  lang: Type.Enum(['th', 'en']),
  pm25Threshold: Nullable(Type.Number()),
  quietHours: Nullable(QuietHours),
  dailyCap: Type.Integer(),
  rules: Nullable(Type.Array(Type.String())),
  createdAt: Rfc3339,
  confirmedAt: Nullable(Rfc3339),
});
export type SubscriptionView = Static<typeof SubscriptionView>;

export const SubscriptionEnded = Type.Object({ status: Type.Enum(['unsubscribed', 'deleted']) });

// --- personal data (Thailand's PDPA): export and erase with the token of a manage link --------------

const ExportedSubscription = Type.Object({
  ref: Type.Integer({ minimum: 1, description: 'Numbers the subscriptions of this document (deliveries name it)' }),
  thisLink: Type.Boolean({ description: 'The subscription of the token used for this export' }),
  status: Type.Enum(['pending', 'active', 'unsubscribed']),
  channel: Type.Enum([...SUBSCRIPTION_CHANNELS]),
  scope: Type.Object({ type: Type.Enum(['station', 'district', 'city']), id: Type.String() }),
  lang: Type.Enum(['th', 'en']),
  pm25Threshold: Nullable(Type.Number()),
  quietHours: Nullable(QuietHours),
  dailyCap: Type.Integer(),
  rules: Nullable(Type.Array(Type.String())),
  createdAt: Rfc3339,
  confirmedAt: Nullable(Rfc3339),
  endedAt: Nullable(Rfc3339),
});

const ExportedDelivery = Type.Object({
  subscription: Type.Integer({ minimum: 1, description: '`ref` of the subscription it went to' }),
  kind: Type.Enum(['confirm', 'alert']),
  channel: Type.String(),
  alert: Nullable(Type.Object({ event: Type.String(), rule: Type.String(), subject: Type.String(), at: Rfc3339 })),
  status: Type.Enum(['pending', 'sent', 'failed', 'suppressed']),
  attempts: Type.Integer(),
  createdAt: Rfc3339,
  sentAt: Nullable(Rfc3339),
  lastError: Nullable(Type.String()),
});

/** Everything the alerts service holds about one contact (the one of the token), as JSON. */
export const PersonalDataExport = Type.Object({
  exportedAt: Rfc3339,
  contact: Type.Object({
    channel: Type.Enum([...SUBSCRIPTION_CHANNELS]),
    address: Nullable(
      Type.Union([Type.String(), PushSubscriptionJson], {
        description: 'The contact as held, unmasked (email, LINE user id, webhook URL or push subscription)',
      }),
    ),
    webhookSecretHeld: Type.Boolean({
      description: 'webhook: a signing secret is held (not shown: it was given once, at subscription)',
    }),
  }),
  subscriptions: Type.Array(ExportedSubscription),
  deliveries: Type.Array(ExportedDelivery),
  confirmationsLast24h: Type.Integer({
    description: 'Confirmation messages sent to this address in the last 24 hours (kept 24 h: abuse limit)',
  }),
  retention: Type.String({ description: 'How long each part is kept (docs/privacy.md)' }),
});
export type PersonalDataExport = Static<typeof PersonalDataExport>;

/** The answer to an erasure: the same whatever was held (no count: nothing to learn from it). */
export const PersonalDataErased = Type.Object({ status: Type.Literal('erased') });
export type PersonalDataErased = Static<typeof PersonalDataErased>;
