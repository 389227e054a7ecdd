import { execFileSync } from 'node:child_process';
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadCityPack } from '@cnx/city-pack';
import {
  type CanalFleet,
  canalStationsFromPack,
  createCanalFleet,
  historySources,
  loadCityFleet,
  publishBackfill,
  type SimDeviceInfo,
  utcOffsetMinutes,
} from '@cnx/firmware-sim';
import { freePort, ManagedProcess, type MosquittoHandle, makeTempDir, removeDir, startMosquitto } from '@cnx/testkit';
import { dashboardBuildStale } from '../../scripts/dashboard-build';
import { GatewayProcess } from '../src/gateway-process';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const dashboardDir = path.join(repoRoot, 'apps/dashboard');
export const CITY = 'chiang-mai';

/** A station name a device owner could set: it must be shown as text, never run. */
export const HOSTILE_STATION = 'cm-air-nimman-01';
export const HOSTILE_NAME = '<script>window.__xss=1</script><img src=x onerror="window.__xss=2">Nimman';

/** Builds the dashboard when build/ is missing or older than any of its sources. */
export function ensureDashboardBuild(): void {
  if (!dashboardBuildStale(repoRoot)) return;
  execFileSync('npm', ['run', 'build', '-w', '@cnx/dashboard'], { cwd: repoRoot, stdio: 'pipe', timeout: 300_000 });
}

async function httpOk(url: string): Promise<boolean> {
  try {
    const res = await fetch(url);
    return res.ok;
  } catch {
    return false;
  }
}

export interface DashboardStack {
  /** The city pack the stack runs (CNX_CITY). */
  city: string;
  broker: MosquittoHandle;
  gateway: GatewayProcess;
  apiUrl: string;
  /** The alerts service's own HTTP port, when the stack was started with `alerts`. */
  alertsUrl?: string;
  dashboardUrl: string;
  citiesDir: string;
  devices: SimDeviceInfo[];
  /**
   * Uploads the devices' simulated past `hours` (until a minute ago) on their history topics, as the
   * simulator's backfill does, and waits until the gateway has stored it. Returns the readings.
   */
  backfill(opts: { devices: SimDeviceInfo[]; scenario: string; hours: number; seed?: number }): Promise<number>;
  /** The last output lines of one of the stack's processes ('api', 'dashboard', 'alerts'). */
  output(name: string): string;
  /** Another dashboard server over the same API, with extra settings (e.g. a base map); stopped with the stack. */
  startDashboard(env: Record<string, string>): Promise<string>;
  stop(): Promise<void>;
}

/**
 * Real Mosquitto + the gateway (SQLite store) + the API (reading that SQLite file read-only, following
 * the bus) + the built dashboard server (`node build`), on free loopback ports, over a copy of a city
 * pack (`city`, default CITY); in the default pack one station has a hostile name.
 */
