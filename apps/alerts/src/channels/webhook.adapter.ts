/**
 * Signed webhooks for social innovators' apps, the Standard Webhooks way (the `standardwebhooks` package), so a
 * receiver verifies with an existing library (`standardwebhooks` for TypeScript, Python, Go, ...):
 *   webhook-id: <the outbox row's retry key>   (the same on every retry: receivers deduplicate on it)
 *   webhook-timestamp: <unix seconds of this attempt>
 *   webhook-signature: v1,<base64 HMAC-SHA256(secret, "<id>.<timestamp>.<raw body>")>
 * Body: `{"type": "alert.raised" | ... | "subscription.confirm", "timestamp": RFC 3339, "data": {...}}`.
 * The signing is the `standardwebhooks` package's, not ours. A subscriber's secret is `whsec_` +
 * base64 of 32 random bytes, shown once at subscription; a staff member's secret in ALERTS_STAFF_FILE
 * may be such a `whsec_` secret or any other text (then its UTF-8 bytes are the key).
 * A receiver answering 410 Gone ends the subscription; 5xx, 408 and 429 are retried (Retry-After
 * honoured); other 4xx are permanent for that delivery.
 */
import { randomBytes } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { type Channel, httpResult, type OutgoingMessage, type SendResult } from './types';

/** A new subscriber secret in the Standard Webhooks format. */
export const newWebhookSecret = (): string => `whsec_${randomBytes(32).toString('base64')}`;

/** The signer for a secret: `whsec_<base64>` as the standard says, anything else as raw UTF-8 bytes. */
export function webhookSigner(secret: string): Webhook {
  return secret.startsWith('whsec_')
    ? new Webhook(secret)
    : new Webhook(new Uint8Array(Buffer.from(secret, 'utf8')), { format: 'raw' });
}

/** The body of a webhook delivery (Standard Webhooks' recommended payload structure). */
export function webhookBody(msg: OutgoingMessage, at: Date): string {
  const type = String(msg.payload.type ?? 'event');
  return JSON.stringify({
    type: type.includes('.') ? type : `alert.${type}`,
    timestamp: at.toISOString(),
    data: msg.unsubscribeUrl ? { ...msg.payload, unsubscribeUrl: msg.unsubscribeUrl } : msg.payload,
  });
}

export class WebhookChannel implements Channel {
  readonly name = 'webhook';
  constructor(private readonly opts: { timeoutMs: number; now?: () => number }) {}

  async send(msg: OutgoingMessage): Promise<SendResult> {
    // Subscribers always have a secret; a staff member's webhook without one (an internal endpoint in
    // ALERTS_STAFF_FILE) is sent unsigned.
    let signer: Webhook | undefined;
    try {
      signer = msg.secret ? webhookSigner(msg.secret) : undefined;
    } catch (e) {
      return { ok: false, retryable: false, detail: `webhook secret unusable: ${(e as Error).message}` };
    }
    const at = new Date(this.opts.now?.() ?? Date.now());
    const body = webhookBody(msg, at);
    const res = await fetch(msg.address, {
      method: 'POST',
      headers: {
        'Content-Type': 'application/json',
        'User-Agent': 'cnx-sense-alerts/1',
        'webhook-id': msg.retryKey,
        'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
        ...(signer ? { 'webhook-signature': signer.sign(msg.retryKey, at, body) } : {}),
      },
      body,
      redirect: 'error',
      signal: AbortSignal.timeout(this.opts.timeoutMs),
    });
    const result = httpResult(res.status, await res.text(), res.headers.get('retry-after'));
    return res.status === 410 && !result.ok ? { ...result, gone: true } : result;
  }
}
