import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { filters, topics } from '@cnx/protocol';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Clients, infraDir, type ProductionBroker, startProductionBroker } from './production-broker';

/**
 * The gateway's queue on the production broker (infra/mosquitto/mosquitto.conf; the sizing is in
 * docs/scaling.md, "The broker queue"): the shipped limits are the documented ones, in the compose
 * copy too, and a real Mosquitto running the shipped file, with only max_queued_messages lowered so
 * the test is quick, keeps that many readings for the stopped gateway and drops the rest, although
 * it acknowledged each one to the device.
 */
const CITY = 'chiang-mai';
const DEVICE = 'cm-air-oldcity-01-pms';
const SHIPPED_LIMIT = 'max_queued_messages 720000';
const TEST_LIMIT = 20;

/** `name value` lines of a Mosquitto configuration file, for the options asked. */
function settings(file: string, names: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const [name, value] = line.split(' ');
    if (name && value && names.includes(name)) out[name] = value;
  }
  return out;
}

describe('the gateway queue limits', () => {
  it('are the documented sizing: an hour at 200 readings/s, 256 MiB of payload, 100 in flight; compose uses the same', () => {
    const names = ['max_queued_messages', 'max_queued_bytes', 'max_inflight_messages'];
    const shipped = settings(join(infraDir, 'mosquitto.conf'), names);
    expect(shipped).toEqual({
      max_queued_messages: String(200 * 3600),
      max_queued_bytes: String(256 * 1024 * 1024),
      max_inflight_messages: '100',
    });
    expect(settings(join(infraDir, '../compose/mosquitto.conf'), names)).toEqual(shipped);
  });
});

describe('past max_queued_messages, on a real Mosquitto with the shipped file', () => {
  let env: ProductionBroker;
  const clients = new Clients(() => env);
  beforeAll(async () => {
    env = await startProductionBroker([DEVICE, 'cnx-gateway'], {
      [SHIPPED_LIMIT]: `max_queued_messages ${TEST_LIMIT}`,
    });
  });
  afterEach(() => clients.closeAll());
  afterAll(async () => {
    await clients.closeAll();
    await env?.stop();
  });

  it('the stopped gateway gets the oldest readings up to the limit; the device had every one acknowledged', async () => {
    const session = { clean: false, protocolVersion: 4 as const };
    const first = await clients.connect('cnx-gateway', session);
    await first.client.subscribeAsync(filters.allTelemetry('+'), { qos: 1 });
    await first.client.endAsync();

    const device = await clients.device(DEVICE);
    const topic = topics.telemetry(CITY, DEVICE);
    const sent = TEST_LIMIT + 10;
    // Each QoS 1 publish resolves on the broker's PUBACK: the device is told every one arrived.
    for (let i = 0; i < sent; i++) await device.client.publishAsync(topic, `reading ${i}`, { qos: 1 });

    const gateway = await clients.connect('cnx-gateway', session);
    expect(gateway.connack.sessionPresent).toBe(true);
    // The queued readings go out right behind the CONNACK, before anything published later on: once
    // this marker has arrived, every queued reading that survived has arrived too.
    await device.client.publishAsync(topic, 'marker', { qos: 1 });
    await gateway.waitFor((m) => m.payload === 'marker');
    const queued = gateway.received.map((m) => m.payload).filter((p) => p !== 'marker');
    expect(queued).toEqual(Array.from({ length: TEST_LIMIT }, (_, i) => `reading ${i}`));
    // What the operator sees (log_type notice, docs/operations.md "spool growing / full").
    expect(env.broker.output()).toContain('Outgoing messages are being dropped for client cnx-gateway');
  });
});
