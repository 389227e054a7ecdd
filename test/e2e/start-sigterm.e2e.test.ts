import { readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { canConnect, ManagedProcess, makeTempDir, removeDir } from '@cnx/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureDashboardBuild, repoRoot } from './dashboard.stack';

/**
 * `npm start`'s services log in to its embedded broker with their per-start accounts, and `npm start`
 * stopped the way a process manager stops it: SIGTERM to the `npm` process alone (not
 * its process group, as Ctrl-C in a terminal does). Before the fix npm's shell died and every app
 * stayed up, holding its port. Afterwards every process `npm start` started is gone and every port
 * it listened on is free.
 */
const CANAL_STATIONS = 5;
const POLL_MS = 100;

/** `n` consecutive free loopback ports. */
async function freeRun(n: number): Promise<number> {
  const bind = (port: number) =>
    new Promise<boolean>((resolve) => {
      const s = createServer();
      s.once('error', () => resolve(false));
      s.listen({ host: '127.0.0.1', port, exclusive: true }, () => s.close(() => resolve(true)));
    });
  for (;;) {
    const base = 20_000 + Math.floor(Math.random() * 40_000);
    let ok = true;
    for (let i = 0; i < n && ok; i++) ok = await bind(base + i);
    if (ok) return base;
  }
}

/** Parent pid and state of a live process (from /proc), or undefined once it is gone or a zombie. */
function procStat(pid: number): { ppid: number; state: string } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const [state, ppid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return state === 'Z' ? undefined : { ppid: Number(ppid), state: state! };
  } catch {
    return undefined;
  }
}

/** Every live descendant of `root`. */
function descendants(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const name of readdirSync('/proc')) {
    const pid = Number(name);
    const stat = Number.isInteger(pid) ? procStat(pid) : undefined;
    if (stat) children.set(stat.ppid, [...(children.get(stat.ppid) ?? []), pid]);
  }
  const out: number[] = [];
  const walk = (pid: number) => {
    for (const c of children.get(pid) ?? []) {
      out.push(c);
      walk(c);
    }
  };
  walk(root);
  return out;
}

/** Polls until `ok()` holds, at most `polls` times (a bound on the loop); returns whether it held. */
async function until(ok: () => Promise<boolean> | boolean, polls: number): Promise<boolean> {
  for (let i = 0; i < polls; i++) {
    if (await ok()) return true;
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
  return false;
}

describe('npm start stops every child on SIGTERM to the npm process', () => {
  let dir: string;
  let npm: ManagedProcess;
  let ports: number[] = [];
  let started: number[] = [];

  beforeAll(async () => {
    ensureDashboardBuild();
    dir = await makeTempDir('cnx-sigterm-');
    const base = await freeRun(5 + CANAL_STATIONS);
    ports = Array.from({ length: 5 + CANAL_STATIONS }, (_, i) => base + i);
    const [mqtt, gateway, api, alerts, dashboard] = ports as [number, number, number, number, number];
    npm = ManagedProcess.spawn({
      name: 'npm-start',
      command: 'npm',
      args: ['start'],
      cwd: repoRoot,
      tailLines: 200,
      env: {
        ...process.env,
        CNX_DATA_DIR: dir,
        CNX_MQTT_PORT: String(mqtt),
        GATEWAY_HTTP_PORT: String(gateway),
        API_PORT: String(api),
        ALERTS_HTTP_PORT: String(alerts),
        DASHBOARD_PORT: String(dashboard),
        CNX_CANAL_SIM_PORT: String(base + 5),
        CNX_BACKFILL_DAYS: '0',
        LOG_LEVEL: 'warn',
        API_MAX_EVENT_LOOP_DELAY_MS: '0',
      },
    });
    await npm.waitUntilReady(async () => npm.output().includes('cnx-sense is running'), {
      timeoutMs: 240_000,
      intervalMs: 250,
      what: 'the npm start banner',
    });
  }, 300_000);

  afterAll(async () => {
    // Whatever the outcome, nothing this test started may outlive it.
    for (const pid of started.filter((p) => procStat(p))) process.kill(pid, 'SIGKILL');
    await npm?.kill('SIGKILL');
    if (dir) await removeDir(dir);
  });

  it('the API and alerts are on the bus, logged in with the accounts npm start made for them', async () => {
    const [, , api, alerts] = ports;
    const status = async (url: string) => {
      const res = await fetch(url).catch(() => undefined);
      return res ? ((await res.json()) as { status?: string }).status : undefined;
    };
    // The embedded broker refuses their client ids without their accounts: "ok" means logged in.
    const bothOk = async () =>
      (await status(`http://127.0.0.1:${api}/health`)) === 'ok' &&
      (await status(`http://127.0.0.1:${alerts}/health`)) === 'ok';
    expect(await until(bothOk, 300)).toBe(true);
  }, 60_000);

  it('every app, simulator and wrapper exits and every port is free', async () => {
    // Every app listens once the banner is out (the canal stations before the gateway polls them).
    for (const port of ports) expect(await canConnect(port), `port ${port} before SIGTERM`).toBe(true);
    started = descendants(npm.pid!);
    // npm's shell, start.ts, gateway, API, alerts, dashboard, the two simulators (+ tsx's esbuild).
    expect(started.length).toBeGreaterThanOrEqual(8);

    process.kill(npm.pid!, 'SIGTERM'); // the npm process only, as systemd's KillMode=mixed or a supervisor would
    await npm.exited;
    // Each app stops within 10 s of its SIGTERM (its own bound), one after another: 600 polls (60 s)
    // bound the loop; the condition ends it.
    const gone = await until(async () => {
      if (started.some((pid) => procStat(pid))) return false;
      for (const port of ports) if (await canConnect(port)) return false;
      return true;
    }, 600);
    const alive = started.filter((pid) => procStat(pid));
    const listening = [];
    for (const port of ports) if (await canConnect(port)) listening.push(port);
    expect({ alive, listening }, npm.output()).toEqual({ alive: [], listening: [] });
    expect(gone).toBe(true);
  }, 120_000);
});
