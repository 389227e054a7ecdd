import Fastify from 'fastify';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { registerModbusMetrics } from '../../src/modbus/metrics';
import type { ModbusPoller } from '../../src/modbus/poller.service';
import { registerModbusStatusRoutes } from '../../src/modbus/status.route';
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
import { TcpStation } from './sim/tcp-station';

/**
 * The poller against real Modbus TCP servers on loopback (modbus-serial's ServerTCP), feeding the
 * real pipeline and spool. Station A answers units 1-4 (devices 0-3; device 1 word order CDAB),
 * station B answers device 4 alone, so its connections can be dropped and the whole device can go
 * away without touching the others.
 */
const INTERVAL = 300;
const TIMEOUT = 120;
const MAX_BACKOFF = 600;
const OFFLINE_AFTER = 900;

interface Fixture {
  a: TcpStation;
  b: TcpStation;
  h: PipelineHarness;
  poller: ModbusPoller;
  health(i: number): ReturnType<ModbusPoller['healths']>[number];
}

let fx: Fixture | undefined;

/**
 * `timing`: short by default so that the timeout tests are quick. A test that counts zero timeouts
 * of healthy devices gives the timeout room, since a busy machine that holds the process past it
 * runs the timer before it reads the answer already waiting.
 */
async function start(
  images?: { [unit: number]: RegisterImage },
  timing = { intervalMs: INTERVAL, timeoutMs: TIMEOUT, maxBackoffMs: MAX_BACKOFF, offlineAfterMs: OFFLINE_AFTER },
): Promise<Fixture> {
  const imagesA = new Map([
    [1, images?.[1] ?? new RegisterImage()],
    [2, images?.[2] ?? new RegisterImage(DEFAULT_VALUES, 'CDAB')],
    [3, images?.[3] ?? new RegisterImage({ ...DEFAULT_VALUES, water_level: 0.456, ph: 6.91 })],
    [4, images?.[4] ?? new RegisterImage({ ...DEFAULT_VALUES, do: 0.35, turbidity: 220.25 })],
  ]);
  const a = await TcpStation.start(imagesA);
  const b = await TcpStation.start(new Map([[1, new RegisterImage({ ...DEFAULT_VALUES, conductivity: 1210 })]]));
  const h = await pipelineHarness();
  const config = modbusConfig(h.pack, {
    defaults: {
      ...timing,
      retries: 1,
    },
    buses: [
      { id: 'station-a', transport: 'tcp', host: '127.0.0.1', port: a.port, connectTimeoutMs: 500 },
      { id: 'station-b', transport: 'tcp', host: '127.0.0.1', port: b.port, connectTimeoutMs: 500 },
    ],
    devices: [
      { deviceId: CANAL_DEVICES[0], bus: 'station-a', unitId: 1 },
      { deviceId: CANAL_DEVICES[1], bus: 'station-a', unitId: 2, wordOrder: 'CDAB' },
      { deviceId: CANAL_DEVICES[2], bus: 'station-a', unitId: 3 },
      { deviceId: CANAL_DEVICES[3], bus: 'station-a', unitId: 4 },
      { deviceId: CANAL_DEVICES[4], bus: 'station-b', unitId: 1 },
    ],
  });
  const { poller, health } = await startPoller(h, config);
  fx = { a, b, h, poller, health };
  return fx;
}

