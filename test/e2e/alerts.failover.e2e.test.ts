/**
 * Hot standby on one SQLite file: real alerts processes (A, B, later C) on one store and a real
 * Mosquitto; a local LINE endpoint executes each X-Line-Retry-Key once and answers 409 to a repeat,
 * as LINE does, and records which process sent each request (every process has its own LINE token).
 *
 * 1. A leads (it took the sender lease), B is a standby that answers HTTP: a threshold crossing is
 *    delivered once, by A.
 * 2. A is SIGKILLed while a push is in flight: B takes over when A's lease expires (waited for, never
 *    slept) and re-sends the row with the same key: 409, so it is executed once.
 * 3. B leads, C is the standby. B is SIGSTOPped while a push is in flight, past its lease: C takes over
 *    and re-sends (409). After SIGCONT, B's answer arrives but its write is fenced: it logs
 *    `sender lease lost`, steps down to standby and sends nothing more; the next alert is C's alone.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, ManagedProcess, type MosquittoHandle, makeTempDir, removeDir, startMosquitto } from '@cnx/testkit';
import mqtt from 'mqtt';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { reading, startEndpoint, waitFor } from '../../apps/alerts/test/helpers';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
// Long enough that a leader slowed by a busy machine (not stopped) keeps its lease.
const TTL_MS = 6000;
const RENEW_MS = 1000;

interface Request {
  key: string;
  to: string;
  token: string;
  alert: boolean;
  status: number;
  at: number;
}
interface Alerts {
  name: string;
  proc: ManagedProcess;
  base: string;
}
interface Health {
  status: string;
  role: 'leader' | 'standby';
  checks: {
    sender: {
      detail: {
        epoch: number | null;
        holder: string | null;
        tookOverFrom: { holder: string; epoch: number; expiredAt: string; acquiredAt: string } | null;
      };
    };
  };
}

let broker: MosquittoHandle;
let dir: string;
const procs: Alerts[] = [];
const requests: Request[] = [];
const executed = new Set<string>(); // retry keys LINE has executed
/** While armed, the next alert push is executed on arrival and its answer waits for `release`. */
let gate: { held?: Request; release: () => void; released: Promise<void> } | undefined;
let line: Awaited<ReturnType<typeof startEndpoint>>;

function armGate() {
  let release = () => {};
  const released = new Promise<void>((r) => {
    release = r;
  });
  gate = { release, released };
  return gate;
}

beforeAll(async () => {
  broker = await startMosquitto();
  dir = await makeTempDir('cnx-alerts-failover-');
  line = await startEndpoint(async (h) => {
    const body = JSON.parse(h.body) as { to: string; messages: { text: string }[] };
    const r: Request = {
      key: String(h.headers['x-line-retry-key']),
      to: body.to,
      token: String(h.headers.authorization).replace(/^Bearer /, ''),
      alert: body.messages[0]!.text.includes('PM2.5'),
      status: 200,
      at: Date.now(),
    };
    requests.push(r);
    if (executed.has(r.key)) {
      r.status = 409;
      return { status: 409, body: '{"message":"The retry key is already accepted"}' };
    }
    executed.add(r.key); // executed on arrival, like LINE
    const g = gate;
    if (r.alert && g && !g.held) {
      g.held = r;
      await g.released;
    }
    return { status: 200, body: '{"sentMessages":[]}' };
  });
});

afterAll(async () => {
  for (const p of procs) {
    if (p.proc.running && p.proc.pid) process.kill(p.proc.pid, 'SIGCONT');
    await p.proc.kill('SIGKILL');
  }
  gate?.release();
  await line?.close();
  await broker?.stop();
  if (dir) await removeDir(dir);
});

async function health(a: Alerts): Promise<Health | undefined> {
  try {
    return (await (await fetch(`${a.base}/health`)).json()) as Health;
  } catch {
    return undefined;
  }
}

