import { readFileSync } from 'node:fs';
import { filters, topics } from '@cnx/protocol';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  Clients,
  connectWithConnack,
  type Probe,
  type ProductionBroker,
  startProductionBroker,
} from './production-broker';

/**
 * The production broker as shipped (infra/mosquitto/mosquitto.conf and acl, only paths and ports
 * rewritten) on a real Mosquitto 2.x, with a CA and server certificate made by the suite, proved rule
 * by rule with MQTT.js clients. Devices connect over the TLS listener, the apps over loopback.
 *
 * Non-delivery is proved without waiting, in one of two ways:
 * - MQTT 5: Mosquitto answers a denied QoS 1 PUBLISH with PUBACK 135 (not authorised);
 * - MQTT 3.1.1 cannot refuse a PUBLISH (it is acknowledged and dropped), so the denied message is
 *   published before an allowed one on the same connection: once the allowed one has arrived, a routed
 *   denied one would already be there (the broker keeps a connection's order).
 */
const CITY = 'chiang-mai';
const DEVICE_A = 'cm-air-oldcity-01-pms';
const DEVICE_B = 'cm-air-oldcity-02-pms';
const USERS = [DEVICE_A, DEVICE_B, 'cnx-gateway', 'cnx-api', 'cnx-alerts', 'cnx-ops'] as const;
const NOT_AUTHORISED = 135;

let env: ProductionBroker;
const clients = new Clients(() => env);
beforeAll(async () => {
  env = await startProductionBroker(USERS);
});
afterEach(() => clients.closeAll());
afterAll(async () => {
  await clients.closeAll();
  await env?.stop();
});

async function gatewaySubscribed(opts = {}): Promise<Probe> {
  const gateway = await clients.connect('cnx-gateway', opts);
  await gateway.client.subscribeAsync({
    [filters.allTelemetry('+')]: { qos: 1 },
    [filters.allHistory('+')]: { qos: 1 },
    [filters.allStatus('+')]: { qos: 1 },
  });
  return gateway;
}

/** The messages a probe received live (not from the retained store), as topic and payload. */
const live = (p: Probe) => p.received.filter((m) => !m.retain).map(({ topic, payload }) => ({ topic, payload }));

describe('authentication and TLS', () => {
  it('refuses anonymous clients and wrong passwords on both listeners', async () => {
    const anonymous = { clientId: 'anonymous-probe', protocolVersion: 4 as const, reconnectPeriod: 0 };
    await expect(connectWithConnack(env.appsUrl, anonymous)).rejects.toMatchObject({ code: 5 });
    const ca = readFileSync(env.certs.caFile);
    await expect(connectWithConnack(env.tlsUrl, { ...anonymous, ca })).rejects.toMatchObject({ code: 5 });
    const wrong = { username: DEVICE_A, password: 'not-the-password', protocolVersion: 4 as const, reconnectPeriod: 0 };
    await expect(connectWithConnack(env.tlsUrl, { ...wrong, ca })).rejects.toMatchObject({ code: 5 });
    await expect(connectWithConnack(env.appsUrl, wrong)).rejects.toMatchObject({ code: 5 });
  });

  it('serves devices TLS only, with a certificate of the CA: no CA or plain MQTT gets no connection', async () => {
    const device = await clients.device(DEVICE_A);
    expect(device.client.connected).toBe(true);
    const creds = { username: DEVICE_A, password: `pw-${DEVICE_A}-${DEVICE_A.length}`, reconnectPeriod: 0 };
    await expect(connectWithConnack(env.tlsUrl, creds)).rejects.toThrow(/self-signed certificate/);
    await expect(connectWithConnack(env.tlsUrl.replace('mqtts:', 'mqtt:'), creds)).rejects.toThrow(/ECONNRESET/);
  });
});

