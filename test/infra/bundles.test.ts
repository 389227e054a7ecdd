// The production bundles (scripts/bundle-app.mjs, `npm run build -w @cnx/<app>`) are what the
// Dockerfiles and systemd units run. This builds each, copies its dist/ folder alone to a temp
// directory (as the images do: no sources, no repository node_modules), starts it with `node
// main.mjs` on loopback against a real Mosquitto and a real InfluxDB 1.x, and waits for /health;
// then SIGTERM must end it with exit code 0 (what Docker, systemd and Kubernetes send).
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

  /** Build the app's bundle, copy dist/ to <work>/<app>, start `node main.mjs` there. */
  async function startBundle(app: string, env: Record<string, string>, port: number): Promise<ManagedProcess> {
    await run(process.execPath, [path.join(repoRoot, 'scripts/bundle-app.mjs'), app], { cwd: repoRoot });
    const dir = path.join(work, app);
    cpSync(path.join(repoRoot, 'apps', app, 'dist'), dir, { recursive: true });
    const proc = ManagedProcess.spawn({
      name: app,
      command: process.execPath,
      args: ['main.mjs'],
      cwd: dir,
      // Only what a unit file or compose service would set: no inherited CNX_* or tsx loader.
      env: { PATH: process.env.PATH ?? '/usr/bin', LOG_LEVEL: 'warn', CNX_DATA_DIR: path.join(work, 'data'), ...env },
    });
    running.push(proc);
    await proc.waitUntilReady(async () => (await health(port)).status === 'ok', {
      timeoutMs: 60_000,
      what: `GET /health of the ${app} bundle to answer ok`,
    });
    return proc;
  }

  it('gateway, API and alerts answer /health ok and exit 0 on SIGTERM', async () => {
    const [gw, api, alerts] = await Promise.all([freePort(), freePort(), freePort()]);
    const influxEnv = { INFLUX_URL: influx.url, INFLUX_DB: influx.database };
    const procs = [
      await startBundle(
        'gateway',
        { ...influxEnv, GATEWAY_MQTT_URL: mosquitto.url, GATEWAY_HTTP_PORT: String(gw), CNX_CITY: 'chiang-mai' },
        gw,
      ),
      await startBundle('api', { ...influxEnv, API_MQTT_URL: mosquitto.url, API_PORT: String(api) }, api),
      await startBundle('alerts', { ALERTS_MQTT_URL: mosquitto.url, ALERTS_HTTP_PORT: String(alerts) }, alerts),
    ];
    // The gateway found its city pack and the store through the bundle's own copies.
    const gwHealth = (await (await fetch(`http://127.0.0.1:${gw}/health`)).json()) as {
      checks: { store: { detail: { backend: string } } };
    };
    expect(gwHealth.checks.store.detail.backend).toBe('influxdb');
    const stations = (await (await fetch(`http://127.0.0.1:${api}/v1/stations`)).json()) as { data?: unknown[] };
    expect(stations.data?.length).toBeGreaterThan(0);
    for (const proc of procs) {
      const exit = await proc.stop();
      expect(exit, `${proc.output()}`).toMatchObject({ code: 0 });
    }
  }, 240_000);
});
