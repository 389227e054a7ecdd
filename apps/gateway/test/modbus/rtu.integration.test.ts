import { existsSync, rmSync } from 'node:fs';
import path from 'node:path';
import { requireBinary } from '@cnx/testkit';
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
import { DEFAULT_VALUES, RegisterImage } from './sim/register-image';
import { RtuSlave } from './sim/rtu-slave';
import { type PtyPair, startPtyPair } from './sim/socat';

/**
 * The poller as an RTU master on one end of a socat pty pair, three canal probes (unit ids 1-3) on
 * the other end sharing the "RS-485 line", feeding the real pipeline and spool.
 */
const INTERVAL = 400;
const TIMEOUT = 120;
const MAX_BACKOFF = 800;

interface Fixture {
  pty: PtyPair;
  slave: RtuSlave;
  h: PipelineHarness;
  poller: ModbusPoller;
  health(i: number): ReturnType<ModbusPoller['healths']>[number];
}

let fx: Fixture | undefined;

const images = () =>
  new Map([
    [1, new RegisterImage()],
    [2, new RegisterImage({ ...DEFAULT_VALUES, water_level: 2.5, do: 4.25 }, 'DCBA')],
    [3, new RegisterImage({ ...DEFAULT_VALUES, ph: 8.05, turbidity: 0.5 })],
  ]);

async function start(): Promise<Fixture> {
  const pty = await startPtyPair();
  const slave = new RtuSlave(pty.b, images());
  await slave.start();
  const h = await pipelineHarness();
  const config = modbusConfig(h.pack, {
    defaults: {
      intervalMs: INTERVAL,
      timeoutMs: TIMEOUT,
      retries: 1,
      maxBackoffMs: MAX_BACKOFF,
      offlineAfterMs: 3 * INTERVAL,
    },
    buses: [{ id: 'rs485', transport: 'rtu', path: pty.a, baudRate: 9600, reopenDelayMs: 200 }],
    devices: [
      { deviceId: CANAL_DEVICES[0], bus: 'rs485', unitId: 1 },
      { deviceId: CANAL_DEVICES[1], bus: 'rs485', unitId: 2, wordOrder: 'DCBA' },
      { deviceId: CANAL_DEVICES[2], bus: 'rs485', unitId: 3 },
    ],
  });
  const { poller, health } = await startPoller(h, config);
  fx = { pty, slave, h, poller, health };
  return fx;
}

afterEach(async () => {
  if (!fx) return;
  await fx.poller.stop();
  await fx.slave.stop();
  await fx.pty.stop();
  await fx.h.stop();
  fx = undefined;
});

const totalTimeouts = (f: Fixture) => f.poller.healths().reduce((n, x) => n + x.errors.timeout, 0);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function expectOnSchedule(f: Fixture, devices: number[], ms: number) {
  const before = devices.map((i) => f.health(i).polls.ok);
  const t0 = Date.now();
  await sleep(ms);
  const window = Date.now() - t0;
  const { min, max } = expectedPolls(window, INTERVAL);
  devices.forEach((i, k) => {
    const n = f.health(i).polls.ok - (before[k] as number);
    expect(n, `${CANAL_DEVICES[i]}: ${n} polls in ${window} ms, expected ${min}..${max}`).toBeGreaterThanOrEqual(min);
    expect(n).toBeLessThanOrEqual(max);
  });
}

