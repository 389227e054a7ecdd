/**
 * Signed webhook for social innovators' apps. Headers:
 *   X-Cnx-Delivery: <uuid>  (same on every retry: receivers deduplicate on it)
 *   X-Cnx-Timestamp: <unix seconds>
 *   X-Cnx-Signature: sha256=<hex HMAC-SHA256(secret, "<timestamp>.<raw body>")>
 * Verify in constant time and reject timestamps older than a few minutes (replay protection).
 * A receiver answering 410 Gone ends the subscription; 5xx, 408 and 429 are retried (Retry-After
 * honoured); other 4xx are permanent for that delivery.
 */
import { createHmac } from 'node:crypto';
import { type Channel, httpResult, type OutgoingMessage, type SendResult } from './types';

export function signWebhook(secret: string, timestamp: number, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

export class WebhookChannel implements Channel {
  readonly name = 'webhook';
  constructor(private readonly opts: { timeoutMs: number; now?: () => number }) {}

  async send(msg: OutgoingMessage): Promise<SendResult> {
    const body = JSON.stringify({ ...msg.payload, delivery: msg.retryKey });
    const ts = Math.floor((this.opts.now?.() ?? Date.now()) / 1000);
    const res = await fetch(msg.address, {
      method: 'POST',
      headers: {
        'Content-Type': 'application/json',
        'User-Agent': 'cnx-sense-alerts/1',
        'X-Cnx-Delivery': msg.retryKey,
        'X-Cnx-Timestamp': String(ts),
        'X-Cnx-Signature': signWebhook(msg.secret ?? '', ts, body),
      },
      body,
      redirect: 'error',
      signal: AbortSignal.timeout(this.opts.timeoutMs),
    });
    const result = httpResult(res.status, await res.text(), res.headers.get('retry-after'));
    return res.status === 410 && !result.ok ? { ...result, gone: true } : result;
  }
}
