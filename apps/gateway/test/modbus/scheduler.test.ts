import { loadRegisterMap } from '@cnx/device-models';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ModbusDeviceConfig } from '../../src/modbus/config';
import { ModbusRequestError } from '../../src/modbus/errors';
import { ModbusPoller, type PolledIngest } from '../../src/modbus/poller.service';
import { SerialQueue } from '../../src/modbus/queue';
import { PollSchedule, spreadPhase } from '../../src/modbus/scheduler';
import type { ModbusBus, ReadRequest, ReadResponse } from '../../src/modbus/transport';
import { CANAL_DEVICES, type Published, quietLogger } from './helpers';
import { RegisterImage } from './sim/register-image';
import type { Fault } from './sim/tcp-station';

describe('PollSchedule', () => {
  const opts = { intervalMs: 1000, phaseMs: 250, backoffBaseMs: 1000, backoffMaxMs: 8000 };

  it('has fixed-rate slots from start + phase', () => {
    const s = new PollSchedule(opts, 10_000);
    expect(s.slotAtOrAfter(0)).toBe(10_250);
    expect(s.slotAtOrAfter(10_250)).toBe(10_250);
    expect(s.slotAtOrAfter(10_251)).toBe(11_250);
    // A poll that ran long does not move the next slot; a timer that fired very late skips ahead.
    expect(s.nextSlot(10_250, 10_900)).toBe(11_250);
    expect(s.nextSlot(10_250, 13_100)).toBe(13_250);
  });

  it('backs off exponentially from the interval, capped, and resets on success', () => {
    const s = new PollSchedule(opts, 0);
    expect([1, 2, 3, 4, 5, 6].map((f) => s.backoffDelay(f))).toEqual([1000, 2000, 4000, 8000, 8000, 8000]);
    expect(s.recordFailure(1000)).toBe(2000);
    expect(s.decide(2000, false)).toBe('poll'); // first failure: the next slot as usual
    expect(s.recordFailure(2000)).toBe(4000);
    expect(s.decide(3000, false)).toBe('skipped_backoff');
    expect(s.decide(4000, false)).toBe('poll');
    expect(s.decide(4000, true)).toBe('skipped_busy');
    s.recordSuccess();
    expect(s.consecutiveFailures).toBe(0);
    expect(s.decide(5000, false)).toBe('poll');
  });

  it('spreads the devices of a bus over the interval', () => {
    expect([0, 1, 2, 3].map((i) => spreadPhase(i, 4, 1000))).toEqual([0, 250, 500, 750]);
    expect(spreadPhase(0, 1, 1000)).toBe(0);
  });
});

describe('SerialQueue', () => {
  it('runs jobs strictly one after another, failures included', async () => {
    const q = new SerialQueue();
    const log: string[] = [];
    const job =
      (name: string, fail = false) =>
      async () => {
        log.push(`start ${name}`);
        await new Promise((r) => setTimeout(r, 5));
        log.push(`end ${name}`);
        if (fail) throw new Error(name);
        return name;
      };
    const results = await Promise.allSettled([q.run(job('a')), q.run(job('b', true)), q.run(job('c'))]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(log).toEqual(['start a', 'end a', 'start b', 'end b', 'start c', 'end c']);
    expect(q.depth).toBe(0);
  });
});

/**
 * An in-memory RTU-like bus for scheduling tests: one queue (strictly sequential), a dead device
 * costs its timeout of bus time, answers take `latencyMs`. Driven by fake timers.
 */
class FakeBus implements ModbusBus {
  readonly transport = 'rtu' as const;
  readonly connected = true;
  readonly faults = new Map<number, Fault>();
  readonly requests: { unitId: number; at: number }[] = [];
  private readonly queue = new SerialQueue();
  private active = 0;
  maxActive = 0;

  constructor(
    readonly id: string,
    readonly image: RegisterImage,
    readonly latencyMs = 20,
  ) {}

  get queueDepth(): number {
    return this.queue.depth;
  }
  async start(): Promise<void> {}
  async stop(): Promise<void> {}

  read(_client: string, req: ReadRequest): Promise<ReadResponse> {
    return this.queue.run(async () => {
      this.active++;
      this.maxActive = Math.max(this.maxActive, this.active);
      try {
        const sentAt = Date.now();
        this.requests.push({ unitId: req.unitId, at: sentAt });
        const fault = this.faults.get(req.unitId) ?? { kind: 'none' };
        const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));
        if (fault.kind === 'timeout') {
          await wait(req.timeoutMs);
          throw new ModbusRequestError('timeout', 'no answer within the timeout');
        }
        await wait(this.latencyMs + (fault.kind === 'slow' ? fault.delayMs : 0));
        if (fault.kind === 'exception') throw new ModbusRequestError('exception', 'exception', fault.code, 20);
        return { words: this.image.read(req.fn, req.address, req.length), sentAt, rttMs: Date.now() - sentAt };
      } finally {
        this.active--;
      }
    });
  }

  count(unitId: number): number {
    return this.requests.filter((r) => r.unitId === unitId).length;
  }
}

