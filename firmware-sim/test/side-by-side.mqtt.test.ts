/**
 * A field technician's simulator beside the `npm start` fleet (issue 11, item 9): two simulator
 * instances publishing for the same devices, against a real Mosquitto. With per-run client ids both
 * stay connected and every reading of both arrives; with client id = device id (as real firmware)
 * they take over each other's session, which is what happened before.
 */
import { type MosquittoHandle, startMosquitto } from '@cnx/testkit';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { devicesOnline } from '../src/cli/preflight';
import { createFleet, type Fleet } from '../src/fleet';
import { DEVICES, SIM_START } from './helpers';

const CITY = 'sidebyside';
const TWO = DEVICES.slice(0, 2);

function twoFleets(url: string, suffixes: [string | undefined, string | undefined]): [Fleet, Fleet] {
  const make = (seed: number, clientIdSuffix: string | undefined, maxMessages?: number) =>
    createFleet({
      city: CITY,
      devices: TWO,
      mqtt: { url, reconnectPeriod: 100 },
      seed,
      timeScale: 200, // 10 s readings every 50 ms
      simStart: SIM_START,
      maxMessages,
      ...(clientIdSuffix === undefined ? {} : { clientIdSuffix }),
    });
  // The "built-in fleet" runs until stopped; the technician's run is bounded.
  return [make(1, suffixes[0]), make(2, suffixes[1], 40)];
}

describe('two simulators for the same devices on one broker', () => {
  let broker: MosquittoHandle;
  let sub: MqttClient;
  const received = new Map<string, number>();

  beforeAll(async () => {
    broker = await startMosquitto();
    sub = await mqtt.connectAsync(broker.url, { clientId: 'side-by-side-sub', reconnectPeriod: 0 });
    sub.on('message', (topic) => {
      const device = topic.split('/')[4] as string;
      if (topic.endsWith('/telemetry')) received.set(device, (received.get(device) ?? 0) + 1);
    });
    await sub.subscribeAsync(`cnx/v1/${CITY}/devices/+/telemetry`, { qos: 1 });
  });
  afterAll(async () => {
    await sub?.endAsync();
    await broker?.stop();
  });

  it('with per-run client id suffixes both stay connected and all their readings arrive', async () => {
    received.clear();
    const [builtIn, tech] = twoFleets(broker.url, ['sim-builtin', 'sim-tech']);
    const ids = TWO.map((d) => d.id);
    expect(await devicesOnline(broker.url, CITY, ids)).toEqual([]);
    await builtIn.start();
    await vi.waitFor(() => expect(builtIn.stats().acked).toBeGreaterThanOrEqual(10), { timeout: 10_000 });
    // What the CLI warns about before a run: these devices are played by another client already.
    expect(await devicesOnline(broker.url, CITY, ids)).toEqual(ids);
    await tech.start();
    expect(await tech.finished).toBe('max-messages');
    await tech.stop();
    // The built-in fleet keeps publishing after the technician's run has come and gone.
    const afterTech = builtIn.stats().acked;
    await vi.waitFor(() => expect(builtIn.stats().acked).toBeGreaterThanOrEqual(afterTech + 10), { timeout: 10_000 });
    await builtIn.stop();
    expect(await devicesOnline(broker.url, CITY, ids)).toEqual([]); // retained offline on stop

    const a = builtIn.stats();
    const b = tech.stats();
    expect(a.perDevice.map((d) => d.clientId)).toEqual(TWO.map((d) => `${d.id}@sim-builtin`));
    expect(b.perDevice.map((d) => d.clientId)).toEqual(TWO.map((d) => `${d.id}@sim-tech`));
    // One connection each for the whole run: nobody was disconnected by the other.
    for (const d of [...a.perDevice, ...b.perDevice]) expect(d.connects, d.clientId).toBe(1);
    expect(a.failed + b.failed).toBe(0);
    expect(b.acked).toBe(40);
    // Every acknowledged reading of both reached a subscriber.
    for (const d of TWO) {
      const sent = [a, b].reduce((n, s) => n + (s.perDevice.find((x) => x.deviceId === d.id)?.acked ?? 0), 0);
      await vi.waitFor(() => expect(received.get(d.id)).toBe(sent));
    }
  });

  it('with client id = device id (as real firmware) the second takes over the first one’s session', async () => {
    const [builtIn, tech] = twoFleets(broker.url, [undefined, undefined]);
    await builtIn.start();
    await tech.start();
    // The broker disconnects the older client of a client id (MQTT 3.1.1 §3.1.4); its reconnect then
    // disconnects the other: the two keep knocking each other off.
    await vi.waitFor(
      () => expect(builtIn.stats().perDevice[0]!.connects + tech.stats().perDevice[0]!.connects).toBeGreaterThan(3),
      { timeout: 10_000 },
    );
    await Promise.all([builtIn.stop(), tech.stop()]);
    expect(builtIn.stats().perDevice[0]?.clientId).toBe(TWO[0]!.id);
  });
});
