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
}

export type SendResult =
  | { ok: true; detail: string }
  | { ok: false; retryable: boolean; detail: string; gone?: boolean };

export interface Channel {
  readonly name: string;
  send(msg: OutgoingMessage): Promise<SendResult>;
  close?(): Promise<void>;
}

export const httpResult = (status: number, body: string): SendResult =>
  status >= 200 && status < 300
    ? { ok: true, detail: `HTTP ${status}` }
    : {
        ok: false,
        retryable: status >= 500 || status === 429 || status === 408,
        detail: `HTTP ${status} ${body.slice(0, 200)}`,
        gone: status === 404 || status === 410,
      };
