import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type CanalFaultSpec, type CanalFleet, canalStationsFromPack, createCanalFleet } from '@cnx/firmware-sim';
import { freePort, requireBinary } from '@cnx/testkit';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ModbusPoller } from '../../src/modbus/poller.service';
import {
  CANAL_DEVICES,
  expectedPolls,
  modbusConfig,
  type PipelineHarness,
  pipelineHarness,
  startPoller,
  waitFor,
} from './helpers';

/**
 * The gateway's poller against the project's canal simulator (@cnx/firmware-sim): the Chiang Mai
 * canal stations, devices 0-2 over Modbus TCP (one port each) and devices 3-4 on one shared RS-485
 * bus (socat pty pair, 9600 baud line speed emulated), faults scripted in the simulator.
 */
const TCP_INTERVAL = 300;
const RTU_INTERVAL = 500;
const TIMEOUT = 120;
const MAX_BACKOFF = 600;

interface Fixture {
  fleet: CanalFleet;
  h: PipelineHarness;
  poller: ModbusPoller;
  dir: string;
  /** Simulated start = real start: fault windows are relative to it. */
  simStart: number;
  health(i: number): ReturnType<ModbusPoller['healths']>[number];
}
let fx: Fixture | undefined;

/** n consecutive free ports (the fleet listens on basePort + i). */
async function freeBasePort(n: number): Promise<number> {
  const listen = (port: number) =>
    new Promise<boolean>((resolve) => {
      const s = createServer();
      s.once('error', () => resolve(false));
      s.listen({ host: '127.0.0.1', port, exclusive: true }, () => s.close(() => resolve(true)));
    });
  for (let attempt = 0; attempt < 20; attempt++) {
    const base = await freePort();
    let ok = base + n < 65_536;
    for (let i = 1; ok && i < n; i++) ok = await listen(base + i);
    if (ok) return base;
  }
  throw new Error(`no ${n} consecutive free ports`);
}

async function start(faults: CanalFaultSpec[] = []): Promise<Fixture> {
  const h = await pipelineHarness();
  const dir = mkdtempSync(path.join(tmpdir(), 'cnx-canal-sim-'));
  const tcpBase = await freeBasePort(CANAL_DEVICES.length);
  const simStart = Date.now();
  const fleet = createCanalFleet({
    simStart,
    city: 'chiang-mai',
    stations: canalStationsFromPack(h.pack, { devices: [...CANAL_DEVICES] }),
    now: () => Date.now(), // simulated time = real time, so served values can be looked up by poll time
    tcp: { basePort: tcpBase },
    rtu: { dir, baudRate: 9600, emulateLineSpeed: true },
    wordOrders: { [CANAL_DEVICES[1]]: 'CDAB', [CANAL_DEVICES[4]]: 'BADC' },
    faults,
  });
  await fleet.start();
  const ep = fleet.endpoints;
  const tcp = [0, 1, 2].map((i) => ep[i]!);
  const rtu = ep[3]!.rtu!;
  const config = modbusConfig(h.pack, {
    defaults: { timeoutMs: TIMEOUT, retries: 1, maxBackoffMs: MAX_BACKOFF, offlineAfterIntervals: 3 },
    buses: [
      ...tcp.map((e, i) => ({ id: `tcp-${i}`, transport: 'tcp', host: e.tcp!.host, port: e.tcp!.port })),
      { id: 'rs485', transport: 'rtu', path: rtu.path, baudRate: rtu.baudRate, parity: rtu.parity },
    ],
    devices: [
      ...tcp.map((e, i) => ({
        deviceId: e.deviceId,
        bus: `tcp-${i}`,
        unitId: e.unitId,
        wordOrder: e.wordOrder,
        intervalMs: TCP_INTERVAL,
      })),
      ...[3, 4].map((i) => ({
        deviceId: ep[i]!.deviceId,
        bus: 'rs485',
        unitId: ep[i]!.unitId,
        wordOrder: ep[i]!.wordOrder,
        intervalMs: RTU_INTERVAL,
      })),
    ],
  });
  const { poller, health } = await startPoller(h, config);
  fx = { fleet, h, poller, dir, simStart, health };
  return fx;
}

afterEach(async () => {
  if (!fx) return;
  await fx.poller.stop();
  await fx.fleet.stop();
  await fx.h.stop();
  rmSync(fx.dir, { recursive: true, force: true });
  fx = undefined;
});

const f32 = (v: number | undefined) => (v === undefined ? v : Math.fround(v));

/** The first accepted reading of `device` after `t` (epoch ms), or undefined. */
const firstAfter = (f: Fixture, device: string, t: number) =>
  f.h.spooled().find((r) => r.device === device && r.ts >= t);