describe('devices publish only their own topics', () => {
  it('a device publishes its own telemetry, history and status over TLS; the gateway receives them', async () => {
    const gateway = await gatewaySubscribed();
    const device = await clients.device(DEVICE_A);
    const telemetry = JSON.stringify({ ts: Date.now(), seq: 1, values: { pm25: 31.4 } });
    const history = JSON.stringify({ ts: Date.now() - 86_400_000, values: { pm25: 12.5 } });
    await device.client.publishAsync(topics.telemetry(CITY, DEVICE_A), telemetry, { qos: 1 });
    await device.client.publishAsync(topics.history(CITY, DEVICE_A), history, { qos: 1 });
    await device.client.publishAsync(topics.status(CITY, DEVICE_A), '{"state":"online"}', { qos: 1 });
    await gateway.waitFor((m) => m.topic === topics.status(CITY, DEVICE_A));
    expect(live(gateway)).toEqual([
      { topic: topics.telemetry(CITY, DEVICE_A), payload: telemetry },
      { topic: topics.history(CITY, DEVICE_A), payload: history },
      { topic: topics.status(CITY, DEVICE_A), payload: '{"state":"online"}' },
    ]);
  });

  it("another device's topics, the bus and the alerts are dropped (3.1.1) and refused (5: PUBACK 135)", async () => {
    const gateway = await gatewaySubscribed();
    const api = await clients.connect('cnx-api');
    await api.client.subscribeAsync({ [filters.allReadings('+')]: { qos: 1 }, [filters.allAlerts('+')]: { qos: 1 } });
    const device = await clients.device(DEVICE_A);
    for (const forged of [
      topics.telemetry(CITY, DEVICE_B),
      topics.history(CITY, DEVICE_B),
      topics.status(CITY, DEVICE_B),
      topics.readings(CITY),
      topics.alert(CITY, 'pm25-high', DEVICE_B),
    ])
      await device.client.publishAsync(forged, '{"forged":true}', { qos: 1 });
    await device.client.publishAsync(topics.telemetry(CITY, DEVICE_A), '{"real":true}', { qos: 1 });
    await gateway.waitFor((m) => m.payload === '{"real":true}');
    expect(live(gateway)).toEqual([{ topic: topics.telemetry(CITY, DEVICE_A), payload: '{"real":true}' }]);
    // The API's sentinel: a reading from the gateway, published after the device's forged ones.
    await gateway.client.publishAsync(topics.readings(CITY), '{"v":1}', { qos: 1 });
    await api.waitFor((m) => m.payload === '{"v":1}');
    expect(live(api)).toEqual([{ topic: topics.readings(CITY), payload: '{"v":1}' }]);

    const device5 = await clients.device(DEVICE_B, { protocolVersion: 5 });
    await expect(device5.client.publishAsync(topics.telemetry(CITY, DEVICE_A), '{}', { qos: 1 })).rejects.toMatchObject(
      {
        code: NOT_AUTHORISED,
      },
    );
    await device5.client.publishAsync(topics.telemetry(CITY, DEVICE_B), '{}', { qos: 1 }); // its own: PUBACK 0
  });

  it("a device's last will on its own status is published; a will on another device's status is not", async () => {
    const gateway = await gatewaySubscribed();
    const will = (device: string) => ({
      will: {
        topic: topics.status(CITY, device),
        payload: Buffer.from('{"state":"offline"}'),
        qos: 1 as const,
        retain: true,
      },
    });
    // The broker publishes a will when the connection dies without DISCONNECT: destroy the socket.
    const die = async (p: Probe) => {
      const closed = new Promise<void>((r) => p.client.once('close', () => r()));
      p.client.stream.destroy();
      await closed;
    };
    await die(await clients.device(DEVICE_A, will(DEVICE_B))); // a forged will: A claims B's status
    await die(await clients.device(DEVICE_A, will(DEVICE_A)));
    await gateway.waitFor((m) => m.topic === topics.status(CITY, DEVICE_A));
    expect(live(gateway)).toEqual([{ topic: topics.status(CITY, DEVICE_A), payload: '{"state":"offline"}' }]);
    // Retained for later subscribers (the gateway's device health after a restart); then cleared.
    const ops = await clients.connect('cnx-ops');
    await ops.client.subscribeAsync(topics.status(CITY, DEVICE_A), { qos: 1 });
    expect((await ops.waitFor((m) => m.retain)).payload).toBe('{"state":"offline"}');
    const a = await clients.device(DEVICE_A);
    await a.client.publishAsync(topics.status(CITY, DEVICE_A), '', { qos: 1, retain: true });
  });

  it('refuses a packet over max_packet_size (64 KiB) by disconnecting; one under it passes', async () => {
    const gateway = await gatewaySubscribed();
    const device = await clients.device(DEVICE_B);
    const under = `{"pad":"${'a'.repeat(60_000)}"}`;
    await device.client.publishAsync(topics.telemetry(CITY, DEVICE_B), under, { qos: 1 });
    await gateway.waitFor((m) => m.payload === under);
    const closed = new Promise<void>((r) => device.client.once('close', () => r()));
    device.client.publish(topics.telemetry(CITY, DEVICE_B), `{"pad":"${'b'.repeat(70_000)}"}`, { qos: 1 });
    await closed;
    expect(env.broker.output()).toContain(`Client ${DEVICE_B} disconnected due to oversize packet`);
    const again = await clients.device(DEVICE_B);
    await again.client.publishAsync(topics.telemetry(CITY, DEVICE_B), '{"after":true}', { qos: 1 });
    await gateway.waitFor((m) => m.payload === '{"after":true}');
    expect(live(gateway).map((m) => m.payload.length)).toEqual([under.length, '{"after":true}'.length]);
  });
});

