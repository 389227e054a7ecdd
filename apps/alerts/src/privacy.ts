/**
 * Personal data under Thailand's PDPA (issue 15): what the alerts service holds about a citizen is
 * their subscriptions (contact details, settings), the deliveries sent to them and, for 24 hours, the
 * times confirmation messages went to their address (an HMAC of it). This module
 * - **purges** on a schedule: subscriptions never confirmed within `ALERTS_CONFIRM_TTL_H` (48 h) and
 *   ended subscriptions (contact details erased at the unsubscribe itself) `ALERTS_UNSUBSCRIBED_RETENTION_D`
 *   (30) days after they ended, each with the link from its deliveries (subscription.store.ts);
 * - **exports** everything held about the contact of a manage link's token, as one JSON document;
 * - **erases** all of it at once: every subscription of that contact, not only the token's.
 * The token is the key, as for every subscription route: an unknown, expired or ended one gets the
 * one 404, and an erasure answers the same whatever was held (docs/privacy.md).
 */
import type { PersonalDataErased, PersonalDataExport } from '@cnx/protocol';
import type { Logger } from '@cnx/runtime';
import type { AlertsConfig } from './config';
import type { AlertStore, OutboxStatus, SubscriptionRow } from './store';
import type { SubscriptionService } from './subscriptions.service';

const DAY_MS = 86_400_000;
/** The purge runs on the service's tick, at most this often. */
export const PURGE_EVERY_MS = 3_600_000;

export type PurgeReason = 'unconfirmed' | 'unsubscribed' | 'erased';

interface DeliveryJoin {
  target_id: string;
  kind: 'alert' | 'confirm';
  channel: string;
  status: OutboxStatus;
  attempts: number;
  created_at: number;
  sent_at: number | null;
  last_error: string | null;
  event: string | null;
  rule_id: string | null;
  subject_id: string | null;
  ts: number | null;
}

const iso = (t: number | null) => (t === null ? null : new Date(t).toISOString());
const hhmm = (min: number | null) =>
  min === null ? '' : `${String(Math.floor(min / 60)).padStart(2, '0')}:${String(min % 60).padStart(2, '0')}`;

