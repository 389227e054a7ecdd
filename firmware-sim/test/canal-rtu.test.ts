/**
 * Canal stations as Modbus RTU slaves on a virtual RS-485 bus (a socat pty pair): mbpoll and
 * modbus-serial's RTU client on the master end, two stations at unit ids 1 and 2 on the same bus.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeBlock, planReads } from '@cnx/device-models';
import ModbusRTU from 'modbus-serial';
import { SerialPort } from 'serialport';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CanalFleet, type CanalStation, createCanalFleet, withCrc } from '../src/canal';
import { CHANGPHUEAK, closeTo6, mbpoll, RAKAENG, SIM_START, sleep } from './canal-helpers';

const MIN = 60_000;
let dir: string;
let fleet: CanalFleet;
let now = SIM_START;
let bus: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cnx-canal-rtu-'));
  fleet = createCanalFleet({
    city: 'chiang-mai',
    stations: [RAKAENG, CHANGPHUEAK],
    simStart: SIM_START,
    now: () => now,
    tcp: false,
    rtu: { dir },
    wordOrders: { [RAKAENG.id]: 'CDAB', [CHANGPHUEAK.id]: 'ABCD' },
    faults: [
      { device: RAKAENG.id, mode: 'bad-crc', after: '10m', for: '5m' },
      { device: RAKAENG.id, mode: 'timeout', after: '20m', for: '5m' },
      { device: RAKAENG.id, mode: 'exception', after: '30m', for: '5m' },
      { device: RAKAENG.id, mode: 'busy', after: '40m', for: '5m' },
      { device: RAKAENG.id, mode: 'offline', after: '50m', for: '5m' },
      { device: RAKAENG.id, mode: 'drop-connection', after: '60m', for: '5m' },
    ],
  });
  await fleet.start();
  bus = fleet.endpoints[0]!.rtu!.path;
});
afterAll(async () => {
  await fleet?.stop();
  await rm(dir, { recursive: true, force: true });
});

const rtuArgs = (unit: number, ...rest: string[]) => [
  '-m',
  'rtu',
  '-b',
  '9600',
  '-P',
  'none',
  '-a',
  String(unit),
  '-0',
  ...rest,
  bus,
];

async function rtuClient(timeoutMs = 1000): Promise<ModbusRTU> {
  const c = new ModbusRTU();
  await c.connectRTUBuffered(bus, { baudRate: 9600, parity: 'none' });
  c.setTimeout(timeoutMs);
  return c;
}
const closeClient = (c: ModbusRTU) => new Promise<void>((r) => c.close(() => r()));

async function readAll(c: ModbusRTU, s: CanalStation): Promise<Record<string, number>> {
  c.setID(s.unitId);
  const out: Record<string, number> = {};
  for (const block of planReads({ ...s.map, wordOrder: s.wordOrder })) {
    const r =
      block.fn === 3
        ? await c.readHoldingRegisters(block.address, block.length)
        : await c.readInputRegisters(block.address, block.length);
    Object.assign(out, decodeBlock(block, r.data));
  }
  return out;
}

describe('canal stations over Modbus RTU (socat pty pair)', () => {
  it('lists one shared bus: both stations on <dir>/canal-bus at unit ids 1 and 2, 9600 8N1', () => {
    expect(fleet.endpoints.map((e) => [e.deviceId, e.unitId, e.rtu])).toEqual([
      [RAKAENG.id, 1, { path: join(dir, 'canal-bus'), baudRate: 9600, parity: 'none', stopBits: 1 }],
      [CHANGPHUEAK.id, 2, { path: join(dir, 'canal-bus'), baudRate: 9600, parity: 'none', stopBits: 1 }],
    ]);
    expect(existsSync(bus)).toBe(true);
  });

  it('mbpoll reads the documented values from each unit (floats in each station’s word order)', async () => {
    now = SIM_START;
    for (const [s, flags] of [
      [fleet.station(RAKAENG.id), []],
      [fleet.station(CHANGPHUEAK.id), ['-B']],
    ] as const) {
      const v = s.valuesAt();
      const f = await mbpoll(rtuArgs(s.unitId, '-t', '4:float', ...flags, '-r', '5', '-c', '3'));
      expect(f.code, f.output).toBe(0);
      expect(closeTo6(f.values.get(5), v.do!)).toBe(true);
      expect(closeTo6(f.values.get(7), v.ph!)).toBe(true);
      expect(closeTo6(f.values.get(9), v.turbidity!)).toBe(true);
      const raw = await mbpoll(rtuArgs(s.unitId, '-t', '4', '-r', '0', '-c', '4'));
      expect(raw.values.get(0)! / 1000).toBe(v.water_level);
      expect(raw.values.get(2)).toBe(v.conductivity);
    }
  });

  it('modbus-serial’s RTU client reads and decodes every block of both stations to exactly the served values', async () => {
    now = SIM_START;
    const c = await rtuClient();
    try {
      for (const s of fleet.stations) expect(await readAll(c, s)).toEqual(s.valuesAt());
    } finally {
      await closeClient(c);
    }
  });

  it('ignores frames with a bad CRC and frames for other unit ids; answers after the 9600-baud wire time', async () => {
    now = SIM_START;
    const port = new SerialPort({ path: bus, baudRate: 9600, autoOpen: false });
    await new Promise<void>((r, j) => port.open((e) => (e ? j(e) : r())));
    const received: Buffer[] = [];
    port.on('data', (d: Buffer) => received.push(d));
    try {
      const req = withCrc(Buffer.from([1, 3, 0, 0, 0, 10]));
      const corrupt = Buffer.from(req);
      corrupt[7]! ^= 0xff;
      const before = fleet.stats().reduce((a, s) => a + s.requests, 0);
      port.write(corrupt);
      await sleep(200);
      port.write(withCrc(Buffer.from([9, 3, 0, 0, 0, 1])));
      await sleep(200);
      expect(received).toEqual([]);
      expect(fleet.stats().reduce((a, s) => a + s.requests, 0)).toBe(before);
      const t0 = performance.now();
      port.write(req);
      const deadline = Date.now() + 2000;
      while (Buffer.concat(received).length < 25 && Date.now() < deadline) await sleep(2);
      const elapsed = performance.now() - t0;
      const res = Buffer.concat(received);
      expect(res.length).toBe(5 + 20);
      expect([...res.subarray(0, 3)]).toEqual([1, 3, 20]);
      expect(res.readUInt16BE(3) / 1000).toBe(fleet.station(RAKAENG.id).valuesAt().water_level);
      // (8 + 25 bytes) x 10 bits / 9600 baud = 34.4 ms on a real bus.
      expect(elapsed).toBeGreaterThanOrEqual(30);
    } finally {
      await new Promise<void>((r) => port.close(() => r()));
    }
  });

  it('bad-crc: the master rejects the corrupted response; the other unit on the bus is unaffected', async () => {
    now = SIM_START + 11 * MIN;
    const r = await mbpoll(rtuArgs(1, '-o', '0.5', '-t', '4', '-r', '0'));
    expect(r.code).not.toBe(0);
    expect(r.output).toMatch(/Invalid CRC/);
    expect((await mbpoll(rtuArgs(2, '-t', '4', '-r', '0'))).code).toBe(0);
    const c = await rtuClient(500);
    try {
      c.setID(1);
      await expect(c.readHoldingRegisters(0, 1)).rejects.toThrow(/CRC/);
    } finally {
      await closeClient(c);
    }
    expect(fleet.station(RAKAENG.id).stats().badCrc).toBeGreaterThanOrEqual(2);
  });

  it('timeout, exception 4, busy 6 and offline, each in its window; no effect of drop-connection on a serial line', async () => {
    now = SIM_START + 21 * MIN;
    const timeout = await mbpoll(rtuArgs(1, '-o', '0.3', '-t', '4', '-r', '0'));
    expect(timeout.output).toMatch(/Connection timed out/);
    now = SIM_START + 31 * MIN;
    expect((await mbpoll(rtuArgs(1, '-t', '4', '-r', '0'))).output).toMatch(/Slave device or server failure/);
    now = SIM_START + 41 * MIN;
    expect((await mbpoll(rtuArgs(1, '-t', '4', '-r', '0'))).output).toMatch(/Slave device or server is busy/);
    now = SIM_START + 51 * MIN;
    expect((await mbpoll(rtuArgs(1, '-o', '0.3', '-t', '4', '-r', '0'))).output).toMatch(/Connection timed out/);
    expect(fleet.station(RAKAENG.id).stats().online).toBe(false);
    expect((await mbpoll(rtuArgs(2, '-t', '4', '-r', '0'))).code).toBe(0);
    now = SIM_START + 61 * MIN;
    const back = await mbpoll(rtuArgs(1, '-t', '3:int', '-r', '256'));
    expect(back.code, back.output).toBe(0);
    expect(back.values.get(256)).toBe(6 * 60); // rebooted at +55 min
    expect(fleet.station(RAKAENG.id).stats().exceptions).toMatchObject({ 4: 1, 6: 1 });
  });
});

describe('one bus per station', () => {
  it('gives each station its own pty at <dir>/<deviceId>', async () => {
    const d = await mkdtemp(join(tmpdir(), 'cnx-canal-rtu-'));
    const f = createCanalFleet({
      city: 'chiang-mai',
      stations: [RAKAENG, CHANGPHUEAK],
      simStart: SIM_START,
      timeScale: 0,
      tcp: false,
      rtu: { dir: d, mode: 'per-station', emulateLineSpeed: false },
      unitIdBase: 10,
    });
    try {
      await f.start();
      for (const e of f.endpoints) {
        expect(e.rtu?.path).toBe(join(d, e.deviceId));
        const r = await mbpoll([
          '-m',
          'rtu',
          '-b',
          '9600',
          '-P',
          'none',
          '-a',
          String(e.unitId),
          '-0',
          '-t',
          '4',
          '-r',
          '0',
          e.rtu!.path,
        ]);
        expect(r.values.get(0)! / 1000).toBe(f.station(e.deviceId).valuesAt().water_level);
      }
    } finally {
      await f.stop();
      await rm(d, { recursive: true, force: true });
    }
    expect(existsSync(join(d, RAKAENG.id))).toBe(false);
  });
});
