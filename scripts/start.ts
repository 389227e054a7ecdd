/**
 * `npm start`: the whole system on embedded defaults, on a fresh machine with only Node and npm.
 * Starts the gateway (embedded MQTT broker + embedded SQLite store) and a simulated fleet of the city
 * pack (CNX_CITY, default DEFAULT_CITY_ID of @cnx/city-pack) publishing to it, then prints where to
 * look. Ctrl-C, or SIGTERM to the npm process alone, stops everything cleanly. `CNX_CITY=<city-id> npm start` runs another city's pack.
 * `CNX_SIM_FLEET=off npm start` (or `npm start -- --no-fleet`) starts no simulated devices, for a
 * field technician who drives their own (firmware-sim). Decisions made before anything starts (fleet
 * or not, the Modbus file, the demo staff file) live in ./start-setup.ts.
 *
 * Each app runs as its own process (as in production), with its logs prefixed by its name.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import { DEFAULT_CITY_ID, loadCityPackSync, resolveCityDir } from '@cnx/city-pack';
import { dashboardBuildStale } from './dashboard-build';
import { backfillHistory } from './start-backfill';
import {
  cadenceText,
  canalDevices,
  canalModbusConfig,
  ensureStaffFile,
  START_FLAGS,
  staffTokenCommand,
  startOptions,
} from './start-setup';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const env = {
  ...process.env,
  CNX_DATA_DIR: process.env.CNX_DATA_DIR ?? path.join(root, 'data'),
  LOG_LEVEL: process.env.LOG_LEVEL ?? 'info',
  // Every app reads the same city pack: the default is decided here once.
  CNX_CITY: process.env.CNX_CITY || DEFAULT_CITY_ID,
};
const mqttPort = Number(env.CNX_MQTT_PORT ?? 1883);
const gatewayHttp = Number(env.GATEWAY_HTTP_PORT ?? 8081);
const apiPort = Number(env.API_PORT ?? 8080);
const alertsPort = Number(env.ALERTS_HTTP_PORT ?? 8082);
const dashboardPort = Number(env.DASHBOARD_PORT ?? 3000);
const canalBasePort = Number(env.CNX_CANAL_SIM_PORT ?? 15020);
// Field technicians (issue 11): CNX_SIM_FLEET=off or --no-fleet starts no simulated devices.
// Every setting is checked before anything starts (a bad one stops here, naming it).
const options = (() => {
  try {
    return startOptions(env, process.argv.slice(2));
  } catch (error) {
    console.error(`[start] ${(error as Error).message}`);
    process.exit(2);
  }
})();
for (const a of options.unknownArgs)
  console.error(`[start] ignoring unknown argument ${a} (known: ${Object.keys(START_FLAGS).join(', ')})`);

// The canal stations are simulated Modbus TCP slaves (firmware-sim `canal`: the city pack's canal
// devices in pack order, station i on port base + i with unit id i + 1); the gateway polls them
// exactly as it would the real probes on the municipal network.
// Polled at each device's cadence (intervalS); with the fleet off, a technician's own `canal`
// simulator on the same base port is polled the same way.
const cityId = env.CNX_CITY;
const pack = loadCityPackSync(resolveCityDir(cityId));
if (!pack.ok) throw new Error('the city pack is invalid: run npm run validate-city -w @cnx/city-pack');
const modbusConfigPath = path.join(env.CNX_DATA_DIR, 'modbus.json');
mkdirSync(env.CNX_DATA_DIR, { recursive: true });
writeFileSync(modbusConfigPath, JSON.stringify(canalModbusConfig(pack.value, canalBasePort)));

// Staff (issue 11): the operator's ALERTS_STAFF_FILE, else a demo one created in the data dir.
const staff = ensureStaffFile(env.CNX_DATA_DIR, env);
const airDevices = pack.value.devices.filter((d) => d.transport === 'mqtt');
const canal = canalDevices(pack.value);
const children: ChildProcess[] = [];
let stopping = false;

function run(
  name: string,
  script: string,
  args: string[],
  extraEnv: Record<string, string> = {},
  useTsx = true,
): ChildProcess {
  const child = spawn(process.execPath, [...(useTsx ? ['--import', 'tsx'] : []), path.join(root, script), ...args], {
    cwd: root,
    env: { ...env, ...extraEnv },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  for (const stream of [child.stdout, child.stderr]) {
    if (!stream) continue;
    readline.createInterface({ input: stream }).on('line', (line) => console.log(`[${name}] ${line}`));
  }
  child.on('exit', (code, signal) => {
    if (!stopping) {
      console.error(`[start] ${name} exited (code ${code}, signal ${signal}); stopping everything`);
      void shutdown(1);
    }
  });
  children.push(child);
  return child;
}

async function waitForHealth(url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      const res = await fetch(url);
      if (res.status === 200) return;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${url} did not become healthy within ${timeoutMs / 1000} s`);
}

/** Each app stops within 10 s of SIGTERM by itself; past this it is killed. */
const CHILD_STOP_GRACE_MS = 15_000;

