/** Email over SMTP (nodemailer): text + HTML, one-click unsubscribe (RFC 8058 headers). */
import nodemailer, { type Transporter } from 'nodemailer';
import type { Channel, OutgoingMessage, SendResult } from './types';

export class EmailChannel implements Channel {
  readonly name = 'email';
  private readonly transport: Transporter;
  constructor(private readonly opts: { smtpUrl: string; from: string; timeoutMs: number }) {
    this.transport = nodemailer.createTransport(opts.smtpUrl, {
      connectionTimeout: opts.timeoutMs,
      greetingTimeout: opts.timeoutMs,
      socketTimeout: opts.timeoutMs,
    } as never);
  }

  async send(msg: OutgoingMessage): Promise<SendResult> {
    try {
      const info = await this.transport.sendMail({
        from: this.opts.from,
        to: msg.address,
        subject: msg.subject,
        text: msg.text,
        html: msg.html,
        messageId: `<${msg.retryKey}@cnx-sense>`,
        textEncoding: 'base64',
        headers: msg.unsubscribeUrl
          ? { 'List-Unsubscribe': `<${msg.unsubscribeUrl}>`, 'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click' }
          : {},
      });
      return { ok: true, detail: String(info.response ?? 'sent') };
    } catch (e) {
      const err = e as { responseCode?: number; message: string };
      const permanent = err.responseCode !== undefined && err.responseCode >= 500;
      return {
        ok: false,
        retryable: !permanent,
        detail: `SMTP ${err.responseCode ?? ''} ${err.message}`.slice(0, 300),
      };
    }
  }

  async close(): Promise<void> {
    this.transport.close();
  }
}