export class PrivacyService {
  /** Subscriptions deleted, by why (alerts_subscriptions_purged_total). */
  readonly stats: Record<PurgeReason, number> = { unconfirmed: 0, unsubscribed: 0, erased: 0 };
  private lastPurge = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly store: AlertStore,
    private readonly subscriptions: SubscriptionService,
    private readonly cfg: Pick<AlertsConfig, 'confirmTtlMs' | 'unsubscribedRetentionMs'>,
    private readonly logger: Logger,
    private readonly now: () => number,
  ) {}

  /** From the wall-clock tick: purge when the last run is PURGE_EVERY_MS old. */
  purgeIfDue(): void {
    if (this.now() - this.lastPurge >= PURGE_EVERY_MS) this.purge();
  }

  /** One purge run: old confirmation counts, unconfirmed and long-ended subscriptions. */
  purge(): { unconfirmed: number; unsubscribed: number } {
    const t = this.now();
    this.lastPurge = t;
    const out = this.store.tx(() => {
      this.store.subs.pruneConfirmations(t - DAY_MS);
      return {
        unconfirmed: this.store.subs.purgePending(t - this.cfg.confirmTtlMs),
        unsubscribed: this.store.subs.purgeEnded(t - this.cfg.unsubscribedRetentionMs),
      };
    });
    this.stats.unconfirmed += out.unconfirmed;
    this.stats.unsubscribed += out.unsubscribed;
    this.logger.info(
      {
        ...out,
        unconfirmedAfterH: this.cfg.confirmTtlMs / 3_600_000,
        unsubscribedAfterD: this.cfg.unsubscribedRetentionMs / DAY_MS,
      },
      'personal data purge',
    );
    return out;
  }

  /** Everything held about the contact of this token. */
  export(token: string): PersonalDataExport {
    const own = this.subscriptions.byToken(token);
    const subs = this.store.subs.ofContact(own);
    const ref = new Map(subs.map((s, i) => [String(s.id), i + 1]));
    const contact = JSON.parse(own.address) as { address: string; secret?: string };
    const deliveries = this.deliveriesOf(subs);
    const t = this.now();
    return {
      exportedAt: new Date(t).toISOString(),
      contact: {
        channel: own.channel as PersonalDataExport['contact']['channel'],
        address: own.channel === 'webpush' ? (JSON.parse(contact.address) as never) : contact.address,
        webhookSecretHeld: !!contact.secret,
      },
      subscriptions: subs.map((s, i) => ({
        ref: i + 1,
        thisLink: s.id === own.id,
        status: s.status,
        channel: s.channel as PersonalDataExport['contact']['channel'],
        scope: { type: s.scope_type, id: s.scope_id },
        lang: s.lang,
        pm25Threshold: s.threshold,
        quietHours: s.quiet_start === null ? null : { start: hhmm(s.quiet_start), end: hhmm(s.quiet_end) },
        dailyCap: s.daily_cap,
        rules: s.rules ? (JSON.parse(s.rules) as string[]) : null,
        createdAt: iso(s.created_at)!,
        confirmedAt: iso(s.confirmed_at),
        endedAt: iso(s.ended_at),
      })),
      deliveries: deliveries.map((d) => ({
        subscription: ref.get(d.target_id)!,
        kind: d.kind,
        channel: d.channel,
        alert: d.event === null ? null : { event: d.event, rule: d.rule_id!, subject: d.subject_id!, at: iso(d.ts)! },
        status: d.status,
        attempts: d.attempts,
        createdAt: iso(d.created_at)!,
        sentAt: iso(d.sent_at),
        lastError: d.last_error,
      })),
      confirmationsLast24h: own.address_key ? this.store.subs.confirmationsSince(own.address_key, t - DAY_MS) : 0,
      retention:
        `Unconfirmed subscriptions are deleted ${this.cfg.confirmTtlMs / 3_600_000} hours after the request; ` +
        'contact details are erased when you unsubscribe, and the rest of an ended subscription ' +
        `${this.cfg.unsubscribedRetentionMs / DAY_MS} days later. Deliveries then keep only counts (channel, ` +
        'alert, status, times), not who they went to. Confirmation times per address are kept 24 hours.',
    };
  }

  /** Every subscription of the token's contact, deleted at once; the answer never says how many. */
  erase(token: string): PersonalDataErased {
    const own = this.subscriptions.byToken(token);
    const n = this.store.tx(() => {
      const subs = this.store.subs.ofContact(own);
      for (const s of subs) this.store.subs.delete(s.id, 'erased');
      return subs.length;
    });
    this.stats.erased += n;
    this.logger.info({ subscriptions: n, channel: own.channel }, 'personal data erased');
    return { status: 'erased' };
  }

  private deliveriesOf(subs: SubscriptionRow[]): DeliveryJoin[] {
    if (!subs.length) return [];
    const ids = subs.map((s) => String(s.id));
    return this.store.db
      .prepare(
        `SELECT o.target_id, o.kind, o.channel, o.status, o.attempts, o.created_at, o.sent_at, o.last_error,
           e.type AS event, e.rule_id, e.subject_id, e.ts
         FROM outbox o LEFT JOIN events e ON e.id = o.event_id
         WHERE o.target_kind = 'subscriber' AND o.target_id IN (${ids.map(() => '?').join(', ')}) ORDER BY o.id`,
      )
      .all(...ids) as DeliveryJoin[];
  }
}

/**
 * A channel's error text without the contact details it may quote (an SMTP server's "550 <a@b.c>:
 * recipient rejected", a LINE user id, a push endpoint URL): what goes into the service's log.
 */
export function redactContacts(text: string | undefined): string | undefined {
  return text
    ?.replace(/[^\s<>"'(),;:]+@[^\s<>"'(),;:]+\.[A-Za-z]{2,}/g, '<email>')
    .replace(/\bU[0-9a-f]{32}\b/g, '<line-user>')
    .replace(/https?:\/\/[^\s"'<>]+/g, '<url>');
}
