/**
 * Outbox worker: sends due rows, records every attempt, retries with exponential backoff (with
 * jitter, capped), gives up after maxAttempts. A row is marked sent only after the channel confirmed;
 * a crash in between leaves it pending and it is re-sent with the same retry key after a restart.
 */

import { type AlertCity, type AlertLang, type AlertRule, alertText, formatAlertValue, localIsoTime } from '@cnx/domain';
import type { AlertEventPayload } from '@cnx/protocol';
import type { Logger } from '@cnx/runtime';
import { alertTopic } from './bus';
import type { Channel, OutgoingMessage } from './channels/types';
import type { AlertsConfig } from './config';
import type { Evaluator } from './evaluator';
import { LeaseLostError, type SenderFence, UNFENCED } from './lease';
import { redactContacts } from './privacy';
import type { AlertStore, EventRow, OutboxRow } from './store';

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

export interface DispatchStats {
  sent: number;
  failedAttempts: number;
  gaveUp: number;
  latencyMs: number[];
}

export class Dispatcher {
  private timer?: NodeJS.Timeout;
  private running = false;
  private again = false;
  private stopped = false;
  private readonly inFlight = new Set<Promise<void>>();
  readonly stats: DispatchStats = { sent: 0, failedAttempts: 0, gaveUp: 0, latencyMs: [] };

  constructor(
    private readonly store: AlertStore,
    private readonly evaluator: Evaluator,
    private readonly channels: ReadonlyMap<string, Channel>,
    private readonly cfg: AlertsConfig,
    private readonly logger: Logger,
    private readonly now: () => number = Date.now,
    /** The sender lease (lease.ts): only its holder claims and settles rows, each write fenced by its epoch. */
    private readonly fence: SenderFence = UNFENCED,
  ) {}

  start(): void {
    this.stopped = false;
    this.timer = setInterval(() => this.kick(), this.cfg.dispatchPollMs);
    this.kick();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await Promise.allSettled([...this.inFlight]);
  }

  kick(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = true;
    const p = this.drain()
      .catch((e) => {
        // A lost lease was logged where it was found (lease.ts); the service has stepped down.
        if (!(e instanceof LeaseLostError)) this.logger.error({ err: e }, 'dispatch failed');
      })
      .finally(() => {
        this.running = false;
        this.inFlight.delete(p);
        if (this.again) {
          this.again = false;
          this.kick();
        }
      });
    this.inFlight.add(p);
  }

  private async drain(): Promise<void> {
    for (;;) {
      if (!this.fence.isLeader()) return; // a standby never sends
      const rows = this.store.dueOutbox(this.now(), 16);
      if (!rows.length || this.stopped) return;
      await Promise.all(rows.map((r) => this.deliver(r)));
    }
  }

  /** Settle a row: a write only the sender of the current epoch can make (else LeaseLostError). */
  private settle(fn: () => void): void {
    this.fence.fenced(fn);
  }