describe('Modbus polling of the canal simulator (@cnx/firmware-sim)', () => {
  // socat makes the virtual serial line: without it the suite fails, naming the package.
  beforeAll(() => {
    requireBinary('socat', 'socat');
  });
  it('stores what each simulated station served, over TCP and over RTU', async () => {
    const f = await start();
    await waitFor(() => f.poller.healths().every((x) => x.polls.ok >= 3), 6000, 'three polls of every device');
    const spooled = f.h.spooled();
    for (const device of CANAL_DEVICES) {
      const station = f.fleet.station(device);
      const mine = spooled.filter((r) => r.device === device);
      expect(mine.length, device).toBeGreaterThanOrEqual(3);
      for (const r of mine) {
        // The station computed the answer a few ms after the poll started: look at both instants.
        const candidates = [station.valuesAt(r.ts), station.valuesAt(r.ts + 250)];
        const match = candidates.some((served) =>
          Object.entries(r.values).every(([metric, v]) => f32(v) === f32(served[metric])),
        );
        expect(match, `${device} ${JSON.stringify(r.values)} vs ${JSON.stringify(candidates[0])}`).toBe(true);
        expect(Object.keys(r.values).sort()).toEqual(
          ['battery', 'conductivity', 'do', 'ph', 'turbidity', 'water_level', 'water_temperature'].sort(),
        );
      }
    }
    // Third-party view of the same line: the simulator saw every request it answered as a normal read.
    const stats = f.fleet.stats();
    for (const s of stats) expect(s.answered, s.deviceId).toBeGreaterThanOrEqual(3);
    expect(stats.slice(0, 3).every((s) => s.tcp > 0 && s.rtu === 0)).toBe(true);
    expect(stats.slice(3).every((s) => s.rtu > 0 && s.tcp === 0)).toBe(true);
    expect(f.h.deadLetters()).toEqual([]);
  });

  it('recovers from every fault the simulator scripts, and the healthy devices keep their schedule', async () => {
    const f = await start([
      { device: CANAL_DEVICES[0], mode: 'timeout', after: 600, for: 1200 },
      { device: CANAL_DEVICES[1], mode: 'drop-connection', after: 600, for: 1200 },
      { device: CANAL_DEVICES[2], mode: 'offline', after: 600, for: 1500 },
      { device: CANAL_DEVICES[3], mode: 'bad-crc', after: 600, for: 1200 },
    ]);
    const healthyBefore = f.health(4).polls.ok;
    const w0 = Date.now();
    await new Promise((r) => setTimeout(r, 2800));
    const window = Date.now() - w0;
    // The RTU neighbour of the CRC-failing probe kept its slots.
    const { min, max } = expectedPolls(window, RTU_INTERVAL);
    const n = f.health(4).polls.ok - healthyBefore;
    expect(n, `${n} polls in ${window} ms`).toBeGreaterThanOrEqual(min);
    expect(n).toBeLessThanOrEqual(max);

    await waitFor(
      () => [0, 1, 2, 3].every((i) => f.health(i).consecutiveFailures === 0 && f.health(i).polls.ok > 2),
      3000,
      'every faulted device polled successfully again',
    );
    expect(f.health(0).errors.timeout).toBeGreaterThanOrEqual(2);
    expect(f.health(1).errors.connection).toBeGreaterThanOrEqual(2);
    expect(f.health(2).errors.connection).toBeGreaterThanOrEqual(1);
    expect(f.health(3).errors.crc).toBeGreaterThanOrEqual(2);
    // The station that went away was declared offline once, then online.
    expect(f.h.events('device-offline').map((e) => e.device)).toContain(CANAL_DEVICES[2]);
    expect(f.h.events('device-online').map((e) => e.device)).toContain(CANAL_DEVICES[2]);

    // Recovery: fault window end -> first stored reading.
    const windows: [label: string, device: number, endMs: number, interval: number][] = [
      ['timeout (tcp)', 0, 1800, TCP_INTERVAL],
      ['drop-connection (tcp)', 1, 1800, TCP_INTERVAL],
      ['offline 1.5 s (tcp)', 2, 2100, TCP_INTERVAL],
      ['bad-crc (rtu)', 3, 1800, RTU_INTERVAL],
    ];
    for (const [label, i, end, interval] of windows) {
      const r = firstAfter(f, CANAL_DEVICES[i] as string, f.simStart + end);
      expect(r, label).toBeDefined();
      const recoveryMs = (r?.ts ?? 0) - (f.simStart + end);
      expect(recoveryMs, label).toBeLessThanOrEqual(MAX_BACKOFF + interval + 300);
    }
  });

  it('a probe fault (NaN floats) is dead-lettered; busy answers are retried', async () => {
    const f = await start([
      { device: CANAL_DEVICES[3], mode: 'probe-fault', after: 0, for: 'inf' },
      { device: CANAL_DEVICES[4], mode: 'busy', p: 0.5 },
    ]);
    await waitFor(
      () => f.health(3).polls.rejected >= 2 && f.health(4).polls.ok >= 3 && f.health(4).exceptions.has(6),
      10_000,
      'rejections, busy answers and polls',
    );
    const dl = f.h.deadLetters().filter((d) => d.busTopic.endsWith(CANAL_DEVICES[3]));
    expect(dl.length).toBeGreaterThanOrEqual(2);
    expect(dl[0]).toMatchObject({ reason: 'impossible_value', topic: 'modbus-rtu://rs485/4' });
    expect(dl[0]?.message).toMatch(/do=NaN/);
    // The status register says why: the probe_fault bit.
    expect(f.health(3).status?.active).toContain('probe_fault');
    // Busy on half the requests: with one retry most polls still succeed.
    expect(f.health(4).exceptions.get(6)).toBeGreaterThanOrEqual(1);
    expect(f.health(4).polls.ok).toBeGreaterThanOrEqual(3);
  });
});
