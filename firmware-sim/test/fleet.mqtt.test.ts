import { isMetricId, METRICS } from '@cnx/domain';
import type { DeviceStatusPayload, SenmlPack, TelemetryPayload } from '@cnx/protocol';
import { filters, parseTopic } from '@cnx/protocol';
import { freePort, type MosquittoHandle, startMosquitto } from '@cnx/testkit';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { PublishedEvent } from '../src/devices/types';
import { MALFORMED_KINDS } from '../src/faults/types';
import { createFleet } from '../src/fleet';
import { DEVICES, SIM_START } from './helpers';

interface Received {
  topic: string;
  payload: Buffer;
  retain: boolean;
}

async function subscriber(
  url: string,
  filter: string,
  clientId: string,
): Promise<{ client: MqttClient; got: Received[] }> {
  const client = await mqtt.connectAsync(url, { clientId, clean: true, reconnectPeriod: 0 });
  const got: Received[] = [];
  client.on('message', (topic, payload, packet) => got.push({ topic, payload, retain: packet.retain }));
  await client.subscribeAsync(filter, { qos: 1 });
  return { client, got };
}

/** Structural check of our JSON telemetry against the protocol type and the metric registry. */
function expectTelemetryPayload(p: unknown): asserts p is TelemetryPayload {
  const t = p as TelemetryPayload;
  expect(Number.isInteger(t.ts)).toBe(true);
  expect(Number.isInteger(t.seq)).toBe(true);
  expect(Object.keys(t.values).sort()).toEqual(['humidity', 'pm1', 'pm10', 'pm25', 'temperature']);
  for (const [k, v] of Object.entries(t.values)) {
    expect(isMetricId(k)).toBe(true);
    expect(typeof v).toBe('number');
    if (isMetricId(k)) expect(v).toBeGreaterThanOrEqual(METRICS[k].hardMin);
  }
}

function expectSenmlPack(p: unknown, deviceId: string): asserts p is SenmlPack {
  const pack = p as SenmlPack;
  expect(Array.isArray(pack)).toBe(true);
  expect(pack[0]?.bn).toBe(`urn:dev:cnx:${deviceId}:`);
  expect(typeof pack[0]?.bt).toBe('number');
  for (const r of pack) {
    expect(isMetricId(r.n ?? '')).toBe(true);
    if (isMetricId(r.n ?? '')) expect(r.u).toBe(METRICS[r.n as keyof typeof METRICS].unit);
    expect(typeof r.v).toBe('number');
  }
}