  private async deliver(row: OutboxRow): Promise<void> {
    // Claimed under a live lease: a leader frozen past its expiry and replaced cannot start a send.
    if (!this.fence.fenced((epoch) => this.store.claim(row.id, row.attempts, epoch), { live: true })) return;
    const ch = this.channels.get(row.channel);
    const at = this.now();
    const log = this.logger.child({ outbox: row.id, channel: row.channel, target: row.target_kind });
    let msg: OutgoingMessage | undefined;
    try {
      msg = this.render(row);
    } catch (e) {
      log.error({ err: e }, 'cannot render message');
    }
    if (!ch || !msg) {
      this.settle(() =>
        this.store.recordAttempt(row.id, at, false, ch ? 'target or event missing' : 'channel not configured', {
          status: 'failed',
          attempts: row.attempts + 1,
          last_error: ch ? 'target_missing' : 'channel_not_configured',
        }),
      );
      this.stats.gaveUp++;
      log.warn({}, 'delivery dropped');
      return;
    }
    let result: Awaited<ReturnType<Channel['send']>>;
    // Each channel bounds its own request (fetch signal, SMTP socket timeouts); this guard catches one
    // that never settles (an MQTT publish waiting for a PUBACK across an outage), which would otherwise
    // hold the whole outbox. The late send may still happen: a retry can then repeat it (at-least-once).
    const guardMs = 2 * this.cfg.sendTimeoutMs;
    let guard: NodeJS.Timeout | undefined;
    try {
      result = await Promise.race([
        ch.send(msg),
        new Promise<never>((_, reject) => {
          guard = setTimeout(() => reject(new Error(`no answer within ${guardMs} ms`)), guardMs);
        }),
      ]);
    } catch (e) {
      result = { ok: false, retryable: true, detail: (e as Error).message.slice(0, 300) };
    } finally {
      clearTimeout(guard);
    }
    const attempts = row.attempts + 1;
    const done = this.now();
    if (result.ok) {
      // A replaced leader fails here: the row stays pending and the new one re-sends it with the same key.
      this.settle(() =>
        this.store.recordAttempt(row.id, done, true, result.detail, {
          status: 'sent',
          attempts,
          sent_at: done,
          last_error: null,
        }),
      );
      this.stats.sent++;
      if (row.kind === 'alert') this.stats.latencyMs.push(done - row.created_at);
      log.debug({ attempts }, 'delivered');
      return;
    }
    this.stats.failedAttempts++;
    if (result.gone) {
      // RFC 8030 §7.3 (push 404/410), webhook 410: the recipient is gone; never send to it again.
      if (row.target_kind === 'subscriber') {
        this.settle(() => {
          this.store.subs.end(Number(row.target_id), 'subscription_gone');
          this.store.audit(done, 'system', 'subscription_gone', null, {
            subscription: Number(row.target_id),
            channel: row.channel,
          });
        });
        log.info({ subscription: Number(row.target_id) }, 'recipient gone: subscription ended');
      } else if (row.target_kind === 'staff')
        log.error({ staff: row.target_id }, 'staff contact is gone: update ALERTS_STAFF_FILE');
    }
    if (result.gone || !result.retryable || attempts >= this.cfg.maxAttempts) {
      this.settle(() =>
        this.store.recordAttempt(row.id, done, false, result.detail, {
          status: 'failed',
          attempts,
          last_error: result.detail,
        }),
      );
      this.stats.gaveUp++;
      log.warn({ attempts, detail: redactContacts(result.detail) }, 'delivery failed for good');
      return;
    }
    const backoff = Math.min(this.cfg.retryMaxMs, this.cfg.retryBaseMs * 2 ** (attempts - 1));
    // Never sooner than the server asked (Retry-After on 429/503), never later than the cap.
    const wait = Math.max(Math.round(backoff * (0.8 + Math.random() * 0.4)), result.retryAfterMs ?? 0);
    const next = done + Math.min(wait, this.cfg.retryMaxMs);
    this.settle(() =>
      this.store.recordAttempt(row.id, done, false, result.detail, {
        attempts,
        next_attempt_at: next,
        last_error: result.detail,
      }),
    );
    log.info(
      { attempts, retryInMs: next - done, detail: redactContacts(result.detail) },
      'delivery failed, will retry',
    );
  }

