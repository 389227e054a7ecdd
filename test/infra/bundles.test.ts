// The production bundles (scripts/bundle-app.mjs, `npm run build -w @cnx/<app>`) are what the
// image (infra/docker/Dockerfile) and the systemd units run. This builds each, copies its dist/
// folder alone to a temp directory (as the image does: no sources, no repository node_modules),
// starts it with `node .` (the image's command: dist/package.json names the entry) on loopback
// against a real Mosquitto and a real InfluxDB 1.x, and waits for /health; the image's healthcheck
// script must then pass; SIGTERM must end it with exit code 0 (what Docker, systemd and Kubernetes
// send). The dashboard (vite build + `npm run bundle`) has no /health: its overview page must
// render 200 from the API bundle.
import { execFile } from 'node:child_process';
import { cpSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import {
  freePort,
  type InfluxDBHandle,
  ManagedProcess,
  type MosquittoHandle,
  makeTempDir,
  removeDir,
  startInfluxDB,
  startMosquitto,
} from '@cnx/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureDashboardBuild } from '../e2e/dashboard.stack';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const run = promisify(execFile);

interface Health {
  status?: string;
}

async function health(port: number): Promise<Health> {
  try {
    return (await (await fetch(`http://127.0.0.1:${port}/health`)).json()) as Health;
  } catch {
    return {};
  }
}

describe('production bundles start from a copied dist/ folder against real services', () => {
  let mosquitto: MosquittoHandle;
  let influx: InfluxDBHandle;
  let work: string;
  const running: ManagedProcess[] = [];

  beforeAll(async () => {
    [mosquitto, influx, work] = await Promise.all([startMosquitto(), startInfluxDB(), makeTempDir('cnx-bundles-')]);
  }, 120_000);

  afterAll(async () => {
    await Promise.all(running.map((p) => p.stop()));
    await Promise.all([mosquitto?.stop(), influx?.stop()]);
    if (work) await removeDir(work);
  });

  /** Build the app's bundle, copy dist/ to <work>/<app>, start it there until `ready`. */
  async function startBundle(
    app: string,
    env: Record<string, string>,
    ready: () => Promise<boolean>,
  ): Promise<ManagedProcess> {
    // The same freshness check the dashboard e2e suites use: vite build only when build/ is stale.
    if (app === 'dashboard') ensureDashboardBuild();
    await run(process.execPath, [path.join(repoRoot, 'scripts/bundle-app.mjs'), app], { cwd: repoRoot });
    const dir = path.join(work, app);
    cpSync(path.join(repoRoot, 'apps', app, 'dist'), dir, { recursive: true });
    const baseEnv = { PATH: process.env.PATH ?? '/usr/bin', LOG_LEVEL: 'warn', CNX_DATA_DIR: path.join(work, 'data') };
    const proc = ManagedProcess.spawn({
      name: app,
      command: process.execPath,
      args: ['.'],
      cwd: dir,
      // Only what a unit file or compose service would set: no inherited CNX_* or tsx loader.
      env: { ...baseEnv, ...env },
    });
    running.push(proc);
    await proc.waitUntilReady(ready, { timeoutMs: 60_000, what: `the ${app} bundle to answer` });
    // What Docker runs to call the container healthy (rejects on a non-zero exit).
    await run(process.execPath, [path.join(repoRoot, 'infra/docker/healthcheck.mjs')], {
      env: { ...baseEnv, ...env, CNX_APP: app },
    });
    return proc;
  }

  const healthy = (port: number) => async () => (await health(port)).status === 'ok';

  it('gateway, API, alerts answer /health ok, the dashboard renders; each exits 0 on SIGTERM', async () => {
    const [gw, api, alerts, web] = await Promise.all([freePort(), freePort(), freePort(), freePort()]);
    const influxEnv = { INFLUX_URL: influx.url, INFLUX_DB: influx.database };
    const procs = [
      await startBundle(
        'gateway',
        { ...influxEnv, GATEWAY_MQTT_URL: mosquitto.url, GATEWAY_HTTP_PORT: String(gw), CNX_CITY: 'chiang-mai' },
        healthy(gw),
      ),
      await startBundle('api', { ...influxEnv, API_MQTT_URL: mosquitto.url, API_PORT: String(api) }, healthy(api)),
      await startBundle(
        'alerts',
        { ALERTS_MQTT_URL: mosquitto.url, ALERTS_HTTP_PORT: String(alerts) },
        healthy(alerts),
      ),
      await startBundle(
        'dashboard',
        { HOST: '127.0.0.1', PORT: String(web), DASHBOARD_API_URL: `http://127.0.0.1:${api}` },
        async () => (await fetch(`http://127.0.0.1:${web}/`).catch(() => undefined))?.status === 200,
      ),
    ];
    // The gateway found its city pack and the store through the bundle's own copies.
    const gwHealth = (await (await fetch(`http://127.0.0.1:${gw}/health`)).json()) as {
      checks: { store: { detail: { backend: string } } };
    };
    expect(gwHealth.checks.store.detail.backend).toBe('influxdb');
    const stations = (await (await fetch(`http://127.0.0.1:${api}/v1/stations`)).json()) as { data?: unknown[] };
    expect(stations.data?.length).toBeGreaterThan(0);
    const page = await (await fetch(`http://127.0.0.1:${web}/`)).text();
    expect(page).toContain('<html');
    for (const proc of procs) {
      const exit = await proc.stop();
      expect(exit, proc.output()).toMatchObject({ code: 0 });
    }
  }, 600_000);
});
