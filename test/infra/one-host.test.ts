// Static validation of the one-host deployment artefacts, with the real tools (no Docker engine or
// systemd runs here): `docker-compose config` (Debian docker-compose 1.29: the Compose file schema,
// interpolation, env files, secrets) on a copy of infra/compose with the example .env and secrets;
// yamllint; `caddy validate` on infra/caddy/Caddyfile; the apps' one Dockerfile (infra/docker)
// parsed and linted by dockerfile-utils (the Docker language server's validator), its healthcheck
// script run against a local HTTP server; `systemd-analyze verify` on every unit
// in infra/systemd. Each tool missing is a failure naming the package (scripts/system-deps.sh).
import { execFile } from 'node:child_process';
import { cpSync, existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { loadApiConfig } from '@cnx/api';
import { loadGatewayConfig } from '@cnx/gateway';
import { freePort, makeTempDir, removeDir, requireBinary } from '@cnx/testkit';
import { validate as lintDockerfile } from 'dockerfile-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const run = promisify(execFile);

// Imported by a computed name: tsc would otherwise type-check all of apps/alerts under this
// workspace's settings, where its fetch body types differ (DOM lib from the browser-test packages).
const alertsModule: string = '@cnx/alerts';
const { loadAlertsConfig } = (await import(alertsModule)) as {
  loadAlertsConfig: (env: Record<string, string | undefined>) => unknown;
};

/** Runs a tool; resolves with its combined output, rejects with it (and the exit code) on failure. */
async function tool(bin: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}) {
  try {
    const { stdout, stderr } = await run(bin, args, { ...opts, maxBuffer: 16 * 1024 * 1024 });
    return { stdout, stderr };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    throw new Error(`${path.basename(bin)} ${args.join(' ')} failed (exit ${e.code}):\n${e.stdout}\n${e.stderr}`);
  }
}

interface ComposeService {
  image?: string;
  build?: { dockerfile: string; args?: Record<string, string> };
  environment?: Record<string, string>;
  healthcheck?: { test: string[] };
  restart?: string;
  volumes?: Array<string | { source?: string; target: string }>;
  secrets?: Array<{ source: string }>;
  user?: string;
  ports?: unknown[];
}