describe('Modbus RTU polling through a socat pty pair', () => {
  // socat makes the virtual serial line: without it the suite fails, naming the package.
  beforeAll(() => {
    requireBinary('socat', 'socat');
  });
  it('stores exactly what the slaves served; requests on the line never overlap', async () => {
    const f = await start();
    f.slave.faults.set(3, { kind: 'slow', delayMs: 40 }); // an answer still pending when others are due
    await waitFor(() => f.poller.healths().every((x) => x.polls.ok >= 3), 4000, 'three polls of every device');
    const spooled = f.h.spooled();
    const served = [
      DEFAULT_VALUES,
      { ...DEFAULT_VALUES, water_level: 2.5, do: 4.25 },
      { ...DEFAULT_VALUES, ph: 8.05, turbidity: 0.5 },
    ];
    served.forEach((values, i) => {
      const mine = spooled.filter((r) => r.device === CANAL_DEVICES[i]);
      expect(mine.length).toBeGreaterThanOrEqual(3);
      for (const r of mine) {
        expect(r.values).toEqual(values);
        expect(Number.isInteger(r.ts)).toBe(true);
      }
    });
    // The master never talks while an answer is due, except after giving up on it (a timeout).
    expect(f.slave.overlaps).toBeLessThanOrEqual(totalTimeouts(f));
    expect(f.h.deadLetters()).toEqual([]);
  });

  it('timeout: one silent probe costs its timeouts, the other probes keep their schedule', async () => {
    const f = await start();
    await waitFor(() => f.health(1).polls.ok >= 1, 2000, 'first poll');
    f.slave.faults.set(2, { kind: 'timeout' });
    await expectOnSchedule(f, [0, 2], 2000);
    expect(f.health(1).errors.timeout).toBeGreaterThanOrEqual(2);
    expect(f.health(1).polls.skipped_backoff + f.health(1).polls.skipped_busy).toBeGreaterThanOrEqual(1);
    f.slave.faults.delete(2);
    const ok = f.health(1).polls.ok;
    await waitFor(() => f.health(1).polls.ok > ok, 2000, 'recovery');
    expect(f.slave.overlaps).toBeLessThanOrEqual(totalTimeouts(f));
  });

  it('bad CRC: counted as crc, retried, recovered', async () => {
    const f = await start();
    await waitFor(() => f.health(1).polls.ok >= 1, 2000, 'first poll');
    f.slave.faults.set(2, { kind: 'crc' });
    await expectOnSchedule(f, [0, 2], 1500);
    expect(f.health(1).errors.crc).toBeGreaterThanOrEqual(2);
    expect(f.health(1).lastError?.kind).toBe('crc');
    // A bad frame is reported at once, not as a timeout.
    expect(f.health(1).errors.timeout).toBeLessThan(f.health(1).errors.crc);
    f.slave.faults.delete(2);
    const ok = f.health(1).polls.ok;
    await waitFor(() => f.health(1).polls.ok > ok, 1500, 'recovery');
    // The values after recovery are still right (no stale bytes were taken for an answer).
    const last = f.h
      .spooled()
      .filter((r) => r.device === CANAL_DEVICES[1])
      .at(-1);
    expect(last?.values).toMatchObject({ water_level: 2.5, do: 4.25 });
  });

  it('exception and busy answers are counted by code; the others keep their schedule', async () => {
    const f = await start();
    await waitFor(() => f.health(0).polls.ok >= 1, 2000, 'first poll');
    f.slave.faults.set(1, { kind: 'exception', code: 6 });
    f.slave.faults.set(3, { kind: 'exception', code: 2 });
    await expectOnSchedule(f, [1], 1500);
    expect(f.health(0).exceptions.get(6)).toBeGreaterThanOrEqual(2);
    expect(f.health(2).exceptions.get(2)).toBeGreaterThanOrEqual(1);
    // Exception 2 is not retried: at most one per failed poll.
    expect(f.health(2).exceptions.get(2)).toBeLessThanOrEqual(f.health(2).polls.failed);
    // Busy is: more busy answers than failed polls.
    expect(f.health(0).exceptions.get(6)).toBeGreaterThan(f.health(0).polls.failed);
    f.slave.faults.clear();
    const ok = [f.health(0).polls.ok, f.health(2).polls.ok];
    await waitFor(
      () => f.health(0).polls.ok > (ok[0] as number) && f.health(2).polls.ok > (ok[1] as number),
      2000,
      'recovery',
    );
  });

  it('the serial line disappears and comes back: connection errors, then the port is reopened', async () => {
    const f = await start();
    await waitFor(() => f.poller.healths().every((x) => x.polls.ok >= 1), 2000, 'first polls');
    await f.slave.stop();
    await f.pty.kill(); // the USB-RS485 adapter is unplugged
    for (const end of ['a', 'b']) rmSync(path.join(f.pty.dir, end), { force: true });
    await waitFor(() => f.poller.healths().every((x) => x.errors.connection >= 1), 2000, 'connection errors');
    // Counted from here: a request sent before the unplug may have timed out (the bus takes one
    // request at a time, so none is in flight any more once every device has failed to connect).
    const timeouts = totalTimeouts(f);
    const failed = f.poller.healths().map((x) => x.errors.connection);
    await waitFor(
      () => f.poller.healths().every((x, i) => x.errors.connection >= (failed[i] as number) + 1),
      5000,
      'more connection errors',
    );
    // Without a port, requests fail at once: no timeout is spent on a line that is not there.
    expect(totalTimeouts(f)).toBe(timeouts);
    // Plugged in again: a new pty pair at the same paths, the slaves answer again.
    const pty = await startPtyPair(f.pty.dir);
    expect(existsSync(pty.a)).toBe(true);
    const slave = new RtuSlave(pty.b, images());
    await slave.start();
    f.pty = pty;
    f.slave = slave;
    const ok = f.poller.healths().map((x) => x.polls.ok);
    const back = Date.now();
    await waitFor(
      () => f.poller.healths().every((x, i) => x.polls.ok > (ok[i] as number)),
      3000,
      'polls after the port came back',
    );
    expect(Date.now() - back).toBeLessThan(MAX_BACKOFF + INTERVAL + 500);
    expect(f.poller.status().buses[0]).toMatchObject({ id: 'rs485', transport: 'rtu', connected: true });
  });
});