  /** Build the message for one outbox row; undefined when its target no longer exists. */
  render(row: OutboxRow): OutgoingMessage | undefined {
    const target = this.target(row);
    if (!target) return undefined;
    if (row.kind === 'confirm') return this.renderConfirm(row, target);
    const ev = this.store.getEvent(row.event_id!);
    if (!ev) return undefined;
    const rule = this.evaluator.rule(ev.rule_id);
    if (!rule) return undefined;
    const subjectName = this.evaluator.subjectName(ev.subject_type, ev.subject_id);
    const input = {
      rule,
      type: ev.type as never,
      level: ev.level,
      previousLevel: ev.previous_level,
      value: ev.value ?? undefined,
      subjectName,
      ts: ev.ts,
      city: this.city(),
    };
    const first: AlertLang = target.lang;
    const second: AlertLang = first === 'th' ? 'en' : 'th';
    const a = alertText(input, first);
    const b = alertText(input, second);
    const links = target.token ? subscriberLinks(this.cfg, target.token) : undefined;
    const unsubscribeUrl = links?.oneClick;
    const unsub = links
      ? `\n\n${first === 'th' ? 'ยกเลิกการรับ / Unsubscribe' : 'Unsubscribe / ยกเลิกการรับ'}: ${links.unsubscribePage}` +
        `\n${first === 'th' ? 'ตั้งค่า / Manage' : 'Manage / ตั้งค่า'}: ${links.manage}`
      : '';
    const text = `${a.body}\n\n${b.body}${unsub}`;
    const html =
      `<h2>${esc(a.subject)}</h2><p>${esc(a.body).replace(/\n/g, '<br>')}</p><hr>` +
      `<h3>${esc(b.subject)}</h3><p>${esc(b.body).replace(/\n/g, '<br>')}</p>` +
      (links
        ? `<p><a href="${esc(links.unsubscribePage)}">ยกเลิกการรับ / Unsubscribe</a> · ` +
          `<a href="${esc(links.manage)}">ตั้งค่า / Manage</a></p>`
        : '');
    return {
      retryKey: row.retry_key,
      address: target.address,
      secret: target.secret,
      subject: a.subject,
      text,
      html,
      unsubscribeUrl,
      topic: alertTopic(this.cfg.city, ev.rule_id, ev.subject_id),
      payload: eventPayload(
        this.cfg.city,
        ev,
        rule,
        subjectName,
        this.store.getAlert(ev.alert_id)?.since ?? ev.ts,
        this.city(),
      ),
      urgency: pushUrgency(ev.type, rule.levels[ev.level]?.severity),
      collapseKey: `cnx-alert-${ev.alert_id}`,
    };
  }

  /** The double opt-in message: the confirm page's link (a click there confirms: never a bare GET). */
  private renderConfirm(
    row: OutboxRow,
    target: { address: string; lang: AlertLang; token?: string; secret?: string },
  ): OutgoingMessage | undefined {
    const sub = this.store.subs.get(Number(row.target_id));
    if (sub?.status !== 'pending' || !target.token) return undefined;
    const links = subscriberLinks(this.cfg, target.token);
    const th =
      `มีคำขอรับการแจ้งเตือน cnx-sense มาที่ที่อยู่นี้ กดลิงก์เพื่อยืนยัน: ${links.confirm}\n` +
      'ถ้าคุณไม่ได้ขอ ไม่ต้องทำอะไร จะไม่มีข้อความอื่นส่งมาอีก';
    const en =
      `Someone asked for cnx-sense alerts at this address. Confirm here: ${links.confirm}\n` +
      'If it was not you, do nothing: nothing else will be sent.';
    const text = target.lang === 'en' ? `${en}\n\n${th}` : `${th}\n\n${en}`;
    return {
      retryKey: row.retry_key,
      address: target.address,
      secret: target.secret,
      subject: 'ยืนยันการรับการแจ้งเตือน / Confirm your alert subscription',
      text,
      html: `<p>${esc(text).replace(/\n/g, '<br>')}</p><p><a href="${esc(links.confirm)}">ยืนยัน / Confirm</a></p>`,
      // The webhook (an app) confirms with the token: POST {publicApi}/v1/subscriptions/confirm {token}.
      payload: {
        type: 'subscription.confirm',
        confirmUrl: links.confirm,
        confirmApi: `${this.cfg.publicApiUrl}/v1/subscriptions/confirm`,
        token: target.token,
      },
      urgency: 'normal',
    };
  }

