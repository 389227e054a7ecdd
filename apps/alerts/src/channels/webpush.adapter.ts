/**
 * Web Push: the generic event delivery protocol (RFC 8030), message encryption (RFC 8291,
 * `Content-Encoding: aes128gcm`, RFC 8188) and VAPID (RFC 8292, `Authorization: vapid t=<ES256 JWT>,
 * k=<public key>`). `web-push` builds the request (encryption and the signed JWT); it is sent with
 * fetch, so the send timeout bounds it and a local push service in the tests can be plain HTTP.
 *
 * The push service's answer (RFC 8030 §5, §7.3, §8.4):
 * - 201 (any 2xx): accepted;
 * - 404 / 410: the subscription expired or was removed: `gone`, the dispatcher unsubscribes it (what
 *   browsers and the spec expect: never push to it again);
 * - 429, 5xx (and 408): retry later with backoff, at least the Retry-After it gave;
 * - other 4xx (400 malformed, 403 VAPID rejected, 413 payload too large): permanent for this delivery.
 */
import webpush from 'web-push';
import { type Channel, httpResult, type OutgoingMessage, type SendResult } from './types';

/** RFC 8291 §4: push services accept a 4096-octet body, i.e. at most 3993 octets of plaintext. */
export const MAX_PUSH_PLAINTEXT = 3993;
/** RFC 8030 §5.2: how long the push service keeps the message for an offline device, seconds. */
export const PUSH_TTL_S = 3600;

export interface PushSubscriptionJson {
  endpoint: string;
  keys: { p256dh: string; auth: string };
}

const B64URL = /^[A-Za-z0-9_-]+={0,2}$/;

/**
 * Why a PushSubscription (the browser's `subscription.toJSON()`) cannot be used, or undefined. RFC 8030
 * requires HTTPS towards the push service; `allowHttp` is for a local test push service only.
 */
export function pushSubscriptionProblem(value: unknown, allowHttp = false): string | undefined {
  const s = value as { endpoint?: unknown; keys?: { p256dh?: unknown; auth?: unknown } } | null | undefined;
  if (typeof s?.endpoint !== 'string' || typeof s.keys?.p256dh !== 'string' || typeof s.keys?.auth !== 'string')
    return 'must be a PushSubscription {endpoint, keys: {p256dh, auth}}';
  let url: URL;
  try {
    url = new URL(s.endpoint);
  } catch {
    return 'endpoint must be a URL';
  }
  if (url.protocol !== 'https:' && !(allowHttp && url.protocol === 'http:'))
    return 'endpoint must be an https URL (RFC 8030)';
  if (url.username || url.password) return 'endpoint must not contain credentials';
  // RFC 8291 §3.2: p256dh is an uncompressed P-256 point (65 octets), auth a 16-octet secret.
  const p256dh = Buffer.from(s.keys.p256dh, 'base64url');
  if (!B64URL.test(s.keys.p256dh) || p256dh.length !== 65 || p256dh[0] !== 4)
    return 'keys.p256dh must be an uncompressed P-256 public key, base64url (65 octets)';
  if (!B64URL.test(s.keys.auth) || Buffer.from(s.keys.auth, 'base64url').length !== 16)
    return 'keys.auth must be 16 octets, base64url';
  return undefined;
}

/** The notification as the service worker receives it (`event.data.json()`), within the size limit. */
export function pushPayload(msg: OutgoingMessage): string {
  const full: Record<string, unknown> = { title: msg.subject, body: msg.text, data: msg.payload };
  if (msg.unsubscribeUrl) full.unsubscribeUrl = msg.unsubscribeUrl;
  let text = JSON.stringify(full);
  if (Buffer.byteLength(text) <= MAX_PUSH_PLAINTEXT) return text;
  // Too long (long names in both languages): keep the title and as much of the text as fits.
  const { data: _data, ...rest } = full;
  let body = msg.text;
  for (;;) {
    text = JSON.stringify({ ...rest, body });
    const over = Buffer.byteLength(text) - MAX_PUSH_PLAINTEXT;
    if (over <= 0) return text;
    body = `${body.slice(0, Math.max(0, body.length - Math.max(1, Math.ceil(over / 3)) - 1))}…`;
  }
}

export class WebPushChannel implements Channel {
  readonly name = 'webpush';
  constructor(
    private readonly opts: {
      vapid: { publicKey: string; privateKey: string; subject: string };
      timeoutMs: number;
      /** Accept http:// endpoints (local test push services; RFC 8030 requires TLS). */
      allowHttp?: boolean;
    },
  ) {}

  async send(msg: OutgoingMessage): Promise<SendResult> {
    let req: ReturnType<typeof webpush.generateRequestDetails>;
    try {
      const sub = JSON.parse(msg.address) as PushSubscriptionJson;
      const problem = pushSubscriptionProblem(sub, this.opts.allowHttp);
      if (problem) return { ok: false, retryable: false, detail: `push subscription ${problem}` };
      req = webpush.generateRequestDetails(sub, pushPayload(msg), {
        vapidDetails: this.opts.vapid,
        TTL: PUSH_TTL_S,
        contentEncoding: 'aes128gcm',
        urgency: msg.urgency ?? 'normal',
        ...(msg.collapseKey ? { topic: msg.collapseKey } : {}),
      });
    } catch (e) {
      return { ok: false, retryable: false, detail: `cannot build the push request: ${(e as Error).message}` };
    }
    const headers: Record<string, string> = {};
    // fetch sets Content-Length itself from the body.
    for (const [k, v] of Object.entries(req.headers)) if (k.toLowerCase() !== 'content-length') headers[k] = String(v);
    const res = await fetch(req.endpoint, {
      method: 'POST',
      headers,
      body: req.body ?? undefined,
      redirect: 'error',
      signal: AbortSignal.timeout(this.opts.timeoutMs),
    });
    const result = httpResult(res.status, await res.text(), res.headers.get('retry-after'));
    return !result.ok && (res.status === 404 || res.status === 410) ? { ...result, gone: true } : result;
  }
}
