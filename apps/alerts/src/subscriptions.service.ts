/**
 * Citizens' subscriptions (issue 12): double opt-in, manage, delete, one-click unsubscribe, and the
 * abuse limits that belong to the contact address rather than to the client:
 * - **No enumeration.** Asking to subscribe gets the same answer whether or not the address is
 *   subscribed already (nothing is looked up for the answer), and a token that is wrong, expired or
 *   ended gets the same 404.
 * - **No message storm.** At most `confirmationsPerAddressDay` confirmation messages go to one
 *   address in 24 hours, whoever asks; past that a request is answered as usual and nothing is sent
 *   or stored. Alerts go only to confirmed subscriptions.
 * - **No server-side request forgery.** Webhook and push URLs on loopback or private networks are
 *   refused (unless ALERTS_WEBHOOK_ALLOW_PRIVATE / ALERTS_WEBPUSH_ALLOW_HTTP, for tests).
 * Addresses are counted by an HMAC of the normalised address with a secret kept in the database.
 */
import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import { BlockList, isIP } from 'node:net';
import type { SubscriptionRequest, SubscriptionUpdate, SubscriptionView } from '@cnx/protocol';
import type { Logger } from '@cnx/runtime';
import { newWebhookSecret } from './channels/webhook.adapter';
import { pushSubscriptionProblem } from './channels/webpush.adapter';
import type { AlertsConfig } from './config';
import { AlertsError, badField } from './errors';
import type { Evaluator } from './evaluator';
import type { AlertStore, SubscriptionRow } from './store';

const DAY_MS = 86_400_000;
const EMAIL = /^[^\s@]{1,64}@[^\s@]{1,253}\.[^\s@.]{2,63}$/;
const LINE_USER = /^U[0-9a-f]{32}$/;

const PRIVATE = new BlockList();
for (const [net, bits] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.168.0.0', 16],
] as const)
  PRIVATE.addSubnet(net, bits, 'ipv4');
for (const [net, bits] of [
  ['::', 127],
  ['fc00::', 7],
  ['fe80::', 10],
  ['::ffff:0:0', 96],
] as const)
  PRIVATE.addSubnet(net, bits, 'ipv6');

/** Is this URL's host a loopback, private or link-local name or address? */
export function privateHost(url: URL): boolean {
  const host = url.hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (host === 'localhost' || host.endsWith('.localhost') || host.endsWith('.internal') || !host.includes('.')) {
    return isIP(host) !== 6 || PRIVATE.check(host, 'ipv6');
  }
  const v = isIP(host);
  return v === 4 ? PRIVATE.check(host, 'ipv4') : v === 6 ? PRIVATE.check(host, 'ipv6') : false;
}

/** The contact as a person would read it in their settings, without giving it away to others. */
export function maskAddress(channel: string, address: string): string {
  if (channel === 'email') {
    const [local = '', domain = ''] = address.split('@');
    return `${local.slice(0, 1)}***@${domain}`;
  }
  if (channel === 'line') return `${address.slice(0, 5)}…${address.slice(-4)}`;
  try {
    const url = new URL(channel === 'webpush' ? (JSON.parse(address) as { endpoint: string }).endpoint : address);
    return `${url.protocol}//${url.host}/…`;
  } catch {
    return '…';
  }
}

const hhmm = (min: number | null) =>
  min === null ? '' : `${String(Math.floor(min / 60)).padStart(2, '0')}:${String(min % 60).padStart(2, '0')}`;
const toMin = (s: string) => Number(s.slice(0, 2)) * 60 + Number(s.slice(3));

export class SubscriptionService {
  private pepper?: Buffer;

  constructor(
    private readonly store: AlertStore,
    private readonly evaluator: Evaluator,
    private readonly cfg: AlertsConfig,
    private readonly channels: ReadonlySet<string>,
    private readonly logger: Logger,
    private readonly now: () => number,
    private readonly kick: () => void,
  ) {}

  /** HMAC-SHA256 of the normalised address, keyed by a secret kept in the database. */
  addressKey(channel: string, address: string): string {
    if (!this.pepper) {
      let saved = this.store.kvGet('address_pepper');
      if (!saved) {
        saved = randomBytes(32).toString('base64');
        this.store.kvSet('address_pepper', saved);
      }
      this.pepper = Buffer.from(saved, 'base64');
    }
    return createHmac('sha256', this.pepper).update(`${channel}:${address}`).digest('base64url');
  }

