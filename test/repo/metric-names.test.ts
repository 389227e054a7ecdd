// Operator endpoints of the gateway, API and alerts as real processes (Mosquitto running, the store
// deliberately unreachable, one simulated Modbus canal probe polled): liveness apart from readiness, a
// broker or store outage never failing liveness; every metric each app exposes on /metrics follows the
// Prometheus naming conventions (parsed with parse-prometheus-text-format); and every PromQL expression
// of infra/grafana/cnx-sense.json (parsed with Prometheus' own grammar, @prometheus-io/lezer-promql)
// names only metrics that an app exposes.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadCityPack } from '@cnx/city-pack';
import { type CanalFleet, canalStationsFromPack, createCanalFleet } from '@cnx/firmware-sim';
import { freePort, ManagedProcess, type MosquittoHandle, makeTempDir, removeDir, startMosquitto } from '@cnx/testkit';
import { parser } from '@prometheus-io/lezer-promql';
import parsePrometheusTextFormat, { type MetricFamily } from 'parse-prometheus-text-format';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GatewayProcess } from '../src/gateway-process';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const APPS = ['gateway', 'api', 'alerts'] as const;
type App = (typeof APPS)[number];

let broker: MosquittoHandle;
let dir: string;
let canal: CanalFleet | undefined;
let gateway: GatewayProcess;
const procs: ManagedProcess[] = [];
const base = {} as Record<App, string>;

const status = async (url: string) => {
  try {
    return (await fetch(url, { signal: AbortSignal.timeout(5000) })).status;
  } catch {
    return 0;
  }
};

/** Wait (bounded) until GET `url` answers `code`. */
async function until(url: string, code: number, what: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  let last = 0;
  while (Date.now() < deadline) {
    last = await status(url);
    if (last === code) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${what}: ${url} answered ${last}, not ${code}`);
}

function spawn(app: 'api' | 'alerts', env: Record<string, string>): ManagedProcess {
  const p = ManagedProcess.spawn({
    name: app,
    command: process.execPath,
    args: ['--import', 'tsx', path.join(repoRoot, `apps/${app}/src/main.ts`)],
    cwd: repoRoot,
    env: { ...process.env, LOG_LEVEL: 'warn', CNX_DATA_DIR: dir, ...env },
  });
  procs.push(p);
  return p;
}

beforeAll(async () => {
  [broker, dir] = await Promise.all([startMosquitto(), makeTempDir()]);
  // A store that does not answer: nothing listens on this port.
  const deadStore = `http://127.0.0.1:${await freePort()}`;
  const pack = await loadCityPack(path.join(repoRoot, 'cities/chiang-mai'));
  if (!pack.ok) throw new Error('city pack invalid');
  const station = canalStationsFromPack(pack.value)[0]!;
  canal = createCanalFleet({
    city: 'chiang-mai',
    stations: [station],
    simStart: Date.now(),
    tcp: { basePort: await freePort() },
  });
  await canal.start();
  const e = canal.endpoints[0]!;
  const modbusConfig = path.join(dir, 'modbus.json');
  writeFileSync(
    modbusConfig,
    JSON.stringify({
      defaults: { intervalMs: 1000, timeoutMs: 300, retries: 0 },
      buses: [{ id: 'canal-0', transport: 'tcp', host: e.tcp!.host, port: e.tcp!.port }],
      devices: [{ deviceId: e.deviceId, bus: 'canal-0', unitId: e.unitId, wordOrder: e.wordOrder }],
    }),
  );
  gateway = new GatewayProcess({
    GATEWAY_MQTT_URL: broker.url,
    INFLUX_URL: deadStore,
    INFLUX_DB: 'cnx',
    CNX_DATA_DIR: dir,
    GATEWAY_SPOOL_DIR: path.join(dir, 'spool'),
    GATEWAY_MODBUS_CONFIG: modbusConfig,
  });
  const [apiPort, alertsPort] = await Promise.all([freePort(), freePort()]);
  base.gateway = `http://127.0.0.1:${await gateway.httpPort}`;
  base.api = `http://127.0.0.1:${apiPort}`;
  base.alerts = `http://127.0.0.1:${alertsPort}`;
  await gateway.start((h) => h.status === 'degraded', 'gateway /health degraded (store unreachable)');
  spawn('api', {
    API_HOST: '127.0.0.1',
    API_PORT: String(apiPort),
    API_MQTT_URL: broker.url,
    INFLUX_URL: deadStore,
    INFLUX_DB: 'cnx',
  });
  spawn('alerts', { ALERTS_MQTT_URL: broker.url, ALERTS_HTTP_PORT: String(alertsPort) });
  await Promise.all([
    until(`${base.api}/livez`, 200, 'API started'),
    until(`${base.alerts}/readyz`, 200, 'alerts connected to the bus'),
  ]);
}, 120_000);

afterAll(async () => {
  for (const p of procs.reverse()) await p.stop();
  await gateway?.stop();
  await canal?.stop();
  await broker?.stop();
  if (dir) await removeDir(dir);
});