const MAP = loadRegisterMap('cnx-canal-probe-v1');

function device(i: number, o: Partial<ModbusDeviceConfig> = {}): ModbusDeviceConfig {
  const deviceId = CANAL_DEVICES[i] as string;
  return {
    deviceId,
    stationId: deviceId.replace(/-probe$/, ''),
    bus: 'fake',
    unitId: i + 1,
    intervalMs: 1000,
    registerMap: MAP.id,
    timeoutMs: 300,
    retries: 1,
    maxBackoffMs: 8000,
    offlineAfterMs: 3000,
    diagnostics: false,
    maxGap: 0,
    map: MAP,
    ...o,
  };
}

function setup(devices: ModbusDeviceConfig[]) {
  const bus = new FakeBus('fake', new RegisterImage());
  const ingested: { deviceId: string; ts: number; values: Record<string, number | undefined> }[] = [];
  const ingest: PolledIngest = {
    step: {
      decoded(deviceId, reading) {
        ingested.push({ deviceId, ts: reading.ts, values: { ...reading.values } });
        return { ok: true, value: { readings: [], records: [], history: false } };
      },
    },
    sink: { full: false, commit: () => true },
    deadLetters: { publish: () => undefined },
  };
  const published: Published[] = [];
  const poller = new ModbusPoller({
    config: { buses: [{ id: 'fake', transport: 'rtu' } as never], devices },
    city: 'chiang-mai',
    ingest,
    bus: { publish: (topic, payload) => void published.push({ topic, payload }) },
    logger: quietLogger(),
    buses: new Map([['fake', bus]]),
    busyRetryDelayMs: 50,
  });
  const health = (i: number) => poller.healths().find((h) => h.deviceId === CANAL_DEVICES[i])!;
  /** stop() waits for polls in flight; their fake-bus timers need the clock to move. */
  const stop = async () => {
    const p = poller.stop();
    await vi.advanceTimersByTimeAsync(10_000);
    await p;
  };
  const events = (kind: string) =>
    published.filter((p) => p.topic === `cnx/v1/chiang-mai/events/${kind}`).map((p) => JSON.parse(p.payload));
  return { bus, poller, ingested, published, health, events, stop };
}