  /** The contact (normalised) from a request, or a 400 naming what is wrong with it. */
  private contact(req: SubscriptionRequest): string {
    const { channel, address } = req;
    if (!this.channels.has(channel))
      throw new AlertsError('channel_unavailable', `channel ${channel} is not configured on this server`, [
        { in: 'body', parameter: 'channel', problem: 'is not configured on this server' },
      ]);
    if (channel === 'webpush') {
      const problem = pushSubscriptionProblem(address, this.cfg.webpushAllowHttp);
      if (problem) throw badField('address', problem);
      const sub = address as { endpoint: string; keys: { p256dh: string; auth: string } };
      if (!this.cfg.webpushAllowHttp && privateHost(new URL(sub.endpoint)))
        throw badField('address', 'endpoint must be a public push service');
      return JSON.stringify({ endpoint: sub.endpoint, keys: { p256dh: sub.keys.p256dh, auth: sub.keys.auth } });
    }
    if (typeof address !== 'string') throw badField('address', `must be a string for channel ${channel}`);
    const a = address.trim();
    if (channel === 'email') {
      if (!EMAIL.test(a) || a.length > 254) throw badField('address', 'must be an email address', a);
      return a.toLowerCase();
    }
    if (channel === 'line') {
      if (!LINE_USER.test(a)) throw badField('address', 'must be a LINE user id (U + 32 hex digits)', a);
      return a;
    }
    let url: URL;
    try {
      url = new URL(a);
    } catch {
      throw badField('address', 'must be an https URL', a);
    }
    const schemes = this.cfg.webhookAllowPrivate ? ['https:', 'http:'] : ['https:'];
    if (!schemes.includes(url.protocol) || url.username || url.password)
      throw badField('address', 'must be an https URL without credentials', a);
    if (!this.cfg.webhookAllowPrivate && privateHost(url))
      throw badField('address', 'must not point at a loopback or private network address', a);
    return url.href;
  }

  private scope(station?: string, district?: string): { type: SubscriptionRow['scope_type']; id: string } {
    if (station !== undefined) {
      if (!this.evaluator.city.stations.has(station))
        throw badField('station', 'is not a station of this city', station);
      return { type: 'station', id: station };
    }
    if (district !== undefined) {
      if (!this.evaluator.city.districts.has(district))
        throw badField('district', 'is not a district of this city', district);
      return { type: 'district', id: district };
    }
    return { type: 'city', id: this.evaluator.city.id };
  }

  private checkRules(rules: readonly string[] | null | undefined): void {
    const unknown = rules?.find((r) => !this.evaluator.rule(r));
    if (unknown !== undefined) throw badField('rules', 'names a rule that does not exist', unknown);
  }

  /**
   * Stores a pending subscription and queues its confirmation, unless the address already had its
   * confirmations for the day. The answer is the same in every case (no enumeration).
   */
  create(req: SubscriptionRequest): { webhookSecret?: string } {
    const address = this.contact(req);
    const scope = this.scope(req.station, req.district);
    this.checkRules(req.rules);
    const secret = req.channel === 'webhook' ? newWebhookSecret() : undefined;
    const key = this.addressKey(req.channel, address);
    const t = this.now();
    const sent = this.store.tx(() => {
      if (this.store.subs.confirmationsSince(key, t - DAY_MS) >= this.cfg.confirmationsPerAddressDay) return false;
      const id = this.store.subs.insert({
        token: randomBytes(24).toString('base64url'),
        channel: req.channel,
        address: JSON.stringify({ address, secret }),
        scope_type: scope.type,
        scope_id: scope.id,
        threshold: req.pm25Threshold ?? null,
        quiet_start: req.quietHours ? toMin(req.quietHours.start) : null,
        quiet_end: req.quietHours ? toMin(req.quietHours.end) : null,
        lang: req.lang ?? 'th',
        daily_cap: req.dailyCap ?? this.cfg.defaultDailyCap,
        rules: req.rules ? JSON.stringify(req.rules) : null,
        status: 'pending',
        confirm_code: '',
        address_key: key,
        created_at: t,
      });
      this.store.subs.recordConfirmation(key, t);
      this.store.enqueue({
        event_id: null,
        kind: 'confirm',
        channel: req.channel,
        target_kind: 'subscriber',
        target_id: String(id),
        retry_key: randomUUID(),
        status: 'pending',
        next_attempt_at: t,
        created_at: t,
      });
      return true;
    });
    this.logger.info(
      { channel: req.channel, scope: scope.type, sent },
      sent ? 'subscription requested' : 'address limit',
    );
    if (sent) this.kick();
    return secret ? { webhookSecret: secret } : {};
  }

