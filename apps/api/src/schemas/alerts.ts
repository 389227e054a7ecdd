/**
 * Public alerts and citizen subscriptions (issue 12). The shapes are @cnx/protocol's (shared with the
 * alerts service, which this API forwards to), titled here so they become named OpenAPI components.
 */
import {
  PersonalDataErased as PersonalDataErasedCore,
  PersonalDataExport as PersonalDataExportCore,
  PublicAlertCore,
  SubscriptionAccepted as SubscriptionAcceptedCore,
  SubscriptionEnded as SubscriptionEndedCore,
  SubscriptionRequest as SubscriptionRequestCore,
  SubscriptionUpdate as SubscriptionUpdateCore,
  SubscriptionView as SubscriptionViewCore,
  TokenBody,
} from '@cnx/protocol';
import Type from 'typebox';

export const PublicAlert = Type.Object(
  {
    ...PublicAlertCore.properties,
    stations: Type.Array(Type.String(), {
      description: 'The stations it is about: the station, every station of the district, or of the city',
    }),
    districts: Type.Array(Type.String(), { description: 'The districts it is about' }),
  },
  { title: 'PublicAlert', description: 'An alert as anyone may see it: no personal data' },
);

export const PublicAlertList = Type.Object(
  {
    current: Type.Array(PublicAlert, { description: 'Alerts firing now (or acknowledged by staff), newest first' }),
    recent: Type.Array(PublicAlert, { description: 'Alerts that ended within recentHours, newest first' }),
    recentHours: Type.Integer({ minimum: 1 }),
    generatedAt: Type.String({ format: 'date-time' }),
  },
  { title: 'PublicAlertList' },
);

/** The `data` of an `alert` event on GET /v1/stream. */
export const LiveAlert = Type.Object(
  {
    transition: Type.Enum(['raised', 'escalated', 'deescalated', 'renotify', 'cleared']),
    alert: PublicAlert,
  },
  { title: 'LiveAlert' },
);

const Text = Type.Object({ th: Type.String(), en: Type.String() });
export const AlertRuleInfo = Type.Object(
  {
    id: Type.String(),
    name: Text,
    signal: Type.String(),
    stationKind: Type.Enum(['air', 'canal']),
    direction: Type.Enum(['above', 'below']),
    scope: Type.Enum(['station', 'district', 'city']),
    levels: Type.Array(
      Type.Object({
        id: Type.String(),
        severity: Type.Enum(['info', 'warning', 'critical']),
        threshold: Type.Union([Type.Number(), Type.Object({ station: Type.String() })]),
        label: Text,
      }),
    ),
    durationMin: Type.Number(),
  },
  { title: 'AlertRuleInfo' },
);
export const AlertRuleList = Type.Object({ rules: Type.Array(AlertRuleInfo) }, { title: 'AlertRuleList' });

export const SubscriptionRequest = Type.Object(SubscriptionRequestCore.properties, {
  additionalProperties: false,
  title: 'SubscriptionRequest',
});
export const SubscriptionUpdate = Type.Object(SubscriptionUpdateCore.properties, {
  additionalProperties: false,
  title: 'SubscriptionUpdate',
});
export const SubscriptionAccepted = Type.Object(SubscriptionAcceptedCore.properties, {
  title: 'SubscriptionAccepted',
});
export const SubscriptionView = Type.Object(SubscriptionViewCore.properties, { title: 'Subscription' });
export const SubscriptionEnded = Type.Object(SubscriptionEndedCore.properties, { title: 'SubscriptionEnded' });
export const PersonalDataExport = Type.Object(PersonalDataExportCore.properties, { title: 'PersonalDataExport' });
export const PersonalDataErased = Type.Object(PersonalDataErasedCore.properties, { title: 'PersonalDataErased' });
export const ConfirmBody = Type.Object(TokenBody.properties, {
  additionalProperties: false,
  title: 'SubscriptionConfirm',
});
export const UnsubscribeQuery = Type.Object(TokenBody.properties, { additionalProperties: false });
export const SubscriptionHeaders = Type.Object({
  authorization: Type.Optional(
    Type.String({ maxLength: 200, description: 'Bearer <token> from the confirmation message' }),
  ),
});
export const WebPushKey = Type.Object(
  { publicKey: Type.String({ description: 'The VAPID public key (applicationServerKey), base64url' }) },
  { title: 'WebPushKey' },
);