async function startAlerts(name: string, role: Health['role']): Promise<Alerts> {
  const port = await freePort();
  const proc = ManagedProcess.spawn({
    name: `alerts-${name}`,
    command: process.execPath,
    args: ['--import', 'tsx', path.join(repoRoot, 'apps/alerts/src/main.ts')],
    cwd: repoRoot,
    tailLines: 5000,
    env: {
      ...process.env,
      LOG_LEVEL: 'warn',
      CNX_DATA_DIR: dir, // one store for all
      ALERTS_INSTANCE_ID: name,
      ALERTS_LEASE_TTL_MS: String(TTL_MS),
      ALERTS_LEASE_RENEW_MS: String(RENEW_MS),
      ALERTS_MQTT_URL: broker.url,
      ALERTS_HTTP_PORT: String(port),
      ALERTS_LINE_BASE_URL: line.url,
      ALERTS_LINE_TOKEN: `token-${name}`,
      ALERTS_DISPATCH_POLL_MS: '50',
      ALERTS_RETRY_BASE_MS: '100',
      ALERTS_LIVE_WINDOW_MIN: '600', // the episodes replay three hours of readings in seconds
    },
  });
  const a = { name, proc, base: `http://127.0.0.1:${port}` };
  procs.push(a);
  await proc.waitUntilReady(async () => (await health(a))?.role === role && (await health(a))?.status === 'ok', {
    timeoutMs: 60_000,
    what: `alerts ${name} /health ${role}`,
  });
  return a;
}

