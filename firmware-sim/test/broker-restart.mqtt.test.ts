import type { TelemetryPayload } from '@cnx/protocol';
import { type MosquittoHandle, startMosquitto } from '@cnx/testkit';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createFleet } from '../src/fleet';
import { DEVICES, SIM_START } from './helpers';

describe('broker restart (not a fault: the real network)', () => {
  let broker: MosquittoHandle;
  beforeAll(async () => {
    broker = await startMosquitto({ persistence: true });
  });
  afterAll(async () => {
    await broker?.stop();
  });

  it('buffers while the broker is away and replays without gaps after it returns', async () => {
    // Persistent-session subscriber: the broker keeps its queue across the restart.
    const sub = await mqtt.connectAsync(broker.url, { clientId: 'restart-sub', clean: false, reconnectPeriod: 200 });
    const seqs: number[] = [];
    sub.on('message', (_t, payload) => seqs.push((JSON.parse(String(payload)) as TelemetryPayload).seq as number));
    await sub.subscribeAsync('cnx/v1/restart/devices/+/telemetry', { qos: 1 });

    const fleet = createFleet({
      city: 'restart',
      devices: DEVICES.slice(0, 1),
      mqtt: { url: broker.url, reconnectPeriod: 200 },
      timeScale: 100, // a reading every 100 ms
      simStart: SIM_START,
    });
    await fleet.start();
    await vi.waitFor(() => expect(seqs.length).toBeGreaterThan(5));
    await broker.stopProcess();
    await new Promise((r) => setTimeout(r, 800));
    expect(fleet.stats().up).toBe(0);
    expect(fleet.stats().buffered).toBeGreaterThan(0);
    await broker.restart();
    await vi.waitFor(() => expect(fleet.stats().replayed).toBeGreaterThan(0), { timeout: 10_000 });
    await new Promise((r) => setTimeout(r, 300));
    await fleet.stop();
    const last = fleet.stats().perDevice[0]?.seqLast as number;
    await vi.waitFor(() => expect(new Set(seqs).size).toBe(last + 1), { timeout: 10_000 });
    // at-least-once: duplicates are allowed (resent in-flight QoS 1), gaps are not
    expect([...new Set(seqs)].sort((a, b) => a - b)).toEqual([...Array(last + 1).keys()]);
    await sub.endAsync();
  });
});