async function shutdown(code: number): Promise<void> {
  if (stopping) return;
  stopping = true;
  // Simulator first (so the gateway can acknowledge what it already received), then the gateway.
  for (const child of [...children].reverse()) {
    if (child.exitCode !== null || child.signalCode !== null) continue;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), CHILD_STOP_GRACE_MS);
    await exited;
    clearTimeout(timer);
  }
  process.exit(code);
}

// Ctrl-C signals the whole terminal's process group; a process manager signals `npm` alone, whose
// shell (sh -c) dies without passing the signal on. Either way every child is stopped: on our own
// signals, and when the process that started us is gone (we are re-parented). Issue 15.
process.on('SIGINT', () => void shutdown(0));
process.on('SIGTERM', () => void shutdown(0));
process.on('SIGHUP', () => void shutdown(0));
const parentAtStart = process.ppid;
setInterval(() => {
  if (process.ppid !== parentAtStart) {
    console.error('[start] the process that started npm start is gone; stopping everything');
    void shutdown(0);
  }
}, 500).unref();
// A closed terminal or log pipe must not kill this process before it has stopped its children.
for (const stream of [process.stdout, process.stderr]) stream.on('error', () => undefined);

// The services' accounts on the gateway's embedded broker, new at each start: their client ids
// (cnx-alerts-<city>, cnx-api-<city>-…) are bound to them, so no other client can take their sessions.
const brokerAccounts = {
  alerts: { name: 'cnx-alerts', password: randomBytes(24).toString('base64url') },
  api: { name: 'cnx-api', password: randomBytes(24).toString('base64url') },
};
run('gateway', 'apps/gateway/src/main.ts', [], {
  GATEWAY_EMBEDDED_MQTT_ACCOUNTS: Object.values(brokerAccounts)
    .map((a) => `${a.name}:${a.password}`)
    .join(','),
  GATEWAY_MODBUS_CONFIG: modbusConfigPath,
  CNX_MQTT_PORT: String(mqttPort),
  GATEWAY_HTTP_PORT: String(gatewayHttp),
});
await waitForHealth(`http://127.0.0.1:${gatewayHttp}/health`, 60_000).catch((error) => {
  console.error(`[start] ${(error as Error).message}`);
  void shutdown(1);
});
const gatewayHealthyAt = Date.now(); // the history backfill's figure is measured from here
// --- History backfill (scripts/start-backfill.ts) -----------------------------------------------
// As soon as the gateway is healthy, before the API, alerts and the live fleet: the last
// CNX_BACKFILL_DAYS (default 7) days of every simulated device's past, published on the history
// topics through the broker and gateway, so every page, chart and AQI band is real from the first
// screen. A later start fills only the gap; 0 = off.
// Without the simulated fleet (a technician drives their own devices) there is no history to play.
if (options.fleet)
  await backfillHistory({
    env,
    city: cityId,
    stationOf: new Map(pack.value.devices.map((d) => [d.id, d.stationId])),
    mqttUrl: `mqtt://127.0.0.1:${mqttPort}`,
    gatewayUrl: `http://127.0.0.1:${gatewayHttp}`,
    gatewayHealthyAt,
  }).catch((error) => console.error(`[start] history backfill: ${(error as Error).message}`));
// --- end of the history backfill ----------------------------------------------------------------
// The simulated canal probes start after their history, so the gateway's first live poll follows
// the backfilled past in time (QC judges each device's readings in order).
if (options.fleet)
  run('canal-sim', 'firmware-sim/src/cli.ts', ['canal', '--city', cityId, '--tcp-base-port', String(canalBasePort)]);