afterEach(async () => {
  if (!fx) return;
  await fx.poller.stop();
  await fx.a.stop();
  await fx.b.stop();
  await fx.h.stop();
  fx = undefined;
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** ok-poll counts of `devices` before and after `ms`; each must be within the interval's bounds. */
async function expectOnSchedule(
  f: Fixture,
  devices: number[],
  ms: number,
  during: () => Promise<unknown> = () => sleep(ms),
) {
  const before = devices.map((i) => f.health(i).polls.ok);
  const t0 = Date.now();
  await during();
  const window = Date.now() - t0;
  const { min, max } = expectedPolls(window, INTERVAL);
  devices.forEach((i, k) => {
    const n = f.health(i).polls.ok - (before[k] as number);
    expect(n, `${CANAL_DEVICES[i]}: ${n} polls in ${window} ms, expected ${min}..${max}`).toBeGreaterThanOrEqual(min);
    expect(n).toBeLessThanOrEqual(max);
  });
}

describe('Modbus TCP polling (real ServerTCP on loopback)', () => {
  it('stores and republishes exactly what each device served, through the pipeline', async () => {
    const f = await start();
    await waitFor(() => f.poller.healths().every((x) => x.polls.ok >= 3), 3000, 'three polls of every device');
    const spooled = f.h.spooled();
    const served = {
      [CANAL_DEVICES[0]]: DEFAULT_VALUES,
      [CANAL_DEVICES[1]]: DEFAULT_VALUES, // CDAB on the wire, same values
      [CANAL_DEVICES[2]]: { ...DEFAULT_VALUES, water_level: 0.456, ph: 6.91 },
      [CANAL_DEVICES[3]]: { ...DEFAULT_VALUES, do: 0.35, turbidity: 220.25 },
      [CANAL_DEVICES[4]]: { ...DEFAULT_VALUES, conductivity: 1210 },
    };
    for (const device of CANAL_DEVICES) {
      const mine = spooled.filter((r) => r.device === device);
      expect(mine.length, device).toBeGreaterThanOrEqual(3);
      for (const r of mine) {
        expect(r.values).toEqual(served[device]);
        expect(r).toMatchObject({ v: 1, city: 'chiang-mai', station: device.replace(/-probe$/, ''), kind: 'canal' });
        expect(Number.isInteger(r.ts)).toBe(true);
        expect(r.receivedAt).toBeGreaterThanOrEqual(r.ts);
      }
      // At most one poll per fixed-rate slot: never faster than the interval on average. (How late
      // a poll may be depends on the machine's load; the slot timing itself is tested with fake
      // timers in scheduler.test.ts.)
      const first = mine[0] as { ts: number };
      const meanGap = ((mine.at(-1) as { ts: number }).ts - first.ts) / (mine.length - 1);
      expect(meanGap).toBeGreaterThan(INTERVAL * 0.75);
    }
    // The bus carries the same records (the spool record is the bus payload).
    const republished = f.h.readings();
    expect(republished.length).toBeGreaterThanOrEqual(spooled.length);
    expect(republished.slice(0, spooled.length)).toEqual(spooled.slice(0, republished.length));
    expect(f.h.stats.accepted).toBeGreaterThanOrEqual(15);
    expect(f.h.deadLetters()).toEqual([]);
  });

  it('timeout: the device is retried, backs off, recovers; the others keep their schedule', async () => {
    const f = await start();
    await waitFor(() => f.health(1).polls.ok >= 1, 2000, 'first poll');
    f.a.faults.set(2, { kind: 'timeout' });
    await expectOnSchedule(f, [0, 2, 3, 4], 1800);
    expect(f.health(1).errors.timeout).toBeGreaterThanOrEqual(2);
    expect(f.health(1).consecutiveFailures).toBeGreaterThanOrEqual(2);
    expect(f.health(1).polls.skipped_backoff + f.health(1).polls.skipped_busy).toBeGreaterThanOrEqual(1);
    f.a.faults.delete(2);
    const cleared = Date.now();
    const ok = f.health(1).polls.ok;
    await waitFor(() => f.health(1).polls.ok > ok, 1500, 'recovery after timeouts');
    expect(Date.now() - cleared).toBeLessThan(MAX_BACKOFF + INTERVAL + 300); // one capped backoff + a slot
    expect(f.health(1).consecutiveFailures).toBe(0);
  });

  it('exception responses are counted by code; busy is retried within the poll', async () => {
    const f = await start();
    await waitFor(() => f.health(3).polls.ok >= 1, 2000, 'first poll');
    f.a.faults.set(3, { kind: 'exception', code: 4 }); // server device failure: not retried
    f.a.faults.set(4, { kind: 'exception', code: 6 }); // busy: retried
    await expectOnSchedule(f, [0, 1, 4], 1000);
    const failing = f.health(2);
    expect(failing.errors.exception).toBeGreaterThanOrEqual(2);
    expect(failing.exceptions.get(4)).toBe(failing.errors.exception);
    expect(failing.lastError).toMatchObject({ kind: 'exception', exceptionCode: 4 });
    const busy = f.health(3);
    expect(busy.exceptions.get(6)).toBeGreaterThanOrEqual(2);
    expect(busy.exceptions.get(6)).toBeGreaterThan(busy.polls.failed); // retried within the poll
    expect(failing.exceptions.get(4)).toBeLessThanOrEqual(failing.polls.failed); // not retried
    f.a.faults.clear();
    const ok = [f.health(2).polls.ok, f.health(3).polls.ok];
    await waitFor(
      () => f.health(2).polls.ok > (ok[0] as number) && f.health(3).polls.ok > (ok[1] as number),
      1500,
      'recovery',
    );
  });

  it('dropped TCP connections: in-flight requests fail as connection errors, the poller reconnects', async () => {
    const f = await start();
    await waitFor(() => f.health(4).polls.ok >= 1, 2000, 'first poll');
    f.b.faults.set(1, { kind: 'slow', delayMs: 30 }); // so that drops hit requests in flight
    let dropped = 0;
    await expectOnSchedule(f, [0, 1, 2, 3], 1500, async () => {
      for (let t = 0; t < 1500; t += 45) {
        dropped += f.b.dropConnections();
        await sleep(45);
      }
    });
    expect(dropped).toBeGreaterThan(3);
    expect(f.health(4).errors.connection).toBeGreaterThanOrEqual(1);
    f.b.faults.clear();
    const ok = f.health(4).polls.ok;
    await waitFor(() => f.health(4).polls.ok > ok + 1, 1500, 'polls after the drops');
    expect(f.b.connections).toBe(1); // one per-device connection again
  });

  it('a device that goes away and comes back: offline event, connection errors, online event', async () => {
    const f = await start();
    await waitFor(() => f.health(4).polls.ok >= 1, 2000, 'first poll');
    await f.b.stop();
    const wentAway = Date.now();
    await expectOnSchedule(f, [0, 1, 2, 3], 2000, () =>
      waitFor(() => f.h.events('device-offline').length === 1, 3000, 'device-offline'),
    );
    expect(Date.now() - wentAway).toBeGreaterThanOrEqual(OFFLINE_AFTER - INTERVAL);
    const off = f.h.events('device-offline')[0];
    expect(off).toMatchObject({ event: 'device-offline', device: CANAL_DEVICES[4], transport: 'modbus-tcp' });
    expect(off?.silenceMs).toBeGreaterThanOrEqual(OFFLINE_AFTER);
    expect(f.health(4).errors.connection).toBeGreaterThanOrEqual(1);
    expect(f.health(4).state).toBe('offline');
    await sleep(500);
    await f.b.restart();
    const back = Date.now();
    await waitFor(() => f.h.events('device-online').length === 1, 1500, 'device-online');
    expect(Date.now() - back).toBeLessThan(MAX_BACKOFF + INTERVAL + 400);
    expect(f.health(4).state).toBe('online');
    expect(f.h.events('device-offline')).toHaveLength(1);
  });

  it('NaN and impossible values are dead-lettered with a reason, not stored', async () => {
    const f = await start({
      1: new RegisterImage({ ...DEFAULT_VALUES, do: Number.NaN }),
      3: new RegisterImage({ ...DEFAULT_VALUES, water_level: 25 }), // hard limit 20 m
    });
    await waitFor(() => f.health(0).polls.rejected >= 2 && f.health(2).polls.rejected >= 2, 2000, 'rejections');
    const dl = f.h.deadLetters();
    const nan = dl.find((d) => d.busTopic === `cnx/v1/chiang-mai/deadletter/${CANAL_DEVICES[0]}`);
    // The dead letter's `topic` names where the reading came from: the bus and unit id.
    expect(nan).toMatchObject({ reason: 'impossible_value', topic: 'modbus-tcp://station-a/1' });
    expect(nan?.message).toMatch(/do=NaN/);
    expect(JSON.parse(nan?.payload ?? '{}').values.do).toBe('NaN');
    const high = dl.find((d) => d.busTopic.endsWith(CANAL_DEVICES[2]));
    expect(high).toMatchObject({ reason: 'impossible_value' });
    expect(high?.message).toMatch(/water_level=25/);
    expect(f.h.spooled().filter((r) => r.device === CANAL_DEVICES[0] || r.device === CANAL_DEVICES[2])).toEqual([]);
    expect(f.health(0).errors.decode).toBe(f.health(0).polls.rejected);
    expect(f.health(0).state).toBe('online'); // it answers; its data is bad
    expect(f.h.stats.rejected.get('impossible_value')).toBeGreaterThanOrEqual(4);
  });

  it('status bits show in health and metrics; GET /modbus/status reports every device', async () => {
    const f = await start(
      { 1: new RegisterImage(DEFAULT_VALUES, undefined, undefined, { low_battery: true, service_due: true }) },
      { intervalMs: 1000, timeoutMs: 450, maxBackoffMs: 2000, offlineAfterMs: 3000 },
    );
    const registry = new Registry();
    registerModbusMetrics(registry, f.poller);
    await waitFor(() => f.poller.healths().every((x) => x.polls.ok >= 2), 10_000, 'polls');
    expect(f.health(0).status).toMatchObject({ raw: 0b1010, active: ['low_battery', 'service_due'] });

    const text = await registry.metrics();
    const d0 = CANAL_DEVICES[0];
    expect(text).toMatch(new RegExp(`gateway_modbus_polls_total\\{device="${d0}",result="ok"\\} [1-9]`));
    expect(text).toContain(`gateway_modbus_device_up{device="${d0}"} 1`);
    expect(text).toContain(`gateway_modbus_status_bit{device="${d0}",bit="low_battery"} 1`);
    expect(text).toContain(`gateway_modbus_status_bit{device="${d0}",bit="probe_fault"} 0`);
    expect(text).toContain(`gateway_modbus_errors_total{device="${d0}",kind="timeout"} 0`);
    expect(text).toMatch(new RegExp(`gateway_modbus_rtt_seconds_count\\{device="${d0}"\\} [1-9]`));
    expect(text).toContain('gateway_modbus_bus_connected{bus="station-a"} 1');

    const app = Fastify();
    registerModbusStatusRoutes(app, f.poller);
    const res = await app.inject({ method: 'GET', url: '/modbus/status' });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.buses).toEqual([
      { id: 'station-a', transport: 'tcp', connected: true, queueDepth: expect.any(Number), devices: 4 },
      { id: 'station-b', transport: 'tcp', connected: true, queueDepth: expect.any(Number), devices: 1 },
    ]);
    expect(body.devices).toHaveLength(5);
    expect(body.devices[0]).toMatchObject({
      device: d0,
      station: 'cm-canal-changphueak',
      bus: 'station-a',
      unitId: 1,
      registerMap: 'cnx-canal-probe-v1',
      state: 'online',
      up: true,
      consecutiveFailures: 0,
      errors: { timeout: 0, exception: 0, crc: 0, frame: 0, connection: 0, decode: 0 },
      status: { raw: 10, active: ['low_battery', 'service_due'] },
    });
    expect(body.devices[0].lastRttMs).toBeGreaterThan(0);
    expect(Date.parse(body.devices[0].lastSuccessAt)).toBeGreaterThan(Date.now() - 5000);
    const one = await app.inject({ method: 'GET', url: `/modbus/status/${CANAL_DEVICES[4]}` });
    expect(one.json()).toMatchObject({ device: CANAL_DEVICES[4], unitId: 1 });
    expect((await app.inject({ method: 'GET', url: '/modbus/status/nope' })).statusCode).toBe(404);
    await app.close();
  });
});
