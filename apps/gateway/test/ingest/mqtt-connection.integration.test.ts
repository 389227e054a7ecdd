import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { filters, topics } from '@cnx/protocol';
import { createLogger } from '@cnx/runtime';
import {
  freePort,
  type MosquittoHandle,
  makeTempDir,
  makeTestCertificates,
  removeDir,
  requireBinary,
  startMosquitto,
  type TestCertificates,
} from '@cnx/testkit';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadGatewayConfig } from '../../src/config';
import { Gateway } from '../../src/gateway';
import { chiangMaiAirDevices, collect, connect, publishQos1, waitFor } from '../helpers';

const CITY = 'chiang-mai';
const USER = 'cnx-gateway';
const PASSWORD = 'gateway-secret';

/** A gateway in-process whose log lines (JSON) are kept for assertions. */
async function gatewayWithLog(env: Record<string, string>) {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk, _enc, done) {
      for (const l of String(chunk).split('\n')) if (l) lines.push(JSON.parse(l) as Record<string, unknown>);
      done();
    },
  });
  const config = loadGatewayConfig({ GATEWAY_HTTP_PORT: '0', GATEWAY_FLUSH_MS: '20', ...env });
  const gateway = new Gateway(config, createLogger('gateway-test', 'info', sink));
  await gateway.start();
  return { gateway, lines };
}

/**
 * The gateway's MQTT connection (MQTT.js) against a real Mosquitto: TLS with the suite's own CA and
 * a client certificate the broker requires, WebSocket over TLS with MQTT 5, username/password, a
 * subscription the broker refuses, and a fast stream taken whole, in order and acknowledged.
 */
describe('the gateway on MQTT.js against real Mosquitto', () => {
  let broker: MosquittoHandle;
  let dir: string;
  let certs: TestCertificates;
  let tlsPort: number;
  let wssPort: number;
  let device: MqttClient;
  let devices: string[];
  const running: Gateway[] = [];

  beforeAll(async () => {
    dir = await makeTempDir('cnx-mqtt-conn-');
    certs = makeTestCertificates(dir, USER);
    const passwordFile = join(dir, 'passwd');
    writeFileSync(passwordFile, '', { mode: 0o600 });
    execFileSync(requireBinary('mosquitto_passwd', 'mosquitto'), ['-b', passwordFile, USER, PASSWORD]);
    [tlsPort, wssPort, devices] = await Promise.all([freePort(), freePort(), chiangMaiAirDevices()]);
    const tls = [`cafile ${certs.caFile}`, `certfile ${certs.serverCert}`, `keyfile ${certs.serverKey}`];
    broker = await startMosquitto({
      extraConfig: [
        // Global (per_listener_settings false): anonymous clients allowed, a known user needs its password.
        `password_file ${passwordFile}`,
        `listener ${tlsPort} 127.0.0.1`,
        ...tls,
        'require_certificate true',
        `listener ${wssPort} 127.0.0.1`,
        'protocol websockets',
        ...tls,
      ].join('\n'),
    });
    device = await connect(broker.url, 'conn-test-device');
  });

  afterAll(async () => {
    for (const g of running.splice(0)) await g.stop();
    device?.end(true);
    await broker?.stop();
    if (dir) await removeDir(dir);
  });

  const start = async (name: string, env: Record<string, string>) => {
    const g = await gatewayWithLog({
      CNX_DATA_DIR: join(dir, name),
      GATEWAY_SPOOL_DIR: join(dir, name, 'spool'),
      GATEWAY_MQTT_CLIENT_ID: `gw-${name}`,
      ...env,
    });
    running.push(g.gateway);
    return g;
  };
  const stop = async (g: Gateway) => {
    running.splice(running.indexOf(g), 1);
    await g.stop();
  };

  /** A reading published by a device on the plain listener comes back on the bus through `g`. */
  async function flows(g: Gateway, deviceId: string) {
    const observer = await connect(broker.url, `obs-${deviceId}`);
    try {
      const bus = await collect(observer, filters.allReadings(CITY));
      const ts = Date.now() - 60_000;
      await publishQos1(device, topics.telemetry(CITY, deviceId), JSON.stringify({ ts, values: { pm25: 12 } }));
      await bus.waitForReadings(1);
      expect(bus.readings()[0]).toMatchObject({ device: deviceId, ts });
      expect((await g.health()).checks.mqtt?.ok).toBe(true);
    } finally {
      observer.end(true);
    }
  }

  it('TLS with its own CA and a client certificate the broker requires (MQTT 3.1.1)', async () => {
    const { gateway } = await start('tls', {
      GATEWAY_MQTT_URL: `mqtts://127.0.0.1:${tlsPort}`,
      GATEWAY_MQTT_CA_FILE: certs.caFile,
      GATEWAY_MQTT_CERT_FILE: certs.clientCert,
      GATEWAY_MQTT_KEY_FILE: certs.clientKey,
    });
    await flows(gateway, devices[0] as string);
    await stop(gateway);
    // The broker really checks: no client certificate, or one of another CA, gets no connection.
    for (const extra of [{}, { cert: certs.strangerCert, key: certs.strangerKey }]) {
      const refused = await mqtt
        .connectAsync(`mqtts://127.0.0.1:${tlsPort}`, {
          ca: readFileSync(certs.caFile),
          reconnectPeriod: 0,
          ...readPem(extra),
        })
        .then((c) => c.endAsync().then(() => 'connected'))
        .catch(() => 'refused');
      expect(refused).toBe('refused');
    }
  });

  it('WebSocket over TLS (wss) with MQTT 5', async () => {
    const { gateway } = await start('wss', {
      GATEWAY_MQTT_URL: `wss://127.0.0.1:${wssPort}/mqtt`,
      GATEWAY_MQTT_CA_FILE: certs.caFile,
      GATEWAY_MQTT_VERSION: '5',
    });
    await flows(gateway, devices[1] as string);
    await stop(gateway);
  });

  it('username and password: the right ones connect; a wrong password is refused and /health is down', async () => {
    const ok = await start('user', {
      GATEWAY_MQTT_URL: broker.url,
      GATEWAY_MQTT_USERNAME: USER,
      GATEWAY_MQTT_PASSWORD: PASSWORD,
    });
    await flows(ok.gateway, devices[2] as string);
    await stop(ok.gateway);
    const bad = await start('badpass', {
      GATEWAY_MQTT_URL: broker.url,
      GATEWAY_MQTT_USERNAME: USER,
      GATEWAY_MQTT_PASSWORD: 'wrong',
    });
    const health = await bad.gateway.health();
    expect(health.status).toBe('down');
    expect(health.checks.mqtt?.ok).toBe(false);
    expect(bad.lines.some((l) => l.msg === 'mqtt broker not reachable at start-up; still connecting')).toBe(true);
    await stop(bad.gateway);
  });

  it('takes a fast stream whole, in order, once, and acknowledges it (nothing redelivered after a restart)', async () => {
    const N = 3000;
    const deviceId = devices[3] as string;
    const first = await start('stream', { GATEWAY_MQTT_URL: broker.url, GATEWAY_BUS_BATCH_MS: '5' });
    const observer = await connect(broker.url, 'obs-stream');
    const bus = await collect(observer, filters.allReadings(CITY));
    const t0 = Date.now() - 3_600_000;
    const body = (i: number) => JSON.stringify({ ts: t0 + i * 1000, seq: i, values: { pm25: 10 + (i % 7) } });
    await Promise.all(
      Array.from({ length: N }, (_, i) => publishQos1(device, topics.telemetry(CITY, deviceId), body(i))),
    );
    await bus.waitForReadings(N, 90_000);
    expect(bus.readings().map((r) => r.seq)).toEqual(Array.from({ length: N }, (_, i) => i));
    expect(first.gateway.stats.accepted).toBe(N);
    await stop(first.gateway);
    // Same client id and spool: the broker keeps the session; only a marker is new.
    const second = await start('stream', { GATEWAY_MQTT_URL: broker.url });
    await publishQos1(device, topics.telemetry(CITY, deviceId), body(N));
    await waitFor(() => second.gateway.stats.accepted > 0, 15_000, 'the marker');
    await new Promise((r) => setTimeout(r, 200));
    expect(second.gateway.stats.received).toBe(1);
    observer.end(true);
    await stop(second.gateway);
  }, 120_000); // 3,000 QoS 1 round trips: minutes on a busy machine, not the default 30 s
});