describe('fleet against a real Mosquitto', () => {
  let broker: MosquittoHandle;
  beforeAll(async () => {
    broker = await startMosquitto();
  });
  afterAll(async () => {
    await broker?.stop();
  });

  it('publishes valid telemetry, retained status, malformed payloads and offline-buffer replays', async () => {
    const city = 'itest';
    const { client: sub, got } = await subscriber(broker.url, 'cnx/v1/itest/devices/#', 'itest-sub');
    const fleet = createFleet({
      city,
      devices: DEVICES,
      mqtt: { url: broker.url },
      seed: 42,
      timeScale: 600, // 10 s readings every ~17 ms
      simStart: SIM_START,
      format: 'mixed', // dev-a json, dev-b senml, dev-c json
      faults: [
        { device: 'dev-b', mode: 'malformed', nth: 2 },
        { device: 'dev-c', mode: 'offline-buffer', after: '1m', for: '2m' },
      ],
      maxMessages: 90,
    });
    const events: PublishedEvent[] = [];
    fleet.on('published', (e) => events.push(e));

    await fleet.start();
    // A late subscriber sees each device's retained `online` status.
    const late = await subscriber(broker.url, filters.allStatus(city), 'itest-late');
    await vi.waitFor(() => expect(late.got.filter((m) => m.retain)).toHaveLength(3));
    for (const m of late.got) expect(JSON.parse(String(m.payload))).toMatchObject({ state: 'online' });
    await late.client.endAsync();

    expect(await fleet.finished).toBe('max-messages');
    await fleet.stop();
    const stats = fleet.stats();
    expect(stats.published).toBe(90);
    // dev-c's link is cut abruptly (offline-buffer): a QoS 1 message in flight at that instant may
    // reach the broker while its PUBACK is lost, so it counts as failed, not acked.
    expect(stats.acked + stats.failed).toBe(90);
    expect(stats.failed).toBeLessThanOrEqual(1);

    const telemetry = () => got.filter((m) => parseTopic(m.topic)?.kind === 'telemetry');
    await vi.waitFor(() => expect(telemetry().length).toBeGreaterThanOrEqual(stats.acked));

    // Every message the fleet says it sent arrived byte for byte, in per-device order (dev-c may
    // miss the one message its abrupt disconnect lost, counted in stats.failed).
    for (const d of DEVICES) {
      const sent = events.filter((e) => e.deviceId === d.id).map((e) => Buffer.from(e.payload).toString('base64'));
      const recv = telemetry()
        .filter((m) => parseTopic(m.topic)?.id === d.id)
        .map((m) => m.payload.toString('base64'));
      if (d.id !== 'dev-c' || recv.length === sent.length) expect(recv).toEqual(sent);
      else {
        expect(recv.length).toBe(sent.length - stats.failed);
        expect(recv.every((r) => sent.includes(r))).toBe(true);
      }
    }

    // JSON devices: valid payloads, seq increasing by one, ts on the 10 s grid with no gap (replays included).
    for (const id of ['dev-a', 'dev-c']) {
      const msgs = telemetry()
        .filter((m) => parseTopic(m.topic)?.id === id)
        .map((m) => JSON.parse(String(m.payload)) as unknown);
      for (const p of msgs) expectTelemetryPayload(p);
      const seqs = (msgs as TelemetryPayload[]).map((p) => p.seq as number);
      // A message lost in dev-c's abrupt disconnect (stats.failed) leaves exactly that many gaps.
      const gaps = seqs.slice(1).filter((q, i) => q !== (seqs[i] as number) + 1).length;
      expect(gaps).toBe(id === 'dev-c' ? stats.failed : 0);
      const ts = (msgs as TelemetryPayload[]).map((p) => p.ts as number);
      const steps = ts.slice(1).map((t, i) => t - (ts[i] as number));
      expect(steps.filter((d) => d !== 10_000).length).toBe(id === 'dev-c' ? stats.failed : 0);
    }

    // SenML device with the malformed fault: good packs are valid SenML, bad ones cycle the kinds.
    const devB = events.filter((e) => e.deviceId === 'dev-b');
    for (const e of devB.filter((x) => !x.malformed)) expectSenmlPack(JSON.parse(String(e.payload)), 'dev-b');
    const kinds = devB.filter((e) => e.malformed).map((e) => e.malformed);
    expect(kinds.length).toBeGreaterThanOrEqual(5);
    expect(kinds).toEqual(kinds.map((_, i) => MALFORMED_KINDS[i % MALFORMED_KINDS.length]));
    const bad = Object.fromEntries(devB.filter((e) => e.malformed).map((e) => [e.malformed, String(e.payload)]));
    expect(() => JSON.parse(bad.invalid_json as string)).toThrow();
    expect(JSON.parse(bad.not_an_object as string)).not.toBeInstanceOf(Array);

    // Offline buffer: the will fired, the device came back online, and replayed with original ts/seq.
    const cStatus = got
      .filter((m) => m.topic === `cnx/v1/${city}/devices/dev-c/status`)
      .map((m) => JSON.parse(String(m.payload)) as DeviceStatusPayload);
    expect(cStatus.map((s) => s.state)).toEqual(['online', 'offline', 'online', 'offline']);
    expect(cStatus[1]).not.toHaveProperty('ts'); // the last will (fixed at connect time)
    expect(cStatus[3]?.ts).toBeTypeOf('number'); // the clean shutdown
    const replayed = events.filter((e) => e.deviceId === 'dev-c' && e.replayed);
    expect(replayed.length).toBeGreaterThanOrEqual(12);
    for (const e of replayed) expect((JSON.parse(String(e.payload)) as TelemetryPayload).ts).toBe(e.t);

    // After stop every device's retained status is `offline`.
    const after = await subscriber(broker.url, filters.allStatus(city), 'itest-after');
    await vi.waitFor(() => expect(after.got).toHaveLength(3));
    for (const m of after.got) {
      expect(m.retain).toBe(true);
      expect(JSON.parse(String(m.payload))).toMatchObject({ state: 'offline' });
    }
    await after.client.endAsync();
    await sub.endAsync();
  });

  it('reconnect storm: N last wills and N+1 online statuses on the broker', async () => {
    const city = 'storm';
    const { client: sub, got } = await subscriber(broker.url, filters.allStatus(city), 'storm-sub');
    const fleet = createFleet({
      city,
      devices: [DEVICES[0] as (typeof DEVICES)[number]],
      mqtt: { url: broker.url },
      timeScale: 60,
      simStart: SIM_START,
      faults: [{ device: 'dev-a', mode: 'reconnect-storm', count: 3, gapMs: 20, after: '10s' }],
    });
    await fleet.start();
    await vi.waitFor(() => expect(fleet.stats().perDevice[0]?.connects).toBe(4), { timeout: 10_000 });
    await fleet.stop();
    await vi.waitFor(() => {
      const states = got.map((m) => (JSON.parse(String(m.payload)) as DeviceStatusPayload).state);
      expect(states).toEqual(['online', 'offline', 'online', 'offline', 'online', 'offline', 'online', 'offline']);
    });
    await sub.endAsync();
  });

  it('fails start() with a clear message when the broker is unreachable', async () => {
    const port = await freePort();
    const fleet = createFleet({
      city: 'nobroker',
      devices: DEVICES.slice(0, 1),
      mqtt: { url: `mqtt://127.0.0.1:${port}`, reconnectPeriod: 0 },
    });
    await expect(fleet.start()).rejects.toThrow(/could not connect.*ECONNREFUSED/);
    await fleet.stop();
  });
});