describe('ModbusPoller scheduling (fake timers)', () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] });
    vi.setSystemTime(new Date('2025-03-01T00:00:00Z'));
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('polls each device on its own interval', async () => {
    const { poller, health, ingested, stop } = setup([
      device(0, { intervalMs: 1000 }),
      device(1, { intervalMs: 2500 }),
      device(2, { intervalMs: 5000 }),
    ]);
    await poller.start();
    await vi.advanceTimersByTimeAsync(60_000);
    await stop();
    // Slots at phase + k * interval within [0, 60 s]: 61, 24 or 25, 12 or 13.
    expect(health(0).polls.ok).toBe(61);
    expect(health(1).polls.ok).toBeGreaterThanOrEqual(24);
    expect(health(1).polls.ok).toBeLessThanOrEqual(25);
    expect(health(2).polls.ok).toBeGreaterThanOrEqual(12);
    expect(health(2).polls.ok).toBeLessThanOrEqual(13);
    expect(ingested[0]?.values).toMatchObject({ water_level: 1.234, do: 6.8, ph: 7.2 });
    // ts = poll time, whole milliseconds
    expect(ingested.every((r) => Number.isInteger(r.ts))).toBe(true);
  });

  it('a dead device on a shared bus backs off and skips its turns; the others keep their schedule', async () => {
    const { bus, poller, health, stop } = setup([device(0), device(1), device(2), device(3)]);
    bus.faults.set(1, { kind: 'timeout' });
    await poller.start();
    await vi.advanceTimersByTimeAsync(60_000);
    await stop();
    // Attempts at slots 0, 1, 3, 7, 15 s, then every 8 s (the cap): 23, 31, 39, 47, 55.
    expect(health(0).polls.failed).toBe(10);
    expect(health(0).errors.timeout).toBe(20); // 2 attempts (retries: 1) per failed poll
    expect(health(0).polls.skipped_backoff).toBe(51);
    expect(health(0).consecutiveFailures).toBe(10);
    for (const i of [1, 2, 3]) {
      expect(health(i).polls.ok, CANAL_DEVICES[i]).toBe(60);
      expect(health(i).polls.failed).toBe(0);
    }
    expect(bus.maxActive).toBe(1); // strictly sequential
  });

  it('publishes device-offline after the silence and device-online when it answers again', async () => {
    const { bus, poller, health, events, stop } = setup([device(0, { maxBackoffMs: 2000 }), device(1)]);
    bus.faults.set(1, { kind: 'timeout' });
    await poller.start();
    await vi.advanceTimersByTimeAsync(2900);
    expect(events('device-offline')).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(200);
    expect(events('device-offline')).toHaveLength(1);
    expect(events('device-offline')[0]).toMatchObject({
      v: 1,
      event: 'device-offline',
      city: 'chiang-mai',
      device: CANAL_DEVICES[0],
      station: 'cm-canal-changphueak',
      transport: 'modbus-rtu',
      lastSuccessAt: null,
      lastError: { kind: 'timeout' },
    });
    expect(health(0).state).toBe('offline');
    await vi.advanceTimersByTimeAsync(10_000);
    expect(events('device-offline')).toHaveLength(1); // once per outage
    bus.faults.delete(1);
    await vi.advanceTimersByTimeAsync(2100); // within one (capped) backoff
    expect(events('device-online')).toHaveLength(1);
    expect(events('device-online')[0]).toMatchObject({ event: 'device-online', device: CANAL_DEVICES[0] });
    expect(health(0).state).toBe('online');
    expect(health(0).consecutiveFailures).toBe(0);
    expect(health(1).state).toBe('online');
    expect(events('device-offline').map((e) => e.device)).toEqual([CANAL_DEVICES[0]]);
    await stop();
  });

  it('skips a slot while the previous poll of the device is still running', async () => {
    const { bus, poller, health, stop } = setup([device(0, { timeoutMs: 5000 })]);
    bus.faults.set(1, { kind: 'slow', delayMs: 1500 });
    await poller.start();
    await vi.advanceTimersByTimeAsync(10_000);
    await stop();
    expect(health(0).polls.ok).toBeGreaterThanOrEqual(4);
    expect(health(0).polls.skipped_busy).toBeGreaterThanOrEqual(4);
    expect(bus.maxActive).toBe(1);
  });

  it('retries a busy device within the poll, and does not retry an illegal-address exception', async () => {
    const { bus, poller, health, stop } = setup([device(0), device(1)]);
    bus.faults.set(1, { kind: 'exception', code: 6 });
    bus.faults.set(2, { kind: 'exception', code: 2 });
    await poller.start();
    await vi.advanceTimersByTimeAsync(30);
    bus.faults.delete(1); // busy only for the first attempt
    await vi.advanceTimersByTimeAsync(5000);
    await stop();
    expect(health(0).errors.exception).toBe(1);
    expect(health(0).exceptions.get(6)).toBe(1);
    expect(health(0).polls.failed).toBe(0);
    expect(health(0).polls.ok).toBeGreaterThanOrEqual(5);
    // Exception 2: the request is wrong; one attempt per poll, then backoff.
    expect(health(1).polls.failed).toBeGreaterThanOrEqual(2);
    expect(health(1).requests).toBe(health(1).polls.failed);
    expect(health(1).lastError).toMatchObject({ kind: 'exception', exceptionCode: 2 });
  });

  it('stop() clears every timer', async () => {
    const { bus, poller, stop } = setup([device(0), device(1)]);
    await poller.start();
    await vi.advanceTimersByTimeAsync(2500);
    await stop();
    const n = bus.requests.length;
    await vi.advanceTimersByTimeAsync(10_000);
    expect(bus.requests.length).toBe(n);
    expect(vi.getTimerCount()).toBe(0);
  });
});
