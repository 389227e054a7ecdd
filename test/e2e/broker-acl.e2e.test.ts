import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { filters, topics } from '@cnx/protocol';
import { type MosquittoHandle, makeTempDir, removeDir, startMosquitto } from '@cnx/testkit';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { infraMosquittoDir, password, type Recorder, recordMessages, writeBrokerAccounts } from '../src/broker-probe';

/**
 * The shipped broker ACL (infra/mosquitto/acl), read verbatim, enforced by a real Mosquitto 2.x with
 * the authentication settings of the shipped infra/mosquitto/mosquitto.conf and a password file made
 * by the real `mosquitto_passwd`.
 *
 * Two facts about Mosquitto shape the assertions:
 * - MQTT 3.1.1 has no way to refuse a PUBLISH: a denied publish is still acknowledged and then
 *   silently dropped. Non-delivery is therefore proved by ordering, not by waiting: the denied message
 *   is published (and acknowledged) before an allowed one on the same connection, and the subscriber
 *   receives messages in that order, so once the allowed one has arrived a routed denied one would
 *   already be there.
 * - Mosquitto's acl_file never refuses a SUBSCRIBE (it grants it and filters every message at
 *   delivery time against `read` access), so "cannot read dead letters" is asserted as non-delivery.
 *   A device may read nothing, so no allowed message can follow the denied one to it: there the
 *   sentinel is a SUBSCRIBE/SUBACK round trip on its own connection (`roundTrip`), checked against a
 *   subscriber that does get the message. No test waits a fixed time.
 */
const CITY = 'chiang-mai';
const DEVICE_A = 'cm-air-oldcity-01-pms';
const DEVICE_B = 'cm-air-oldcity-02-pms';
const _STATION_A = 'cm-air-oldcity-01';
const USERS = [DEVICE_A, DEVICE_B, 'cnx-gateway', 'cnx-api', 'cnx-ops'] as const;
type User = (typeof USERS)[number];

/** The authentication lines of the shipped mosquitto.conf, so this test also proves those settings. */
function shippedAuthSettings(): string[] {
  const conf = readFileSync(join(infraMosquittoDir, 'mosquitto.conf'), 'utf8');
  const wanted = ['per_listener_settings', 'allow_anonymous', 'use_username_as_clientid'];
  // use_username_as_clientid is written once per listener: keep one of each line.
  const lines = [...new Set(conf.split('\n').filter((l) => wanted.some((k) => l.startsWith(`${k} `))))];
  expect(lines.map((l) => l.split(' ')[0]).sort()).toEqual([...wanted].sort());
  // use_username_as_clientid also refuses clients without a username; this is the main switch.
  expect(lines).toContain('allow_anonymous false');
  return lines;
}

