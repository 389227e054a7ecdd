/** Web Push with VAPID (RFC 8292) through `web-push`; 404/410 from the push service = subscription gone. */
import webpush from 'web-push';
import type { Channel, OutgoingMessage, SendResult } from './types';

export class WebPushChannel implements Channel {
  readonly name = 'webpush';
  constructor(
    private readonly opts: { vapid: { publicKey: string; privateKey: string; subject: string }; timeoutMs: number },
  ) {}

  async send(msg: OutgoingMessage): Promise<SendResult> {
    try {
      const sub = JSON.parse(msg.address) as webpush.PushSubscription;
      const res = await webpush.sendNotification(
        sub,
        JSON.stringify({ title: msg.subject, body: msg.text, data: msg.payload }),
        {
          vapidDetails: this.opts.vapid,
          TTL: 3600,
          timeout: this.opts.timeoutMs,
          headers: { Urgency: 'high' },
        },
      );
      return { ok: true, detail: `HTTP ${res.statusCode}` };
    } catch (e) {
      const status = (e as { statusCode?: number }).statusCode;
      if (status === undefined) return { ok: false, retryable: true, detail: (e as Error).message.slice(0, 300) };
      return {
        ok: false,
        retryable: status >= 500 || status === 429,
        gone: status === 404 || status === 410,
        detail: `HTTP ${status}`,
      };
    }
  }
}