// The API's staff routes (/v1/staff/...) forward to the alerts service started below.
run('api', 'apps/api/src/main.ts', [], {
  API_PORT: String(apiPort),
  API_MQTT_URL: `mqtt://127.0.0.1:${mqttPort}`,
  API_MQTT_USERNAME: brokerAccounts.api.name,
  API_MQTT_PASSWORD: brokerAccounts.api.password,
  API_ALERTS_URL: env.API_ALERTS_URL ?? `http://127.0.0.1:${alertsPort}`,
});
await waitForHealth(`http://127.0.0.1:${apiPort}/health`, 60_000).catch((error) => {
  console.error(`[start] ${(error as Error).message}`);
  void shutdown(1);
});
// The dashboard is a SvelteKit app: built (about half a minute) on the first start and whenever its
// sources changed since (a pull), then served by Node.
if (dashboardBuildStale(root)) {
  console.log('[start] building the dashboard ...');
  const built = spawnSync('npm', ['run', 'build', '-w', '@cnx/dashboard'], { cwd: root, stdio: 'inherit' });
  if (built.status !== 0) {
    console.error('[start] dashboard build failed');
    await shutdown(1);
  }
}
run(
  'dashboard',
  'apps/dashboard/build/index.js',
  [],
  { HOST: '127.0.0.1', PORT: String(dashboardPort), DASHBOARD_API_URL: `http://127.0.0.1:${apiPort}` },
  false,
);
run('alerts', 'apps/alerts/src/main.ts', [], {
  ALERTS_MQTT_URL: `mqtt://127.0.0.1:${mqttPort}`,
  ALERTS_MQTT_USERNAME: brokerAccounts.alerts.name,
  ALERTS_MQTT_PASSWORD: brokerAccounts.alerts.password,
  ALERTS_STAFF_FILE: staff.path,
  // Links in every message: the dashboard's confirm/manage/unsubscribe pages, the API's one-click unsubscribe.
  ALERTS_PUBLIC_API_URL: env.ALERTS_PUBLIC_API_URL ?? `http://127.0.0.1:${apiPort}`,
  ALERTS_DASHBOARD_URL: env.ALERTS_DASHBOARD_URL ?? `http://127.0.0.1:${dashboardPort}`,
});
// Each device at its own cadence from the city pack (intervalS), as real firmware.
if (options.fleet)
  run('sim', 'firmware-sim/src/cli.ts', [
    'run',
    '--city',
    cityId,
    '--mqtt',
    `mqtt://127.0.0.1:${mqttPort}`,
    '--client-id-suffix',
    'npm-start',
    '--status-interval',
    '30s',
  ]);

// The banner says where to look once the pages answer: the dashboard and the alerts service listen.
await Promise.all([
  waitForHealth(`http://127.0.0.1:${dashboardPort}/`, 60_000),
  waitForHealth(`http://127.0.0.1:${alertsPort}/health`, 60_000),
]).catch((error) => {
  console.error(`[start] ${(error as Error).message}`);
  void shutdown(1);
});

const fleetLines = options.fleet
  ? `  Simulated devices    the ${pack.value.city.name.en} fleet in real time, one reading per device ${cadenceText(airDevices)} (intervalS in the city pack);
                       canal probes as Modbus TCP slaves on 127.0.0.1:${canalBasePort}+ (polled ${cadenceText(canal)})
                       (none: CNX_SIM_FLEET=off npm start, or npm start -- --no-fleet; more: npm run sim -w @cnx/firmware-sim -- --help)`
  : `  Simulated devices    none (CNX_SIM_FLEET=off / --no-fleet). Drive your own: in another terminal, with the same CNX_MQTT_PORT,
                       npx tsx firmware-sim/src/cli.ts run --devices <id,...> [--fault <id>:stuck]   (ids, faults: ... list)
                       npx tsx firmware-sim/src/cli.ts canal --tcp-base-port ${canalBasePort}   (the gateway polls 127.0.0.1:${canalBasePort}+)`;
const staffLines = `  Staff token          ${staff.path}${staff.created ? '   (just created: a demo staff member with a random token)' : staff.demo ? '   (demo staff member)' : '   (ALERTS_STAFF_FILE)'}
                       curl -H "Authorization: Bearer ${staffTokenCommand(staff.path)}" \\
                         http://127.0.0.1:${apiPort}/v1/staff/alerts`;

console.log(`
cnx-sense is running on embedded defaults (embedded MQTT broker, SQLite store in ${env.CNX_DATA_DIR}).

  Dashboard            http://127.0.0.1:${dashboardPort}/        (Thai; English via the switch)
  Open-data API        http://127.0.0.1:${apiPort}/docs        (reference; OpenAPI at /openapi.json)
  Latest air quality   http://127.0.0.1:${apiPort}/v1/latest
  Live stream (SSE)    http://127.0.0.1:${apiPort}/v1/stream
  MQTT broker          mqtt://127.0.0.1:${mqttPort}   (devices publish to cnx/v1/<city>/devices/<id>/telemetry)
  Alerts               http://127.0.0.1:${apiPort}/v1/alerts   (subscribe: http://127.0.0.1:${dashboardPort}/alerts/subscribe;
                       email needs ALERTS_SMTP_URL; staff ack/resolve: http://127.0.0.1:${apiPort}/v1/staff/alerts with a staff token)
${staffLines}
  Gateway health       http://127.0.0.1:${gatewayHttp}/health
  Gateway metrics      http://127.0.0.1:${gatewayHttp}/metrics
${fleetLines}
  Operations           docs/operations.md (ports, data, logs, backups, staff tokens)

Press Ctrl-C to stop.
`);