describe('a subscription the broker refuses (Mosquitto dynamic security: subscribe denied)', () => {
  let broker: MosquittoHandle;
  let dir: string;

  beforeAll(async () => {
    dir = await makeTempDir('cnx-mqtt-refused-');
    const dynsec = join(dir, 'dynamic-security.json');
    // Clients may publish and receive, but no subscription is granted (the defaults of no role).
    const acl = { publishClientSend: true, publishClientReceive: true, subscribe: false, unsubscribe: true };
    writeFileSync(dynsec, JSON.stringify({ defaultACLAccess: acl, clients: [], groups: [], roles: [] }));
    broker = await startMosquitto({
      extraConfig: [
        'plugin /usr/lib/x86_64-linux-gnu/mosquitto_dynamic_security.so',
        `plugin_opt_config_file ${dynsec}`,
      ].join('\n'),
    });
  });

  afterAll(async () => {
    await broker?.stop();
    if (dir) await removeDir(dir);
  });

  it.each([
    ['3.1.1', '0x80'],
    ['5', '0x87'],
  ])('MQTT %s: /health is down with the refused filters, and one clear error line', async (version, code) => {
    const { gateway, lines } = await gatewayWithLog({
      GATEWAY_MQTT_URL: broker.url,
      GATEWAY_MQTT_VERSION: version,
      CNX_DATA_DIR: join(dir, version),
      GATEWAY_SPOOL_DIR: join(dir, version, 'spool'),
    });
    try {
      await waitFor(() => gateway.stats.subscriptionRefused !== undefined, 10_000, 'the SUBACK');
      const health = await gateway.health();
      expect(health.status).toBe('down');
      expect(health.checks.mqtt).toMatchObject({ ok: false });
      const reason = (health.checks.mqtt?.detail as { reason: string } | undefined)?.reason ?? '';
      expect(reason).toContain(`${filters.allTelemetry(CITY)} (reason ${code})`);
      const errors = lines.filter((l) => l.level === 50 && String(l.msg).includes('refused a subscription'));
      expect(errors).toHaveLength(1);
      expect(errors[0]?.refused).toContain(`${filters.allHistory(CITY)} (reason ${code})`);
    } finally {
      await gateway.stop();
    }
  });
});

function readPem(files: { cert?: string; key?: string }): { cert?: Buffer; key?: Buffer } {
  return files.cert && files.key ? { cert: readFileSync(files.cert), key: readFileSync(files.key) } : {};
}
