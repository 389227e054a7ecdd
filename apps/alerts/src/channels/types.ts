export interface OutgoingMessage {
  /** Stable across retries and restarts: LINE X-Line-Retry-Key, webhook X-Cnx-Delivery, email Message-ID. */
  retryKey: string;
  /** Contact (personal data): never logged. */
  address: string;
  /** Webhook signing secret. */
  secret?: string;
  subject: string;
  text: string;
  html: string;
  unsubscribeUrl?: string;
  /** Machine-readable event for webhook and MQTT. */
  payload: Record<string, unknown>;
  /** MQTT topic for the system channel. */
  topic?: string;
  /** Web Push Urgency (RFC 8030 §5.3); default 'normal'. */
  urgency?: 'very-low' | 'low' | 'normal' | 'high';
  /**
   * Web Push Topic (RFC 8030 §5.4, ≤ 32 base64url characters): a newer message of the same alert
   * replaces one the push service still holds for an offline device.
   */
  collapseKey?: string;
}

export type SendResult =
  | { ok: true; detail: string }
  | {
      ok: false;
      retryable: boolean;
      detail: string;
      /** The recipient no longer exists (push service 404/410): the subscription is dropped. */
      gone?: boolean;
      /** The server asked to wait this long (Retry-After), in ms. */
      retryAfterMs?: number;
    };

export interface Channel {
  readonly name: string;
  send(msg: OutgoingMessage): Promise<SendResult>;
  close?(): Promise<void>;
}

/** Retry-After (RFC 9110 §10.2.3): delay-seconds or an HTTP date; undefined when absent or unreadable. */
export function retryAfterMs(value: string | null | undefined, now = Date.now()): number | undefined {
  if (!value) return undefined;
  const v = value.trim();
  if (/^\d{1,9}$/.test(v)) return Number(v) * 1000;
  const at = Date.parse(v);
  return Number.isFinite(at) ? Math.max(0, at - now) : undefined;
}

export const httpResult = (status: number, body: string, retryAfter?: string | null): SendResult => {
  if (status >= 200 && status < 300) return { ok: true, detail: `HTTP ${status}` };
  const wait = retryAfterMs(retryAfter);
  return {
    ok: false,
    retryable: status >= 500 || status === 429 || status === 408,
    detail: `HTTP ${status} ${body.slice(0, 200)}`.trim(),
    ...(wait !== undefined ? { retryAfterMs: wait } : {}),
  };
};
