/**
 * A failed delivery is logged with the channel's error text, and a real SMTP server's refusal quotes
 * the recipient: the logged text must not carry the address (PDPA, docs/privacy.md).
 */
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { EmailChannel } from '../src/channels/email.adapter';
import { redactContacts } from '../src/privacy';

let server: SMTPServer;
let url: string;
beforeAll(async () => {
  server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onRcptTo(address, _session, cb) {
      const err = new Error(`<${address.address}>: Recipient address rejected: mailbox full`) as Error & {
        responseCode: number;
      };
      err.responseCode = 552;
      cb(err);
    },
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  url = `smtp://127.0.0.1:${(server.server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

it("an SMTP server's refusal quotes the address; the logged text does not", async () => {
  const channel = new EmailChannel({ smtpUrl: url, from: 'alerts@example.org', timeoutMs: 5000 });
  const result = await channel.send({
    retryKey: 'k1',
    address: 'somchai.citizen@example.co.th',
    subject: 'PM2.5',
    text: 'x',
    html: '<p>x</p>',
    payload: {},
  });
  expect(result.ok).toBe(false);
  expect(result.detail).toContain('somchai.citizen@example.co.th'); // what the server said
  const logged = redactContacts(result.detail)!;
  expect(logged).not.toContain('somchai');
  expect(logged).toContain('<email>');
  expect(logged).toMatch(/552|mailbox full/);
});

it('LINE user ids and push endpoint URLs are removed too; other text is kept', () => {
  expect(
    redactContacts(
      `400 {"message":"The user U${'a1'.repeat(16)} has blocked"} at https://fcm.googleapis.com/fcm/send/abc:XYZ`,
    ),
  ).toBe('400 {"message":"The user <line-user> has blocked"} at <url>');
  expect(redactContacts('ETIMEDOUT after 10000 ms')).toBe('ETIMEDOUT after 10000 ms');
  expect(redactContacts(undefined)).toBeUndefined();
});
