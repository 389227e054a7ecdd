/**
 * The one duplicate SMTP cannot rule out, shown for real: the SMTP server has the whole message but
 * the service is killed (SIGKILL, a real child process) before the server's "250 OK" reached it.
 * After the restart the outbox sends the mail again — with the SAME Message-ID, so mail systems and
 * readers can recognise the repeat — and records it as sent once. SMTP has no idempotency key, so
 * email is at-least-once (README: Channels). Real Mosquitto, real SMTP server (smtp-server).
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { type MosquittoHandle, makeTempDir, removeDir, startMosquitto } from '@cnx/testkit';
import mqtt from 'mqtt';
import { SMTPServer } from 'smtp-server';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type Mail, parseMail, waitFor } from './helpers';
import { type AlertsProcess, busReading, publishBatch, startAlertsProcess } from './process';

const TOKEN = 'smtp-crash-staff-token-012345';
const MIN = 60_000;
let broker: MosquittoHandle;
let dir: string;
let alerts: AlertsProcess | undefined;
let smtp: SMTPServer;
let smtpUrl: string;
const mails: Mail[] = [];
/** While true, the server keeps the message but never answers the final "." (the client waits). */
let holdReply = true;

beforeAll(async () => {
  broker = await startMosquitto();
  dir = await makeTempDir('cnx-alerts-smtp-crash-');
  smtp = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, session, cb) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        for (const r of session.envelope.rcptTo)
          mails.push(parseMail(Buffer.concat(chunks).toString('utf8'), r.address));
        if (!holdReply) cb();
      });
    },
  });
  await new Promise<void>((r) => smtp.listen(0, '127.0.0.1', () => r()));
  smtpUrl = `smtp://127.0.0.1:${(smtp.server.address() as { port: number }).port}`;
});

afterAll(async () => {
  await alerts?.proc.kill('SIGKILL');
  await new Promise<void>((r) => smtp?.close(() => r()));
  await broker?.stop();
  if (dir) await removeDir(dir);
});

const messageId = (m: Mail) => /^Message-ID: (.*)$/im.exec(m.headers)?.[1]?.trim();

it('a crash between "message sent" and "250 OK" repeats the email once, with the same Message-ID', async () => {
  const staffFile = path.join(dir, 'staff.json');
  writeFileSync(
    staffFile,
    JSON.stringify([{ id: 'nok', name: 'Nok', token: TOKEN, tier: 0, channel: 'email', address: 'nok@city.example' }]),
  );
  const env = {
    CNX_DATA_DIR: dir,
    // The episodes below replay hours of readings in seconds: readings up to 10 h old still step the
    // rules here (live-window behaviour itself: quality.integration.test.ts).
    ALERTS_LIVE_WINDOW_MIN: '600',
    ALERTS_MQTT_URL: broker.url,
    ALERTS_SMTP_URL: smtpUrl,
    ALERTS_STAFF_FILE: staffFile,
    ALERTS_DISPATCH_POLL_MS: '50',
    ALERTS_SEND_TIMEOUT_MS: '60000', // the service waits for the 250 until it is killed
    // The restarted process sends once the killed one's sender lease has run out (src/lease.ts): as a
    // hot standby taking over would, with the same outbox row and Message-ID.
    ALERTS_LEASE_TTL_MS: '3000',
    ALERTS_LEASE_RENEW_MS: '500',
  };
  alerts = await startAlertsProcess(env);
  const pub = await mqtt.connectAsync(broker.url, { clientId: 'smtp-crash-pub' });
  const t0 = Date.now() - 35 * 5 * MIN;
  await publishBatch(
    pub,
    Array.from({ length: 36 }, (_, i) =>
      busReading('cm-air-oldcity-01', 'cm-air-oldcity-01-pms', 'air', 'old-city', t0 + i * 5 * MIN, {
        pm25: i < 12 ? 20 + (i % 3) : 60 + (i % 4),
      }),
    ),
  );
  await pub.endAsync();

  const first = await waitFor(() => mails[0], 'the alert mail reaches the SMTP server');
  await alerts.proc.kill('SIGKILL'); // before the server's reply: the outbox row is still pending
  holdReply = false;
  alerts = await startAlertsProcess(env);

  const second = await waitFor(() => mails[1], 'the alert mail sent again after the restart');
  expect(first.to).toBe('nok@city.example');
  expect(second.to).toBe('nok@city.example');
  expect(first.subject).toContain('PM2.5');
  expect(second.subject).toBe(first.subject);
  expect(messageId(first)).toMatch(/^<[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}@cnx-sense>$/);
  expect(messageId(second)).toBe(messageId(first));

  // The outbox records one delivery, sent on its first recorded attempt (the killed one left no record).
  const headers = { authorization: `Bearer ${TOKEN}` };
  const list = (await (await fetch(`${alerts.url}/v1/staff/alerts`, { headers })).json()) as {
    alerts: { id: number }[];
  };
  const audit = await waitFor(async () => {
    const a = (await (
      await fetch(`${alerts!.url}/v1/staff/alerts/${list.alerts[0]!.id}/audit`, { headers })
    ).json()) as {
      deliveries: { channel: string; status: string; attempts: number }[];
    };
    return a.deliveries.some((d) => d.channel === 'email' && d.status === 'sent') && a;
  }, 'the delivery recorded as sent');
  expect(audit.deliveries.filter((d) => d.channel === 'email')).toEqual([
    expect.objectContaining({ status: 'sent', attempts: 1 }),
  ]);
  expect(mails).toHaveLength(2); // sent is final: no third copy
});
