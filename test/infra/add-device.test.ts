import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { filters, topics } from '@cnx/protocol';
import type { MqttClient } from 'mqtt';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  Clients,
  connectWithConnack,
  infraDir,
  type ProductionBroker,
  startProductionBroker,
} from './production-broker';

/**
 * infra/mosquitto/add-device.sh against the shipped production broker: the account it adds works
 * after the broker reloads (SIGHUP), rotation retires the old password, bad ids are refused.
 */
const CITY = 'chiang-mai';
const NEW_DEVICE = 'cm-air-nimman-07-pms';
const script = join(infraDir, 'add-device.sh');

let env: ProductionBroker;
const clients = new Clients(() => env);
beforeAll(async () => {
  env = await startProductionBroker(['cnx-gateway']);
});
afterEach(() => clients.closeAll());
afterAll(async () => {
  await clients.closeAll();
  await env?.stop();
});

function addDevice(args: string[], extraEnv: Record<string, string> = {}) {
  const r = spawnSync('bash', [script, '--passwd', env.passwordFile, '--acl', env.aclFile, ...args], {
    encoding: 'utf8',
    env: { ...process.env, ...extraEnv },
  });
  return { code: r.status, stdout: r.stdout.trim(), stderr: r.stderr };
}

/** Connects `device` with `pw` over TLS: the CONNACK code (0 accepted, 5 not authorised). */
async function connackCode(device: string, pw: string): Promise<number> {
  try {
    const { client } = await connectWithConnack(
      env.tlsUrl,
      { username: device, password: pw, reconnectPeriod: 0, ca: readFileSync(env.certs.caFile) },
      (c: MqttClient) => clients.track(c),
    );
    await client.endAsync();
    return 0;
  } catch (err) {
    return (err as { code?: number }).code ?? -1;
  }
}

/** The broker re-reads its password file on SIGHUP; waits (polling, bounded) until `device` gets `code`. */
async function reloadUntil(device: string, pw: string, code: number): Promise<void> {
  process.kill(env.broker.pid!, 'SIGHUP');
  for (let i = 0; i < 100; i++) {
    if ((await connackCode(device, pw)) === code) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${device} never got CONNACK ${code} after the reload`);
}

describe('infra/mosquitto/add-device.sh', () => {
  it('adds an account that publishes its own telemetry after a reload; rotation retires the old password', async () => {
    expect(await connackCode(NEW_DEVICE, 'anything')).toBe(5);
    const added = addDevice([NEW_DEVICE]);
    expect(added, added.stderr).toMatchObject({ code: 0 });
    const first = added.stdout;
    expect(first).toMatch(/^[A-Za-z0-9+/=]{32}$/);
    expect(readFileSync(env.passwordFile, 'utf8')).not.toContain(first); // stored hashed only
    await reloadUntil(NEW_DEVICE, first, 0);

    const gateway = await clients.connect('cnx-gateway');
    await gateway.client.subscribeAsync(filters.allTelemetry('+'), { qos: 1 });
    const device = await clients.device(NEW_DEVICE, { password: first });
    await device.client.publishAsync(topics.telemetry(CITY, NEW_DEVICE), '{"seq":1}', { qos: 1 });
    await gateway.waitFor((m) => m.topic === topics.telemetry(CITY, NEW_DEVICE));

    expect(addDevice([NEW_DEVICE]).code).toBe(3); // exists: adding again is refused
    const rotated = addDevice(['--rotate', NEW_DEVICE], { CNX_DEVICE_PASSWORD: 'a-chosen-password-of-the-city' });
    expect(rotated).toMatchObject({ code: 0, stdout: 'a-chosen-password-of-the-city' });
    await reloadUntil(NEW_DEVICE, first, 5);
    expect(await connackCode(NEW_DEVICE, 'a-chosen-password-of-the-city')).toBe(0);
  });

  it('refuses service-account names, wildcards, rotating an unknown device, and an ACL without the device rules', () => {
    expect(addDevice(['cnx-gateway']).code).toBe(2);
    expect(addDevice(['cm-air-+']).code).toBe(2);
    expect(addDevice(['--rotate', 'cm-air-never-added']).code).toBe(3);
    const acl = join(env.dir, 'acl-without-devices');
    writeFileSync(acl, 'user cnx-gateway\ntopic read cnx/v1/+/devices/+/telemetry\n');
    const r = spawnSync('bash', [script, '--passwd', env.passwordFile, '--acl', acl, 'cm-air-x-01'], {
      encoding: 'utf8',
    });
    expect(r.status).toBe(4);
    expect(readFileSync(env.passwordFile, 'utf8')).not.toMatch(/^cm-air-x-01:/m);
  });
});