  /** The city's name and time zone (city pack) for the time line of every message. */
  private city(): AlertCity {
    return { name: this.evaluator.city.name, timeZone: this.evaluator.city.timeZone };
  }

  private target(row: OutboxRow): { address: string; lang: AlertLang; token?: string; secret?: string } | undefined {
    if (row.target_kind === 'system') return { address: 'bus', lang: 'th' };
    if (row.target_kind === 'staff') {
      const s = this.cfg.staff.find((x) => x.id === row.target_id);
      return s ? { address: s.address, lang: 'th', secret: s.secret } : undefined;
    }
    const sub = this.store.subs.get(Number(row.target_id));
    if (!sub || (sub.status === 'unsubscribed' && row.kind === 'alert')) return undefined;
    const contact = JSON.parse(sub.address) as { address: string; secret?: string };
    return { address: contact.address, lang: sub.lang, token: sub.token, secret: contact.secret };
  }
}

/** The links every subscriber message carries (dashboard pages; the API's one-click unsubscribe). */
export function subscriberLinks(cfg: Pick<AlertsConfig, 'dashboardUrl' | 'publicApiUrl'>, token: string) {
  const t = encodeURIComponent(token);
  return {
    confirm: `${cfg.dashboardUrl}/alerts/confirm?token=${t}`,
    manage: `${cfg.dashboardUrl}/alerts/manage?token=${t}`,
    unsubscribePage: `${cfg.dashboardUrl}/alerts/unsubscribe?token=${t}`,
    /** RFC 8058: POST here unsubscribes (List-Unsubscribe-Post; Web Push and webhooks too). */
    oneClick: `${cfg.publicApiUrl}/v1/unsubscribe?token=${t}`,
  };
}

/**
 * Web Push Urgency (RFC 8030 §5.3): 'high' ("time-sensitive alert") for warnings and critical levels
 * as they start or worsen; 'normal' for information (offline, stuck) and for good news.
 */
export function pushUrgency(type: string, severity: string | undefined): 'normal' | 'high' {
  if (type === 'cleared' || type === 'deescalated') return 'normal';
  return severity === 'warning' || severity === 'critical' ? 'high' : 'normal';
}

/** The public event shape (webhook body, MQTT alert topic): no personal data. */
export function eventPayload(
  city: string,
  ev: Omit<EventRow, 'id' | 'created_at'>,
  rule: AlertRule,
  subjectName: { th: string; en: string },
  since: number,
  /** The city's name and IANA time zone (city.json): `time` is the event's local time with its offset. */
  place: AlertCity,
): AlertEventPayload {
  const lvl = rule.levels[ev.type === 'cleared' ? ev.previous_level : ev.level];
  const input = {
    rule,
    type: ev.type as never,
    level: ev.level,
    previousLevel: ev.previous_level,
    value: ev.value ?? undefined,
    subjectName,
    ts: ev.ts,
    city: place,
  };
  const th = alertText(input, 'th');
  const en = alertText(input, 'en');
  return {
    v: 1,
    city,
    alertId: ev.alert_id,
    type: ev.type as AlertEventPayload['type'],
    rule: ev.rule_id,
    ruleName: rule.name,
    signal: rule.signal,
    subject: { type: ev.subject_type as AlertEventPayload['subject']['type'], id: ev.subject_id, name: subjectName },
    level: ev.type === 'cleared' ? null : (lvl?.id ?? null),
    severity: ev.type === 'cleared' ? null : (lvl?.severity ?? null),
    value: ev.value,
    levelLabel: lvl?.label ?? null,
    valueText: formatAlertValue(rule, ev.value ?? undefined),
    ts: ev.ts,
    time: localIsoTime(ev.ts, place.timeZone),
    since: new Date(since).toISOString(),
    text: { th: { title: th.subject, body: th.body }, en: { title: en.subject, body: en.body } },
  };
}