/** Subscribe and confirm through `via` (a standby answers HTTP too); the leader sends the confirmation. */
async function subscribe(via: Alerts, user: string, station: string): Promise<void> {
  const sub = await fetch(`${via.base}/v1/subscriptions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ channel: 'line', address: user, station, rules: ['pm25-1h'] }),
  });
  expect(sub.status).toBe(202);
  const confirm = await waitFor(() => line.hits.find((h) => JSON.parse(h.body).to === user), `confirmation to ${user}`);
  const token = /token=([\w-]+)/.exec(JSON.parse(confirm.body).messages[0].text)![1];
  const confirmed = await fetch(`${via.base}/v1/subscriptions/confirm`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ token }),
  });
  expect(confirmed.status).toBe(200);
}

/** Three hours of PM2.5 at one station, above the orange threshold for the last two: one alert. */
async function haze(station: string): Promise<void> {
  const pub = await mqtt.connectAsync(broker.url, { clientId: `failover-pub-${station}` });
  const t0 = Date.now() - 3 * 3_600_000;
  const readings = Array.from({ length: 30 }, (_, i) =>
    reading(station, 'air', 'old-city', t0 + i * 300_000, { pm25: i < 10 ? 15 : 60 }),
  );
  await pub.publishAsync('cnx/v1/chiang-mai/readings', JSON.stringify({ v: 1, readings }), { qos: 1 });
  await pub.endAsync();
}

const alertsTo = (user: string) => requests.filter((r) => r.alert && r.to === user);
const user = (n: number) => `U${String(n).repeat(32)}`;

async function takeover(standby: Alerts, from: string): Promise<{ ms: number; lagMs: number; epoch: number }> {
  const t0 = Date.now();
  const h = await waitFor(
    async () => {
      const x = await health(standby);
      return x?.role === 'leader' && x;
    },
    `${standby.name} takes the sender lease`,
    30_000,
  );
  const ms = Date.now() - t0;
  const prev = h.checks.sender.detail.tookOverFrom!;
  expect(prev.holder).toBe(from);
  // never before the previous holder's lease ran out
  const lagMs = Date.parse(prev.acquiredAt) - Date.parse(prev.expiredAt);
  expect(lagMs).toBeGreaterThanOrEqual(0);
  return { ms, lagMs, epoch: h.checks.sender.detail.epoch! };
}

it('failover: one sender at a time, and no notification is executed twice (SIGKILL, then SIGSTOP)', async () => {
  const a = await startAlerts('a', 'leader');
  const b = await startAlerts('b', 'standby');
  for (const [n, station] of [
    [1, 'cm-air-oldcity-01'],
    [2, 'cm-air-oldcity-02'],
    [3, 'cm-air-oldcity-03'],
    [4, 'cm-air-oldcity-04'],
  ] as const)
    await subscribe(b, user(n), station);
  expect(requests.every((r) => r.token === 'token-a')).toBe(true); // the standby sent nothing

  // 1. while A leads: delivered once, by A
  await haze('cm-air-oldcity-01');
  const one = await waitFor(() => alertsTo(user(1))[0], 'the first alert');
  expect(one.token).toBe('token-a');

  // 2. SIGKILL A while its push is in flight
  const held2 = armGate();
  await haze('cm-air-oldcity-02');
  const inFlight = await waitFor(() => held2.held, 'the second alert in flight');
  expect(inFlight.token).toBe('token-a');
  await a.proc.kill('SIGKILL');
  const killed = await takeover(b, 'a');
  const resent = await waitFor(() => alertsTo(user(2))[1], 'B re-sends the row A left pending');
  expect(resent).toMatchObject({ key: inFlight.key, token: 'token-b', status: 409 });
  held2.release();

  // 3. B leads, C stands by; SIGSTOP B past its lease while its push is in flight
  const c = await startAlerts('c', 'standby');
  const held3 = armGate();
  await haze('cm-air-oldcity-03');
  const inFlight3 = await waitFor(() => held3.held, 'the third alert in flight');
  expect(inFlight3.token).toBe('token-b');
  process.kill(b.proc.pid!, 'SIGSTOP');
  const paused = await takeover(c, 'b');
  const resent3 = await waitFor(() => alertsTo(user(3))[1], 'C re-sends the row B has not settled');
  expect(resent3).toMatchObject({ key: inFlight3.key, token: 'token-c', status: 409 });
  held3.release(); // B's answer waits in its socket
  const resumedAt = Date.now();
  process.kill(b.proc.pid!, 'SIGCONT');
  await waitFor(() => b.proc.output().includes('sender lease lost: stepping down to standby'), 'B steps down');
  await waitFor(async () => (await health(b))?.role === 'standby', 'B says standby');

  // 4. the next alert: C's alone
  await haze('cm-air-oldcity-04');
  const four = await waitFor(() => alertsTo(user(4))[0], 'the fourth alert');
  expect(four.token).toBe('token-c');
  const metricsC = await waitFor(async () => {
    const m = await (await fetch(`${c.base}/metrics`)).text();
    return /alerts_outbox_pending 0/.test(m) && m;
  }, 'C settled every delivery');
  expect(metricsC).toMatch(/alerts_sender_leader 1/);
  expect(metricsC).toMatch(/alerts_sender_takeovers_total 1/);
  const metricsB = await (await fetch(`${b.base}/metrics`)).text();
  expect(metricsB).toMatch(/alerts_sender_leader 0/);

  // Every subscriber: one alert key, executed once; repeats only as 409s; B silent after SIGCONT.
  for (const n of [1, 2, 3, 4]) {
    const got = alertsTo(user(n));
    expect(new Set(got.map((r) => r.key)).size).toBe(1);
    expect(got.filter((r) => r.status === 200)).toHaveLength(1);
  }
  expect(requests.filter((r) => r.token === 'token-b' && r.at >= resumedAt)).toEqual([]);
  const repeats = requests.filter((r) => r.status === 409).length;
  console.info(
    `alerts failover: SIGKILL takeover ${killed.ms} ms (${killed.lagMs} ms after the lease expired, epoch ${killed.epoch}); ` +
      `SIGSTOP takeover ${paused.ms} ms (${paused.lagMs} ms after expiry, epoch ${paused.epoch}); TTL ${TTL_MS} ms, ` +
      `renew ${RENEW_MS} ms; requests ${requests.length}, executed ${executed.size}, 409 repeats ${repeats}`,
  );
  expect(requests.length - repeats).toBe(executed.size);
}, 180_000);