export async function startDashboardStack(
  opts: {
    /** The city pack to run (CNX_CITY of every process); default CITY. */
    city?: string;
    /** Also run the alerts service (a process, as in production), with these extra settings. */
    alerts?: Record<string, string>;
  } = {},
): Promise<DashboardStack> {
  const city = opts.city ?? CITY;
  const dir = await makeTempDir();
  const citiesDir = path.join(dir, 'cities');
  cpSync(path.join(repoRoot, 'cities', city), path.join(citiesDir, city), { recursive: true });
  if (city === CITY) {
    const stationsFile = path.join(citiesDir, city, 'stations.json');
    const pack = JSON.parse(readFileSync(stationsFile, 'utf8')) as {
      stations: { id: string; name: { th: string; en: string } }[];
    };
    const hostile = pack.stations.find((s) => s.id === HOSTILE_STATION);
    if (!hostile) throw new Error(`station ${HOSTILE_STATION} not in the city pack`);
    hostile.name = { th: HOSTILE_NAME, en: HOSTILE_NAME };
    writeFileSync(stationsFile, JSON.stringify(pack, null, 2));
  }

  const broker = await startMosquitto();
  // The canal probes: one simulated Modbus TCP slave per station, polled by the gateway every second.
  const loaded = await loadCityPack(path.join(citiesDir, city));
  if (!loaded.ok) throw new Error('city pack copy is invalid');
  const canal: CanalFleet[] = [];
  for (const station of canalStationsFromPack(loaded.value)) {
    const fleet = createCanalFleet({
      city,
      stations: [station],
      simStart: Date.now(),
      tcp: { basePort: await freePort() },
    });
    await fleet.start();
    canal.push(fleet);
  }
  const endpoints = canal.flatMap((f) => f.endpoints);
  const modbusConfig = path.join(dir, 'modbus.json');
  writeFileSync(
    modbusConfig,
    JSON.stringify({
      defaults: { intervalMs: 1000, timeoutMs: 300, retries: 0 },
      buses: endpoints.map((e, i) => ({ id: `canal-${i}`, transport: 'tcp', host: e.tcp!.host, port: e.tcp!.port })),
      devices: endpoints.map((e, i) => ({
        deviceId: e.deviceId,
        bus: `canal-${i}`,
        unitId: e.unitId,
        wordOrder: e.wordOrder,
      })),
    }),
  );
  const common = { CNX_CITY: city, CNX_CITIES_DIR: citiesDir, CNX_DATA_DIR: dir, LOG_LEVEL: 'warn' };
  const gateway = new GatewayProcess({
    ...common,
    GATEWAY_MQTT_URL: broker.url,
    GATEWAY_SPOOL_DIR: path.join(dir, 'spool'),
    GATEWAY_MODBUS_CONFIG: modbusConfig,
  });
  const procs: ManagedProcess[] = [];
  const stop = async () => {
    for (const p of procs.reverse()) await p.stop();
    await gateway.stop();
    for (const f of canal) await f.stop();
    await broker.stop();
    await removeDir(dir);
  };
  try {
    await gateway.start();
    const apiPort = await freePort();
    // With the alerts service, the API forwards alerts and subscriptions to it (issue 12).
    const alertsPort = opts.alerts ? await freePort() : undefined;
    const apiUrl = `http://127.0.0.1:${apiPort}`;
    const api = ManagedProcess.spawn({
      name: 'api',
      command: process.execPath,
      args: ['--import', 'tsx', path.join(repoRoot, 'apps/api/src/main.ts')],
      cwd: repoRoot,
      env: {
        ...process.env,
        ...common,
        API_HOST: '127.0.0.1',
        API_PORT: String(apiPort),
        API_MQTT_URL: broker.url,
        API_CACHE_TTL_S: '1',
        API_RATE_LIMIT_MAX: '100000',
        // No load shedding: browser, stack and simulator share a busy test machine, whose lag is not
        // the API's fault (apps/api test/pressure.test.ts checks the shedding).
        API_MAX_EVENT_LOOP_DELAY_MS: '0',
        ...(alertsPort ? { API_ALERTS_URL: `http://127.0.0.1:${alertsPort}` } : {}),
      },
    });
    procs.push(api);
    await api.waitUntilReady(() => httpOk(`${apiUrl}/health`), { timeoutMs: 60_000, what: 'API /health' });

    const startDashboard = async (extra: Record<string, string> = {}) => {
      const webPort = await freePort();
      const url = `http://127.0.0.1:${webPort}`;
      const web = ManagedProcess.spawn({
        name: procs.some((p) => p.name === 'dashboard') ? `dashboard-${webPort}` : 'dashboard',
        command: process.execPath,
        args: [path.join(dashboardDir, 'build/index.js')],
        cwd: dashboardDir,
        env: {
          ...process.env,
          ...common,
          HOST: '127.0.0.1',
          PORT: String(webPort),
          DASHBOARD_API_URL: apiUrl,
          ...extra,
        },
      });
      procs.push(web);
      await web.waitUntilReady(() => httpOk(`${url}/data`), { timeoutMs: 30_000, what: 'dashboard /data' });
      return url;
    };
    const dashboardUrl = await startDashboard();

    let alertsUrl: string | undefined;
    if (opts.alerts && alertsPort) {
      alertsUrl = `http://127.0.0.1:${alertsPort}`;
      const alerts = ManagedProcess.spawn({
        name: 'alerts',
        command: process.execPath,
        args: ['--import', 'tsx', path.join(repoRoot, 'apps/alerts/src/main.ts')],
        cwd: repoRoot,
        env: {
          ...process.env,
          ...common,
          LOG_LEVEL: 'info',
          ALERTS_MQTT_URL: broker.url,
          ALERTS_HTTP_PORT: String(alertsPort),
          ALERTS_DISPATCH_POLL_MS: '50',
          // Links in messages: the confirm/manage/unsubscribe pages and the one-click unsubscribe.
          ALERTS_PUBLIC_API_URL: apiUrl,
          ALERTS_DASHBOARD_URL: dashboardUrl,
          ...opts.alerts,
        },
        tailLines: 2000,
      });
      procs.push(alerts);
      const url = alertsUrl;
      await alerts.waitUntilReady(
        async () => {
          try {
            return ((await (await fetch(`${url}/health`)).json()) as { status?: string }).status === 'ok';
          } catch {
            return false;
          }
        },
        { timeoutMs: 60_000, what: 'alerts /health ok' },
      );
    }

    const { devices } = await loadCityFleet(city, {}, citiesDir);
    return {
      city,
      broker,
      gateway,
      apiUrl,
      ...(alertsUrl ? { alertsUrl } : {}),
      dashboardUrl,
      citiesDir,
      devices,
      async backfill({ devices: chosen, scenario, hours, seed = 11 }) {
        // The history topic: logged readings declared old, so the gateway does not flag them stale
        // and they count for the 24-hour means (docs/qc.md). At each device's cadence (city pack).
        const until = Date.now() - 60_000;
        const from = until - hours * 3_600_000;
        const { sources } = historySources(loaded.value, {
          seed,
          utcOffsetMin: utcOffsetMinutes(loaded.value.city.timezone, from),
          scenario,
          simStart: from,
          selection: { devices: chosen.map((d) => d.id) },
        });
        // Counted on the history topic alone: Modbus polls go on meanwhile.
        const counter = 'gateway_history_readings_accepted_total';
        const before = (await gateway.metric(counter)) ?? 0;
        const result = await publishBackfill({ city, sources, from, until, seed, mqtt: { url: broker.url } });
        await gateway.drained({ [counter]: before + result.readings });
        return result.readings;
      },
      output: (name) => procs.find((p) => p.name === name)?.output() ?? '',
      startDashboard,
      stop,
    };
  } catch (e) {
    const out = procs.map((p) => `--- ${p.name} ---\n${p.output()}`).join('\n');
    await stop();
    throw new Error(`${(e as Error).message}\n${out}\n--- gateway ---\n${gateway.output()}`);
  }
}
