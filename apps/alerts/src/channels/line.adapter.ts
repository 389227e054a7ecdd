/**
 * LINE Messaging API push (LINE Notify closed on 31 March 2025). The documented request:
 *   POST {base}/v2/bot/message/push
 *   Authorization: Bearer {channel access token}
 *   Content-Type: application/json
 *   X-Line-Retry-Key: {UUID kept with the outbox row}
 *   {"to": "<userId>", "messages": [{"type": "text", "text": "..."}]}
 * A retry with the same key is executed at most once by LINE and answers 409 when the first one
 * was accepted: that is success for us (exactly-once after a crash). @line/bot-sdk 11 needs
 * Node ≥ 22, so the request is made with fetch.
 */
import { type Channel, httpResult, type OutgoingMessage, type SendResult } from './types';

const LINE_TEXT_MAX = 5000;

export class LineChannel implements Channel {
  readonly name = 'line';
  constructor(private readonly opts: { baseUrl: string; token: string; timeoutMs: number }) {}

  async send(msg: OutgoingMessage): Promise<SendResult> {
    const res = await fetch(`${this.opts.baseUrl}/v2/bot/message/push`, {
      method: 'POST',
      headers: {
        Authorization: `Bearer ${this.opts.token}`,
        'Content-Type': 'application/json',
        'X-Line-Retry-Key': msg.retryKey,
      },
      body: JSON.stringify({ to: msg.address, messages: [{ type: 'text', text: msg.text.slice(0, LINE_TEXT_MAX) }] }),
      signal: AbortSignal.timeout(this.opts.timeoutMs),
    });
    const body = await res.text();
    if (res.status === 409) return { ok: true, detail: 'HTTP 409 already accepted (same X-Line-Retry-Key)' };
    return httpResult(res.status, body, res.headers.get('retry-after'));
  }
}