describe('client ids are bound to accounts', () => {
  it("nobody takes over the gateway's persistent session by its client id; it keeps receiving", async () => {
    const session = { clientId: 'cnx-gateway', clean: false };
    let gateway = await gatewaySubscribed(session);
    let kicked = false;
    gateway.client.once('close', () => {
      kicked = true;
    });
    // Other accounts claim the gateway's client id and ask for its session: each gets its own.
    const api = await clients.connect('cnx-api', session);
    const device = await clients.device(DEVICE_A, session);
    expect([api.connack.sessionPresent, device.connack.sessionPresent]).toEqual([false, false]);
    await device.client.publishAsync(topics.telemetry(CITY, DEVICE_A), '{"n":1}', { qos: 1 });
    await gateway.waitFor((m) => m.payload === '{"n":1}');
    expect(kicked).toBe(false);

    // The gateway is away: its session queues the next reading. An intruder claiming the session
    // now would be handed that reading as it connects, before anything published later.
    await gateway.client.endAsync();
    await device.client.publishAsync(topics.telemetry(CITY, DEVICE_A), '{"n":2}', { qos: 1 });
    const intruder = await clients.connect('cnx-ops', session); // ops may read telemetry: it would get it
    expect(intruder.connack.sessionPresent).toBe(false);
    await intruder.client.subscribeAsync(filters.allReadings('+'), { qos: 1 });

    gateway = await clients.connect('cnx-gateway', session);
    expect(gateway.connack.sessionPresent).toBe(true);
    await gateway.waitFor((m) => m.payload === '{"n":2}');
    await gateway.client.publishAsync(topics.readings(CITY), '{"sentinel":true}', { qos: 1 });
    await intruder.waitFor((m) => m.payload === '{"sentinel":true}');
    expect(intruder.received.map((m) => m.payload)).toEqual(['{"sentinel":true}']);
  });
});

describe('service accounts: least privilege', () => {
  it('alerts publishes the public alert topic and the API reads it; the API publishes nothing', async () => {
    const api = await clients.connect('cnx-api');
    await api.client.subscribeAsync(filters.allAlerts('+'), { qos: 1 });
    const alerts = await clients.connect('cnx-alerts', { protocolVersion: 5 });
    const alertTopic = topics.alert(CITY, 'pm25-high', 'cm-air-oldcity-01');
    await alerts.client.publishAsync(alertTopic, '{"state":"active"}', { qos: 1, retain: true });
    expect((await api.waitFor((m) => m.topic === alertTopic)).payload).toBe('{"state":"active"}');
    // alerts may not write the bus or device topics
    for (const t of [topics.readings(CITY), topics.telemetry(CITY, DEVICE_A)])
      await expect(alerts.client.publishAsync(t, '{}', { qos: 1 })).rejects.toMatchObject({ code: NOT_AUTHORISED });

    const api5 = await clients.connect('cnx-api', { protocolVersion: 5, clientId: 'cnx-api-2' });
    for (const t of [alertTopic, topics.readings(CITY), topics.telemetry(CITY, DEVICE_A), topics.deadletter(CITY, 'x')])
      await expect(api5.client.publishAsync(t, '{"forged":true}', { qos: 1 })).rejects.toMatchObject({
        code: NOT_AUTHORISED,
      });
    await alerts.client.publishAsync(alertTopic, '', { qos: 1, retain: true }); // clear the retained alert
  });

  it('alerts publishes approved citizen reports and the API reads them; nobody else may', async () => {
    const api = await clients.connect('cnx-api');
    await api.client.subscribeAsync(filters.allReports('+'), { qos: 1 });
    const alerts = await clients.connect('cnx-alerts', { protocolVersion: 5 });
    const reportTopic = topics.report(CITY, 42);
    await alerts.client.publishAsync(reportTopic, '{"report":42}', { qos: 1 });
    expect((await api.waitFor((m) => m.topic === reportTopic)).payload).toBe('{"report":42}');
    for (const account of ['cnx-api', 'cnx-gateway']) {
      const other = await clients.connect(account, { protocolVersion: 5, clientId: `${account}-report` });
      await expect(other.client.publishAsync(reportTopic, '{"forged":true}', { qos: 1 })).rejects.toMatchObject({
        code: NOT_AUTHORISED,
      });
    }
  });

  it('the gateway publishes readings and device events; the API and alerts read readings', async () => {
    const api = await clients.connect('cnx-api');
    const alerts = await clients.connect('cnx-alerts');
    for (const p of [api, alerts]) await p.client.subscribeAsync(filters.allReadings('+'), { qos: 1 });
    const ops = await clients.connect('cnx-ops');
    await ops.client.subscribeAsync(filters.allDeviceEvents('+'), { qos: 1 });
    const gateway = await clients.connect('cnx-gateway', { protocolVersion: 5 });
    await gateway.client.publishAsync(topics.readings(CITY), '{"v":2}', { qos: 1 });
    await gateway.client.publishAsync(topics.deviceEvent(CITY, 'device-offline'), '{"d":1}', { qos: 1 });
    await Promise.all([api, alerts].map((p) => p.waitFor((m) => m.payload === '{"v":2}')));
    await ops.waitFor((m) => m.payload === '{"d":1}');
    await expect(gateway.client.publishAsync(topics.alert(CITY, 'r', 's'), '{}', { qos: 1 })).rejects.toMatchObject({
      code: NOT_AUTHORISED,
    });
  });
});
