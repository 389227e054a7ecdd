/**
 * Kill the alerts service (SIGKILL, a real child process) while a LINE push is in flight; after a
 * restart the outbox re-sends it with the SAME X-Line-Retry-Key, and the local LINE endpoint
 * answers 409 to a repeated key, as LINE does: the alert is delivered exactly once.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, ManagedProcess, type MosquittoHandle, makeTempDir, removeDir, startMosquitto } from '@cnx/testkit';
import mqtt from 'mqtt';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { reading, startEndpoint, waitFor } from '../../apps/alerts/test/helpers';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const LINE_USER = `U${'b'.repeat(32)}`;
let broker: MosquittoHandle;
let dir: string;
let proc: ManagedProcess | undefined;
const accepted = new Set<string>(); // retry keys LINE has executed
let line: Awaited<ReturnType<typeof startEndpoint>>;

beforeAll(async () => {
  broker = await startMosquitto();
  dir = await makeTempDir('cnx-alerts-crash-');
  line = await startEndpoint(async (h) => {
    const key = String(h.headers['x-line-retry-key']);
    if (accepted.has(key)) return { status: 409, body: '{"message":"The retry key is already accepted"}' };
    accepted.add(key); // executed on arrival, like LINE; the answer is slow
    if (h.body.includes('PM2.5')) await new Promise((r) => setTimeout(r, 4000));
    return { status: 200, body: '{"sentMessages":[]}' };
  });
});

afterAll(async () => {
  await proc?.kill('SIGKILL');
  await line?.close();
  await broker?.stop();
  if (dir) await removeDir(dir);
});

async function startAlerts(port: number): Promise<ManagedProcess> {
  const p = ManagedProcess.spawn({
    name: 'alerts',
    command: process.execPath,
    args: ['--import', 'tsx', path.join(repoRoot, 'apps/alerts/src/main.ts')],
    cwd: repoRoot,
    env: {
      ...process.env,
      LOG_LEVEL: 'warn',
      CNX_DATA_DIR: dir,
      ALERTS_MQTT_URL: broker.url,
      ALERTS_HTTP_PORT: String(port),
      ALERTS_LINE_BASE_URL: line.url,
      ALERTS_LINE_TOKEN: 'crash-token',
      ALERTS_DISPATCH_POLL_MS: '50',
      ALERTS_RETRY_BASE_MS: '100',
      // The episode replays three hours of readings in seconds: let readings up to 10 h old step the
      // rules (the live window itself: apps/alerts test/quality.integration.test.ts).
      ALERTS_LIVE_WINDOW_MIN: '600',
    },
  });
  await p.waitUntilReady(
    async () => {
      try {
        return ((await (await fetch(`http://127.0.0.1:${port}/health`)).json()) as { status: string }).status === 'ok';
      } catch {
        return false;
      }
    },
    { timeoutMs: 60_000, what: 'alerts /health ok' },
  );
  return p;
}

it('an alert in flight during SIGKILL is delivered exactly once after restart', async () => {
  const port = await freePort();
  proc = await startAlerts(port);
  const base = `http://127.0.0.1:${port}`;
  const sub = await fetch(`${base}/v1/subscriptions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ channel: 'line', address: LINE_USER, station: 'cm-air-oldcity-01', rules: ['pm25-1h'] }),
  });
  expect(sub.status).toBe(202);
  const confirm = await waitFor(() => line.hits[0], 'confirmation push');
  const text = JSON.parse(confirm.body).messages[0].text as string;
  const token = /token=([\w-]+)/.exec(text)![1];
  const confirmed = await fetch(`${base}/v1/subscriptions/confirm`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ token }),
  });
  expect(confirmed.status).toBe(200);

  const pub = await mqtt.connectAsync(broker.url, { clientId: 'crash-pub' });
  const t0 = Date.now() - 3 * 3_600_000;
  const readings = Array.from({ length: 30 }, (_, i) =>
    reading('cm-air-oldcity-01', 'air', 'old-city', t0 + i * 300_000, { pm25: i < 10 ? 15 : 60 }),
  );
  await pub.publishAsync('cnx/v1/chiang-mai/readings', JSON.stringify({ v: 1, readings }), { qos: 1 });
  await pub.endAsync();

  const first = await waitFor(() => line.hits.find((h) => h.body.includes('PM2.5')), 'alert push in flight', 30_000);
  await proc.kill('SIGKILL'); // while LINE is still answering
  proc = await startAlerts(port);
  const retry = await waitFor(
    () =>
      line.hits.filter((h) => h.body.includes('PM2.5')).length >= 2 &&
      line.hits.filter((h) => h.body.includes('PM2.5'))[1],
    'the retried push',
    30_000,
  );
  // The restarted service takes the 409 as delivered once it has the answer: nothing left pending.
  await waitFor(
    async () => /alerts_outbox_pending 0\b/.test(await (await fetch(`${base}/metrics`)).text()),
    'the outbox empty after the retry',
    30_000,
  );
  const alertHits = line.hits.filter((h) => h.body.includes('PM2.5'));
  expect(retry.headers['x-line-retry-key']).toBe(first.headers['x-line-retry-key']);
  const executed = new Set(alertHits.map((h) => String(h.headers['x-line-retry-key']))).size;
  console.info(
    `alerts crash test: deliveries executed ${executed} vs expected 1 (requests ${alertHits.length}, 409 on the retry)`,
  );
  expect(executed).toBe(1);
  await proc.stop();
  proc = undefined;
}, 120_000);
