import type { DeviceStatusPayload } from '@cnx/protocol';
import { MqttTelemetryNode } from '../src/devices/mqtt-node';
import type { PayloadFormat } from '../src/devices/payload';
import { pms5003Model } from '../src/devices/pms5003';
import type { PublishedEvent, SimDeviceInfo, StatusEvent } from '../src/devices/types';
import { createFaults } from '../src/faults';
import type { FaultSpec } from '../src/faults/types';
import { createScenario } from '../src/scenarios';
import { createMemoryBroker, type MemoryBroker } from '../src/transport/memory.transport';

export const SIM_START = Date.parse('2026-03-15T00:00:00+07:00');
export const INTERVAL = 10_000;

/**
 * Three stations of the Chiang Mai pack (two in the old city 600 m apart, one at STeP ~5 km away),
 * each reporting every 10 s (intervalS; the pack's own devices report every 60 s).
 */
export const DEVICES: SimDeviceInfo[] = [
  {
    id: 'dev-a',
    stationId: 'st-oldcity-1',
    model: 'pms5003',
    transport: 'mqtt',
    location: { lat: 18.7904, lon: 98.9874 },
    intervalS: INTERVAL / 1000,
  },
  {
    id: 'dev-b',
    stationId: 'st-oldcity-2',
    model: 'pms5003',
    transport: 'mqtt',
    location: { lat: 18.7869, lon: 98.9865 },
    intervalS: INTERVAL / 1000,
  },
  {
    id: 'dev-c',
    stationId: 'st-step',
    model: 'pms5003',
    transport: 'mqtt',
    location: { lat: 18.765, lon: 98.94 },
    intervalS: INTERVAL / 1000,
  },
];

export const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

export interface TestNode {
  node: MqttTelemetryNode;
  broker: MemoryBroker;
  published: PublishedEvent[];
  statuses: StatusEvent[];
  /** Advance to simulated time (ms after SIM_START) and let acks / reconnects settle. */
  advanceTo(msAfterStart: number): Promise<void>;
  /** Messages the fake broker received on the telemetry topic. */
  telemetry(): { payload: string | Uint8Array; will: boolean }[];
  statusPayloads(): DeviceStatusPayload[];
}

export async function makeNode(
  opts: { faults?: FaultSpec[]; format?: PayloadFormat; seed?: number; bufferCapacity?: number } = {},
): Promise<TestNode> {
  const info = DEVICES[0] as SimDeviceInfo;
  const seed = opts.seed ?? 7;
  const broker = createMemoryBroker();
  const published: PublishedEvent[] = [];
  const statuses: StatusEvent[] = [];
  let now = SIM_START;
  const sensor = pms5003Model.createSensor({
    info,
    seed,
    utcOffsetMin: 420,
    scenario: createScenario('normal', { seed, simStart: SIM_START }),
  });
  const node = new MqttTelemetryNode({
    info,
    city: 'test-city',
    sensor,
    link: broker.factory,
    faults: createFaults(opts.faults ?? [], {
      seed,
      simStart: SIM_START,
      deviceId: info.id,
      spikeMetrics: sensor.spikeMetrics,
    }),
    format: opts.format ?? 'json',
    intervalMs: INTERVAL,
    phaseMs: 0,
    simStart: SIM_START,
    simNow: () => now,
    budget: { take: () => true, remaining: () => Number.POSITIVE_INFINITY },
    bufferCapacity: opts.bufferCapacity ?? 1000,
    events: {
      published: (e) => published.push(e),
      acked: () => {},
      status: (e) => statuses.push(e),
      error: () => {},
    },
  });
  await node.start();
  return {
    node,
    broker,
    published,
    statuses,
    async advanceTo(ms) {
      // Step one interval at a time, letting acks and reconnects settle in between, as fleet ticks do.
      node.advance(now);
      await tick();
      while (now < SIM_START + ms) {
        now = Math.min(now + INTERVAL, SIM_START + ms);
        node.advance(now);
        await tick();
      }
      node.advance(now);
      await tick();
    },
    telemetry: () => broker.messages.filter((m) => m.topic.endsWith('/telemetry')),
    statusPayloads: () =>
      broker.messages
        .filter((m) => m.topic.endsWith('/status'))
        .map((m) => JSON.parse(String(m.payload)) as DeviceStatusPayload),
  };
}

/** Pearson correlation. */
export function correlation(a: number[], b: number[]): number {
  const n = a.length;
  const ma = a.reduce((s, x) => s + x, 0) / n;
  const mb = b.reduce((s, x) => s + x, 0) / n;
  let sab = 0;
  let saa = 0;
  let sbb = 0;
  for (let i = 0; i < n; i++) {
    const da = (a[i] as number) - ma;
    const db = (b[i] as number) - mb;
    sab += da * db;
    saa += da * da;
    sbb += db * db;
  }
  return sab / Math.sqrt(saa * sbb);
}

export const mean = (xs: number[]): number => xs.reduce((s, x) => s + x, 0) / xs.length;