describe('one host with containers: infra/compose, infra/caddy, infra/docker', () => {
  let work: string;
  let resolved: { services: Record<string, ComposeService>; volumes: Record<string, unknown> };
  /** One resolved service; a missing one fails the test that asks. */
  const service = (name: string): ComposeService => {
    const svc = resolved.services[name];
    if (!svc) throw new Error(`compose.yaml has no service ${name}`);
    return svc;
  };

  beforeAll(async () => {
    const compose = requireBinary('docker-compose', 'docker-compose');
    work = await makeTempDir('cnx-compose-');
    // Layout as in the repository (compose.yaml mounts ../mosquitto/acl and ../caddy/Caddyfile and
    // builds with context ../..), with the operator's files made from the examples.
    cpSync(path.join(repoRoot, 'infra'), path.join(work, 'infra'), { recursive: true });
    cpSync(path.join(repoRoot, 'apps'), path.join(work, 'apps'), {
      recursive: true,
      filter: (src) => !/node_modules|\/dist|\/build|\.svelte-kit/.test(src),
    });
    const dir = path.join(work, 'infra/compose');
    cpSync(path.join(dir, 'example.env'), path.join(dir, '.env'));
    cpSync(path.join(dir, 'secrets.example'), path.join(dir, 'secrets'), { recursive: true });
    const env = { PATH: process.env.PATH ?? '/usr/bin', HOME: work };
    await tool(compose, ['config', '--quiet'], { cwd: dir, env });
    const { stdout } = await tool(compose, ['config'], { cwd: dir, env });
    resolved = parseYaml(stdout);
  }, 120_000);

  afterAll(async () => {
    if (work) await removeDir(work);
  });

  it('docker-compose config accepts compose.yaml; every service restarts and has a healthcheck', () => {
    const names = Object.keys(resolved.services).sort();
    expect(names).toEqual(['alerts', 'api', 'caddy', 'dashboard', 'gateway', 'influxdb', 'mosquitto']);
    for (const [name, svc] of Object.entries(resolved.services)) {
      expect(svc.restart, name).toBe('unless-stopped');
      expect(svc.healthcheck?.test.length, `${name} healthcheck`).toBeGreaterThan(0);
    }
    // Only the proxy (80/443) and the devices' MQTT over TLS (8883) are published.
    const published = Object.entries(resolved.services)
      .filter(([, s]) => s.ports?.length)
      .map(([n]) => n)
      .sort();
    expect(published).toEqual(['caddy', 'mosquitto']);
  });

  it('state is on volumes, InfluxDB is initialised with 90-day retention and the DBRP script', () => {
    // docker-compose 1.29 prints the short syntax (source:target:mode), newer ones objects.
    const mounts = (name: string) =>
      (service(name).volumes ?? []).map((v) =>
        typeof v === 'string' ? v.split(':').slice(0, 2).join(':') : `${v.source}:${v.target}`,
      );
    expect(mounts('gateway')).toContain('gateway-data:/var/lib/cnx');
    expect(mounts('alerts')).toContain('alerts-data:/var/lib/cnx');
    const influx = service('influxdb').environment ?? {};
    expect(influx.DOCKER_INFLUXDB_INIT_MODE).toBe('setup');
    expect(influx.DOCKER_INFLUXDB_INIT_RETENTION).toBe('90d');
    const init = path.join(repoRoot, 'infra/compose/influxdb-init/dbrp.sh');
    expect(statSync(init).mode & 0o111, 'dbrp.sh must be executable (the image runs only +x *.sh)').not.toBe(0);
    expect(readFileSync(init, 'utf8')).toMatch(
      /influx v1 dbrp create[\s\S]*--bucket-id "\$\{DOCKER_INFLUXDB_INIT_BUCKET_ID\}"/,
    );
    // The apps reach the store (as 2.x, token in their env file) and the broker by service name.
    expect(service('gateway').environment).toMatchObject({
      INFLUX_URL: 'http://influxdb:8086',
      INFLUX_VERSION: '2',
      INFLUX_ORG: 'cnx',
      INFLUX_BUCKET: 'cnx',
      GATEWAY_MQTT_URL: 'mqtt://mosquitto:1883',
    });
  });

  it("each app's own configuration check accepts the environment compose gives it", () => {
    // The apps validate every setting at start (house style 7); run those checks on the resolved
    // environment (compose.yaml + the example env files), the secret files at their example paths.
    const staff = path.join(repoRoot, 'infra/compose/secrets.example/staff.json');
    const env = (name: string) => ({ ...service(name).environment });
    expect(() => loadGatewayConfig(env('gateway'))).not.toThrow();
    expect(() => loadApiConfig(env('api'))).not.toThrow();
    expect(service('alerts').environment?.ALERTS_STAFF_FILE).toBe('/run/secrets/staff');
    expect(() => loadAlertsConfig({ ...env('alerts'), ALERTS_STAFF_FILE: staff })).not.toThrow();
  });

  it('bash -n accepts the InfluxDB init script', async () => {
    await tool('bash', ['-n', path.join(repoRoot, 'infra/compose/influxdb-init/dbrp.sh')]);
  });

  it('yamllint accepts compose.yaml', async () => {
    const yamllint = requireBinary('yamllint', 'yamllint');
    await tool(yamllint, ['-s', '-c', path.join(repoRoot, '.yamllint.yaml'), path.join(repoRoot, 'infra/compose')]);
  });

  it('caddy validate accepts the Caddyfile (with the compose upstreams and with loopback ones)', async () => {
    const caddy = requireBinary('caddy', 'caddy');
    const file = path.join(repoRoot, 'infra/caddy/Caddyfile');
    const base = { PATH: process.env.PATH ?? '/usr/bin', HOME: work, XDG_DATA_HOME: work, XDG_CONFIG_HOME: work };
    const names = {
      CNX_WEB_HOST: 'air.example.org',
      CNX_API_HOST: 'api.air.example.org',
      CNX_ACME_EMAIL: 'it@example.org',
    };
    const args = ['validate', '--adapter', 'caddyfile', '--config', file];
    const compose = await tool(caddy, args, { env: { ...base, ...names } });
    expect(compose.stdout + compose.stderr).toContain('Valid configuration');
    const host = await tool(caddy, args, {
      env: { ...base, ...names, CNX_DASHBOARD_UPSTREAM: '127.0.0.1:3000', CNX_API_UPSTREAM: '127.0.0.1:8080' },
    });
    expect(host.stdout + host.stderr).toContain('Valid configuration');
  });

  it('one Dockerfile for the four apps parses and lints clean, multi-stage, non-root, starting the bundle', () => {
    const file = path.join(repoRoot, 'infra/docker/Dockerfile');
    const text = readFileSync(file, 'utf8');
    const problems = lintDockerfile(text).map((d) => `${file}:${d.range.start.line + 1}: ${d.message}`);
    expect(problems).toEqual([]);
    expect(text.match(/^FROM /gm)?.length, 'multi-stage').toBe(2);
    expect(text.match(/^ARG APP$/gm)?.length, 'APP in both stages').toBe(2);
    expect(text, 'runtime stage runs as the node user').toMatch(/^USER node$/m);
    // `node .` starts dist/package.json's "main" (bundles.test.ts starts each bundle that way).
    expect(text).toMatch(/^CMD \["node", "\."\]$/m);
    expect(text).toMatch(/^ {2}CMD \["node", "\/usr\/local\/lib\/cnx\/healthcheck\.mjs"\]$/m);
    for (const app of ['gateway', 'api', 'alerts', 'dashboard']) {
      expect(service(app).build, app).toMatchObject({ dockerfile: 'infra/docker/Dockerfile', args: { APP: app } });
      expect(existsSync(path.join(repoRoot, 'apps', app, 'Dockerfile')), `apps/${app}/Dockerfile is gone`).toBe(false);
    }
  });

  it("the image's healthcheck exits 0 only when the app's /readyz on its own port answers 2xx", async () => {
    const script = path.join(repoRoot, 'infra/docker/healthcheck.mjs');
    let status = 200;
    const server = createServer((req, res) => {
      res.statusCode = req.url === '/readyz' ? status : 404;
      res.end();
    });
    const port = await freePort();
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    const check = (env: Record<string, string>) =>
      run(process.execPath, [script], { env: { PATH: process.env.PATH ?? '/usr/bin', ...env } }).then(
        () => 0,
        (e: { code?: number }) => e.code,
      );
    try {
      const p = String(port);
      const cases: Record<string, string>[] = [
        { CNX_APP: 'gateway', GATEWAY_HTTP_PORT: p },
        { CNX_APP: 'api', API_PORT: p },
        { CNX_APP: 'alerts', ALERTS_HTTP_PORT: p },
        { CNX_APP: 'dashboard', PORT: p },
      ];
      for (const env of cases) {
        expect(await check(env), env.CNX_APP).toBe(0);
      }
      status = 503;
      expect(await check({ CNX_APP: 'api', API_PORT: p })).toBe(1);
      expect(await check({ CNX_APP: 'nope', API_PORT: p })).toBe(1);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});

describe('one host without containers: infra/systemd', () => {
  it('systemd-analyze verify accepts every unit, with no warning', async () => {
    const analyze = requireBinary('systemd-analyze', 'systemd');
    const dir = path.join(repoRoot, 'infra/systemd');
    const units = readdirSync(dir).filter((f) => f.endsWith('.service'));
    expect(units.sort()).toEqual([
      'cnx-alerts.service',
      'cnx-api.service',
      'cnx-dashboard.service',
      'cnx-gateway.service',
    ]);
    for (const unit of units) {
      const { stdout, stderr } = await tool(analyze, ['verify', path.join(dir, unit)]);
      expect(`${stdout}${stderr}`.trim(), unit).toBe('');
      const text = readFileSync(path.join(dir, unit), 'utf8');
      for (const option of [
        'NoNewPrivileges=yes',
        'ProtectSystem=strict',
        'PrivateTmp=yes',
        'RestrictAddressFamilies=',
      ]) {
        expect(text, `${unit}: ${option}`).toContain(option);
      }
      expect(text).toMatch(/^EnvironmentFile=\/etc\/cnx\/cnx\.env$/m);
      expect(text).toMatch(/^StandardOutput=journal$/m);
    }
  });
});