describe('liveness apart from readiness', () => {
  it('a store outage: gateway and API live (200) but not ready (503); /health as before', async () => {
    for (const app of ['gateway', 'api'] as const) {
      expect(await status(`${base[app]}/livez`), `${app} /livez`).toBe(200);
      expect(await status(`${base[app]}/readyz`), `${app} /readyz`).toBe(503);
    }
    expect(await status(`${base.gateway}/health`)).toBe(200); // degraded: accepts into the spool
    expect(await status(`${base.api}/health`)).toBe(503); // down: cannot serve data
    expect(await status(`${base.alerts}/livez`)).toBe(200);
  });

  it('a broker outage: every app stays live; the gateway and alerts are not ready until it is back', async () => {
    await broker.stopProcess();
    await until(`${base.alerts}/readyz`, 503, 'alerts not ready without the bus');
    await until(`${base.gateway}/health`, 503, 'gateway down without the bus');
    for (const app of APPS) expect(await status(`${base[app]}/livez`), `${app} /livez`).toBe(200);
    expect(await status(`${base.gateway}/readyz`)).toBe(503);
    await broker.restart();
    await until(`${base.alerts}/readyz`, 200, 'alerts ready again');
  });
});

const scraped = {} as Record<App, MetricFamily[]>;

/**
 * prom-client's default process metrics name three gauges `nodejs_active_*_total` (counts of what is
 * open now, not totals); they cannot be renamed one by one, so only these are exempt from the rule.
 */
const PROM_CLIENT_GAUGES_TOTAL = new Set([
  'nodejs_active_handles_total',
  'nodejs_active_requests_total',
  'nodejs_active_resources_total',
]);

describe('metric names (Prometheus conventions)', () => {
  beforeAll(async () => {
    // The Modbus probe has answered at least once: its device series exist.
    await until(`${base.gateway}/modbus/status`, 200, 'modbus status');
    for (const app of APPS) {
      const res = await fetch(`${base[app]}/metrics`);
      expect(res.status).toBe(200);
      scraped[app] = parsePrometheusTextFormat(await res.text());
    }
  });

  it('every metric: the app prefix once, counters end in _total, others not, base units only', () => {
    const violations: string[] = [];
    for (const app of APPS) {
      expect(scraped[app].length, `${app} exposes metrics`).toBeGreaterThan(10);
      for (const { name, type, help } of scraped[app]) {
        const parts = name.split('_');
        if (parts[0] !== app) violations.push(`${name}: not prefixed ${app}_`);
        if (parts.some((p, i) => i > 0 && p === parts[i - 1])) violations.push(`${name}: doubled word`);
        if (type === 'COUNTER' && !name.endsWith('_total')) violations.push(`${name}: counter without _total`);
        const exempt = PROM_CLIENT_GAUGES_TOTAL.has(name.slice(app.length + 1));
        if (type !== 'COUNTER' && name.endsWith('_total') && !exempt)
          violations.push(`${name}: ${type} ending in _total`);
        if (type === 'UNTYPED') violations.push(`${name}: untyped`);
        const unit = parts.find((p) =>
          /^(ms|us|ns|millis|milliseconds|minutes|hours|days|kb|mb|gb|kib|mib|percent)$/.test(p),
        );
        if (unit) violations.push(`${name}: unit "${unit}" (use seconds, bytes or ratio)`);
        if (!help) violations.push(`${name}: no help text`);
      }
    }
    expect(violations).toEqual([]);
  });

  it("the alerts service's monotonic totals are counters", () => {
    const types = new Map(scraped.alerts.map((f) => [f.name, f.type]));
    for (const n of [
      'alerts_readings_total',
      'alerts_events_total',
      'alerts_deliveries_sent_total',
      'alerts_delivery_failures_total',
      'alerts_deliveries_failed_total',
    ])
      expect(types.get(n), n).toBe('COUNTER');
    expect(types.get('alerts_outbox_pending')).toBe('GAUGE');
  });

  it('every PromQL expression of the Grafana dashboard names only exposed metrics', () => {
    const exposed = new Set<string>();
    for (const app of APPS)
      for (const f of scraped[app]) {
        exposed.add(f.name);
        if (f.type === 'HISTOGRAM' || f.type === 'SUMMARY')
          for (const s of ['_bucket', '_sum', '_count']) exposed.add(f.name + s);
      }
    const dash = JSON.parse(readFileSync(path.join(repoRoot, 'infra/grafana/cnx-sense.json'), 'utf8')) as {
      panels: { title: string; targets?: { expr: string }[] }[];
    };
    const problems: string[] = [];
    let exprs = 0;
    for (const panel of dash.panels)
      for (const { expr } of panel.targets ?? []) {
        exprs++;
        const names: string[] = [];
        const cursor = parser.parse(expr).cursor();
        do {
          if (cursor.type.isError) problems.push(`${panel.title}: syntax error at ${cursor.from} in ${expr}`);
          if (cursor.name === 'VectorSelector') {
            const id = cursor.node.getChild('Identifier');
            if (id) names.push(expr.slice(id.from, id.to));
          }
        } while (cursor.next());
        if (names.length === 0) problems.push(`${panel.title}: no metric in ${expr}`);
        for (const n of names) if (!exposed.has(n)) problems.push(`${panel.title}: ${n} is not exposed`);
      }
    expect(exprs).toBeGreaterThan(15);
    expect(problems).toEqual([]);
  });
});