  /** The live (pending or active, not expired) subscription of a token, or the one 404 for all else. */
  byToken(token: string): SubscriptionRow {
    const sub = this.store.subs.byToken(token);
    const expired = sub?.status === 'pending' && sub.created_at < this.now() - this.cfg.confirmTtlMs;
    if (!sub || sub.status === 'unsubscribed' || expired) throw new AlertsError('subscription_not_found');
    return sub;
  }

  /** Double opt-in; an older active subscription of the same address and scope is replaced. */
  confirm(token: string): SubscriptionView {
    const sub = this.byToken(token);
    if (sub.status === 'pending') {
      const t = this.now();
      this.store.tx(() => {
        this.store.subs.setStatus(sub.id, 'active', t);
        for (const twin of this.store.subs.activeTwins(sub)) this.store.subs.end(twin.id, 'replaced', t);
      });
    }
    return this.view(token);
  }

  view(token: string): SubscriptionView {
    const s = this.byToken(token);
    const contact = JSON.parse(s.address) as { address: string };
    return {
      status: s.status === 'active' ? 'active' : 'pending',
      channel: s.channel as SubscriptionView['channel'],
      address: maskAddress(s.channel, contact.address),
      scope: { type: s.scope_type, id: s.scope_id, name: this.evaluator.subjectName(s.scope_type, s.scope_id) },
      lang: s.lang,
      pm25Threshold: s.threshold,
      quietHours: s.quiet_start === null ? null : { start: hhmm(s.quiet_start), end: hhmm(s.quiet_end) },
      dailyCap: s.daily_cap,
      rules: s.rules ? (JSON.parse(s.rules) as string[]) : null,
      createdAt: new Date(s.created_at).toISOString(),
      confirmedAt: s.confirmed_at === null ? null : new Date(s.confirmed_at).toISOString(),
    };
  }

  update(token: string, u: SubscriptionUpdate): SubscriptionView {
    const s = this.byToken(token);
    const patch: Parameters<AlertStore['subs']['update']>[1] = {};
    if (u.scope !== undefined || u.station !== undefined || u.district !== undefined) {
      const kind = u.scope ?? (u.station !== undefined ? 'station' : 'district');
      if (kind === 'station' && u.station === undefined) throw badField('station', 'is required for scope station');
      if (kind === 'district' && u.district === undefined) throw badField('district', 'is required for scope district');
      const scope =
        kind === 'city' ? this.scope() : kind === 'station' ? this.scope(u.station) : this.scope(undefined, u.district);
      patch.scope_type = scope.type;
      patch.scope_id = scope.id;
    }
    if (u.lang !== undefined) patch.lang = u.lang;
    if (u.pm25Threshold !== undefined) patch.threshold = u.pm25Threshold;
    if (u.quietHours !== undefined) {
      patch.quiet_start = u.quietHours ? toMin(u.quietHours.start) : null;
      patch.quiet_end = u.quietHours ? toMin(u.quietHours.end) : null;
    }
    if (u.dailyCap !== undefined) patch.daily_cap = u.dailyCap;
    if (u.rules !== undefined) {
      this.checkRules(u.rules);
      patch.rules = u.rules ? JSON.stringify(u.rules) : null;
    }
    this.store.subs.update(s.id, patch);
    return this.view(token);
  }

  /** Deleted with its personal data. */
  remove(token: string): void {
    const s = this.byToken(token);
    this.store.tx(() => this.store.subs.delete(s.id));
    this.logger.info({ subscription: s.id }, 'subscription deleted');
  }

  /** One-click unsubscribe (RFC 8058): ended, contact details erased. */
  unsubscribe(token: string): void {
    const s = this.byToken(token);
    this.store.tx(() => this.store.subs.end(s.id, 'unsubscribed', this.now()));
    this.logger.info({ subscription: s.id }, 'unsubscribed');
  }
}