describe('broker ACL (infra/mosquitto/acl on a real Mosquitto)', () => {
  let broker: MosquittoHandle;
  let dir: string;
  const open: MqttClient[] = [];

  beforeAll(async () => {
    dir = await makeTempDir('cnx-acl-');
    const { passwordFile, aclFile } = writeBrokerAccounts(dir, USERS);
    // extraConfig is appended after the testkit's `listener` line, so the listener option
    // use_username_as_clientid applies to that listener; the global `allow_anonymous false` overrides
    // the testkit's `allow_anonymous true` (Mosquitto keeps the last occurrence; checked by hand on 2.0.11).
    broker = await startMosquitto({
      extraConfig: [...shippedAuthSettings(), `password_file ${passwordFile}`, `acl_file ${aclFile}`].join('\n'),
    });
  });

  afterEach(async () => {
    await Promise.all(open.splice(0).map((c) => c.endAsync(true)));
  });

  afterAll(async () => {
    await broker?.stop();
    if (dir) await removeDir(dir);
  });

  async function connect(user: User, opts: mqtt.IClientOptions = {}): Promise<Recorder> {
    const client = await mqtt.connectAsync(broker.url, {
      username: user,
      password: password(user),
      clientId: user,
      protocolVersion: 4,
      reconnectPeriod: 0,
      ...opts,
    });
    open.push(client);
    return recordMessages(client, user);
  }

  /**
   * A broker round trip on `r`'s own connection: a SUBSCRIBE (to a topic nothing is published on) and
   * its SUBACK. Mosquitto routes a PUBLISH into every subscriber's outgoing queue before it sends the
   * publisher's PUBACK, and writes each connection's packets in order; mqtt.js emits a QoS 1 message
   * as it reads it. So once the SUBACK is back, every message a publisher had acknowledged before the
   * SUBSCRIBE was sent is already in `r.received` if the broker routed it to `r`. For a subscriber
   * that may read nothing (a device), this is the sentinel no allowed message can be.
   */
  const roundTrip = (r: Recorder) => r.client.subscribeAsync(`cnx/v1/${CITY}/acl-test/round-trip`, { qos: 1 });

  it('a device publishes its own telemetry, history and status; the gateway user receives them', async () => {
    const gateway = await connect('cnx-gateway');
    await gateway.client.subscribeAsync({
      [filters.allTelemetry('+')]: { qos: 1 },
      [filters.allHistory('+')]: { qos: 1 },
      [filters.allStatus('+')]: { qos: 1 },
    });
    const device = await connect(DEVICE_A);
    const telemetry = JSON.stringify({ ts: Date.now(), seq: 1, values: { pm25: 31.4 } });
    const history = JSON.stringify({ ts: Date.now() - 86_400_000, values: { pm25: 12.5 } });
    await device.client.publishAsync(topics.telemetry(CITY, DEVICE_A), telemetry, { qos: 1 });
    await device.client.publishAsync(topics.history(CITY, DEVICE_A), history, { qos: 1 });
    await device.client.publishAsync(topics.status(CITY, DEVICE_A), '{"state":"online"}', { qos: 1, retain: true });

    expect((await gateway.waitFor((m) => m.topic === topics.telemetry(CITY, DEVICE_A))).payload).toBe(telemetry);
    expect((await gateway.waitFor((m) => m.topic === topics.history(CITY, DEVICE_A))).payload).toBe(history);
    expect((await gateway.waitFor((m) => m.topic === topics.status(CITY, DEVICE_A))).payload).toBe(
      '{"state":"online"}',
    );
    // Clear the retained status (an empty retained message) so later tests start from nothing.
    await device.client.publishAsync(topics.status(CITY, DEVICE_A), '', { qos: 1, retain: true });
  });

  it('a device cannot publish as another device, nor onto the bus; the broker drops it silently', async () => {
    const gateway = await connect('cnx-gateway');
    await gateway.client.subscribeAsync({
      [filters.allTelemetry('+')]: { qos: 1 },
      [filters.allHistory('+')]: { qos: 1 },
      [filters.allStatus('+')]: { qos: 1 },
    });
    const api = await connect('cnx-api');
    await api.client.subscribeAsync(filters.allReadings('+'), { qos: 1 });
    const device = await connect(DEVICE_A);

    // Denied first (MQTT 3.1.1: still PUBACKed), then allowed, on the same connection.
    await device.client.publishAsync(topics.telemetry(CITY, DEVICE_B), '{"forged":true}', { qos: 1 });
    await device.client.publishAsync(topics.history(CITY, DEVICE_B), '{"forged":true}', { qos: 1 });
    await device.client.publishAsync(topics.status(CITY, DEVICE_B), '{"state":"offline"}', { qos: 1, retain: true });
    await device.client.publishAsync(topics.readings(CITY), '{"forged":true}', { qos: 1 });
    await device.client.publishAsync(topics.telemetry(CITY, DEVICE_A), '{"real":true}', { qos: 1 });
    await gateway.waitFor((m) => m.topic === topics.telemetry(CITY, DEVICE_A));
    const live = (p: Recorder) => p.received.filter((m) => !m.retain).map(({ topic, payload }) => ({ topic, payload }));
    expect(live(gateway)).toEqual([{ topic: topics.telemetry(CITY, DEVICE_A), payload: '{"real":true}' }]);

    // The bus: only the gateway user may publish readings. A sentinel from the gateway proves the
    // device's forged reading (published earlier) was not routed to the API.
    await gateway.client.publishAsync(topics.readings(CITY), '{"v":1}', { qos: 1 });
    await api.waitFor((m) => m.payload === '{"v":1}');
    expect(live(api)).toEqual([{ topic: topics.readings(CITY), payload: '{"v":1}' }]);
  });

  it('anonymous clients and wrong passwords are refused at CONNECT', async () => {
    await expect(
      mqtt.connectAsync(broker.url, { clientId: 'anonymous-probe', protocolVersion: 4, reconnectPeriod: 0 }),
    ).rejects.toMatchObject({ code: 5 }); // CONNACK 5: not authorised
    await expect(
      mqtt.connectAsync(broker.url, {
        clientId: DEVICE_A,
        username: DEVICE_A,
        password: 'not-the-password',
        protocolVersion: 4,
        reconnectPeriod: 0,
      }),
    ).rejects.toMatchObject({ code: 5 });
  });

  it('dead letters reach the ops user only: not a device, not the API', async () => {
    const ops = await connect('cnx-ops');
    await ops.client.subscribeAsync(filters.allDeadletter('+'), { qos: 1 });
    const api = await connect('cnx-api');
    await api.client.subscribeAsync({
      [filters.allDeadletter('+')]: { qos: 1 },
      [filters.allReadings('+')]: { qos: 1 },
    });
    const device = await connect(DEVICE_B);
    const granted = await device.client.subscribeAsync(filters.allDeadletter('+'), { qos: 1 });
    // Mosquitto's acl_file grants every SUBSCRIBE and filters at delivery; a broker that checks
    // subscriptions (dynamic-security plugin, EMQX) answers 128. Either way nothing may arrive.
    expect([1, 128]).toContain(granted[0]?.qos);

    const gateway = await connect('cnx-gateway');
    const dead = JSON.stringify({ v: 1, reason: 'malformed_json', payload: '{oops' });
    await gateway.client.publishAsync(topics.deadletter(CITY, DEVICE_B), dead, { qos: 1 });
    await gateway.client.publishAsync(topics.readings(CITY), '{"v":1}', { qos: 1 });

    // Devices may read nothing, so no published sentinel can follow the dead letter to one: the round
    // trip on its own connection is the sentinel, made at once on the ops connection too, whose copy
    // must already be there when its SUBACK is back (read without waiting).
    await Promise.all([roundTrip(ops), roundTrip(device)]);
    expect(ops.received.filter((m) => m.topic === topics.deadletter(CITY, DEVICE_B)).map((m) => m.payload)).toEqual([
      dead,
    ]);
    expect(device.received).toEqual([]);
    // The API's sentinel (a later reading on the same gateway connection) proves non-delivery to it.
    await api.waitFor((m) => m.topic === topics.readings(CITY));
    expect(api.received.map((m) => m.topic)).toEqual([topics.readings(CITY)]);
  });

  it('the client id is the username: a device cannot take over another device by its client id', async () => {
    const victim = await connect(DEVICE_B);
    const takenOver = new Promise<never>((_, reject) =>
      victim.client.once('close', () => reject(new Error(`${DEVICE_B} was disconnected: session taken over`))),
    );
    takenOver.catch(() => {}); // only observed through the race below
    const gateway = await connect('cnx-gateway');
    await gateway.client.subscribeAsync(filters.allTelemetry('+'), { qos: 1 });
    // Device A connects claiming B's client id (a session takeover without use_username_as_clientid).
    // The broker disconnects the older session before it answers the newcomer's CONNECT.
    const intruder = await connect(DEVICE_A, { clientId: DEVICE_B });
    await intruder.client.publishAsync(topics.telemetry(CITY, DEVICE_A), '{"a":1}', { qos: 1 });
    await Promise.race([
      takenOver,
      (async () => {
        await victim.client.publishAsync(topics.telemetry(CITY, DEVICE_B), '{"b":1}', { qos: 1 });
        await gateway.waitFor((m) => m.topic === topics.telemetry(CITY, DEVICE_B));
      })(),
    ]);
    expect(victim.client.connected).toBe(true);
  });
});
