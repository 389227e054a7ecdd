/**
 * The canal station as a real Modbus TCP server: read by modbus-serial's client (what the gateway
 * uses) and by mbpoll (libmodbus, a third-party master), compared with what the simulator says it
 * served at the same (frozen) simulated time. Every fault kind observed from the master's side.
 */
import { decodeBlock, planReads, type WordOrder } from '@cnx/device-models';
import { canConnect, freePort } from '@cnx/testkit';
import ModbusRTU from 'modbus-serial';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type CanalFaultSpec, type CanalStation, type CanalStationOptions, createCanalStation } from '../src/canal';
import { closeTo6, mbpoll, RAKAENG, SIM_START, until } from './canal-helpers';

async function client(port: number, unit = 1, timeoutMs = 1000): Promise<ModbusRTU> {
  const c = new ModbusRTU();
  await c.connectTCP('127.0.0.1', { port });
  c.setID(unit);
  c.setTimeout(timeoutMs);
  return c;
}
const closeClient = (c: ModbusRTU) => new Promise<void>((r) => c.close(() => r()));

/** Everything the map holds, read block by block as the gateway's poller does, and decoded. */
async function readAll(c: ModbusRTU, station: CanalStation): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const block of planReads({ ...station.map, wordOrder: station.wordOrder })) {
    const r =
      block.fn === 3
        ? await c.readHoldingRegisters(block.address, block.length)
        : await c.readInputRegisters(block.address, block.length);
    Object.assign(out, decodeBlock(block, r.data));
  }
  return out;
}

const started: CanalStation[] = [];
async function station(opts: Partial<CanalStationOptions> = {}): Promise<{ s: CanalStation; port: number }> {
  const port = await freePort();
  const s = createCanalStation({ info: RAKAENG, simStart: SIM_START, timeScale: 0, tcp: { port }, ...opts });
  await s.start();
  started.push(s);
  return { s, port };
}
afterEach(async () => {
  await Promise.all(started.splice(0).map((s) => s.stop()));
});

const tcpArgs = (port: number, ...rest: string[]) => ['-m', 'tcp', '-p', String(port), '-0', ...rest, '127.0.0.1'];

describe('canal station over Modbus TCP: values', () => {
  const orders: WordOrder[] = ['ABCD', 'CDAB', 'BADC', 'DCBA'];
  const stations = new Map<WordOrder, { s: CanalStation; port: number }>();
  beforeAll(async () => {
    for (const o of orders) {
      const port = await freePort();
      const s = createCanalStation({ info: RAKAENG, simStart: SIM_START, timeScale: 0, tcp: { port }, wordOrder: o });
      await s.start();
      stations.set(o, { s, port });
    }
  });
  afterAll(async () => {
    await Promise.all([...stations.values()].map(({ s }) => s.stop()));
  });

  it('serves the documented values: every register of the map, in every word order (modbus-serial client)', async () => {
    const expected = stations.get('ABCD')!.s.valuesAt();
    expect(expected.water_level).toBe(1.516); // the rainy-season morning of canal-model tests
    expect(expected.do).toBeGreaterThan(0.5);
    for (const o of orders) {
      const { s, port } = stations.get(o)!;
      const c = await client(port);
      try {
        expect(await readAll(c, s)).toEqual(expected);
      } finally {
        await closeClient(c);
      }
      expect(s.valuesAt()).toEqual(expected);
    }
    // The float words really differ by order: 32-bit register 5 (do) as served.
    const words = orders.map((o) => stations.get(o)!.s.wordsAt(3, 5, 2));
    const [a, b] = words[0] as number[];
    const swap = (w: number) => ((w & 0xff) << 8) | (w >> 8);
    expect(words).toEqual([
      [a, b],
      [b, a],
      [swap(a!), swap(b!)],
      [swap(b!), swap(a!)],
    ]);
  });

  it('mbpoll reads the floats: -B (big-endian words) for ABCD, its default (low word first) for CDAB', async () => {
    const v = stations.get('ABCD')!.s.valuesAt();
    const abcd = await mbpoll(
      tcpArgs(stations.get('ABCD')!.port, '-a', '1', '-t', '4:float', '-B', '-r', '5', '-c', '3'),
    );
    const cdab = await mbpoll(tcpArgs(stations.get('CDAB')!.port, '-a', '1', '-t', '4:float', '-r', '5', '-c', '3'));
    for (const r of [abcd, cdab]) {
      expect(r.code, r.output).toBe(0);
      expect(closeTo6(r.values.get(5), v.do!), `do ${r.values.get(5)} vs ${v.do}`).toBe(true);
      expect(closeTo6(r.values.get(7), v.ph!)).toBe(true);
      expect(closeTo6(r.values.get(9), v.turbidity!)).toBe(true);
    }
  });

  it('mbpoll reads the scaled 16-bit registers and the 32-bit integers (uint32 uptime, int32 pressure)', async () => {
    const { s, port } = stations.get('CDAB')!;
    const v = s.valuesAt();
    const raw = await mbpoll(tcpArgs(port, '-a', '1', '-t', '4', '-r', '0', '-c', '5'));
    expect(raw.code, raw.output).toBe(0);
    expect(raw.values.get(0)! / 1000).toBe(v.water_level);
    expect(raw.values.get(1)! / 10).toBe(v.water_temperature);
    expect(raw.values.get(2)).toBe(v.conductivity);
    expect(raw.values.get(3)! / 10).toBe(v.battery);
    expect(raw.values.get(4)).toBe(v.status);
    const ints = await mbpoll(tcpArgs(port, '-a', '1', '-t', '3:int', '-r', '256', '-c', '1'));
    expect(ints.values.get(256)).toBe(v.uptime);
    const pressure = await mbpoll(tcpArgs(port, '-a', '1', '-t', '3:int', '-r', '259', '-c', '1'));
    expect(pressure.values.get(259)! / 10).toBe(v.gauge_pressure);
    const big = await mbpoll(
      tcpArgs(stations.get('ABCD')!.port, '-a', '1', '-t', '3:int', '-B', '-r', '256', '-c', '1'),
    );
    expect(big.values.get(256)).toBe(v.uptime);
  });

  it('mbpoll sees the raw words of BADC and DCBA stations byte-swapped (it has no option for them)', async () => {
    for (const o of ['BADC', 'DCBA'] as const) {
      const { s, port } = stations.get(o)!;
      const r = await mbpoll(tcpArgs(port, '-a', '1', '-t', '4', '-r', '5', '-c', '6'));
      expect(r.code, r.output).toBe(0);
      expect([5, 6, 7, 8, 9, 10].map((a) => r.values.get(a))).toEqual(s.wordsAt(3, 5, 6));
    }
  });

  it('answers its unit id and 255 ("not used" on TCP), not another unit id', async () => {
    const { port } = stations.get('ABCD')!;
    expect((await mbpoll(tcpArgs(port, '-a', '255', '-t', '4', '-r', '0'))).code).toBe(0);
    const other = await mbpoll(tcpArgs(port, '-a', '2', '-o', '0.3', '-t', '4', '-r', '0'));
    expect(other.code).not.toBe(0);
    expect(other.output).toMatch(/timed out/i);
  });

  it('rejects what a logger rejects: unmapped addresses (2), coils (1), bad quantities (3)', async () => {
    const { port } = stations.get('ABCD')!;
    const gap = await mbpoll(tcpArgs(port, '-a', '1', '-t', '4', '-r', '11', '-c', '2'));
    expect(gap.output).toMatch(/Illegal data address/);
    const c = await client(port);
    try {
      await expect(c.readCoils(0, 1)).rejects.toMatchObject({ modbusCode: 1 });
      await expect(c.readHoldingRegisters(0, 126)).rejects.toMatchObject({ modbusCode: 3 });
      await expect(c.readInputRegisters(0, 1)).rejects.toMatchObject({ modbusCode: 2 });
    } finally {
      await closeClient(c);
    }
  });
});

describe('a vendor probe is data: the simulator serves any register map', () => {
  it('rs485-do-probe-v1: float pairs from 0x2600, word order CDAB (mbpoll default)', async () => {
    const { s, port } = await station({ info: { ...RAKAENG, model: 'rs485-do-probe-v1' } });
    expect(s.wordOrder).toBe('CDAB');
    const v = s.valuesAt();
    const r = await mbpoll(tcpArgs(port, '-a', '1', '-t', '4:float', '-r', String(0x2600), '-c', '3'));
    expect(r.code, r.output).toBe(0);
    expect(closeTo6(r.values.get(0x2600), v.water_temperature!)).toBe(true);
    expect(closeTo6(r.values.get(0x2602), v.do!)).toBe(true);
    expect(closeTo6(r.values.get(0x2604), v.do_saturation!)).toBe(true);
    expect(v.do_saturation).toBeGreaterThan(5);
    expect(v.do_saturation).toBeLessThan(80);
    const c = await client(port);
    try {
      expect(await readAll(c, s)).toEqual(v);
    } finally {
      await closeClient(c);
    }
  });
});

describe('canal station over Modbus TCP: writes', () => {
  it('takes sample_interval by function 6 (mbpoll) and 16 (modbus-serial); other writes are refused', async () => {
    const { s, port } = await station();
    const w6 = await mbpoll([...tcpArgs(port, '-a', '1', '-t', '4', '-r', '512'), '60']);
    expect(w6.code, w6.output).toBe(0);
    expect(s.valuesAt().sample_interval).toBe(60);
    const c = await client(port);
    try {
      await c.writeRegisters(512, [30]);
      expect(s.valuesAt().sample_interval).toBe(30);
      await expect(c.writeRegister(4, 1)).rejects.toMatchObject({ modbusCode: 2 });
      await expect(c.writeRegister(512, 0)).rejects.toMatchObject({ modbusCode: 3 });
    } finally {
      await closeClient(c);
    }
  });
});

describe('canal station over Modbus TCP: faults as a master sees them', () => {
  const fault = (spec: Omit<CanalFaultSpec, 'device'>): CanalFaultSpec[] => [{ device: RAKAENG.id, ...spec }];

  it('timeout: no answer; the master times out; the station counts it', async () => {
    const { s, port } = await station({ faults: fault({ mode: 'timeout' }) });
    const c = await client(port, 1, 300);
    try {
      const t0 = Date.now();
      await expect(c.readHoldingRegisters(0, 11)).rejects.toMatchObject({ errno: 'ETIMEDOUT' });
      expect(Date.now() - t0).toBeLessThan(2000);
    } finally {
      await closeClient(c);
    }
    const r = await mbpoll(tcpArgs(port, '-a', '1', '-o', '0.3', '-t', '4', '-r', '0'));
    expect(r.code).not.toBe(0);
    expect(r.output).toMatch(/Connection timed out/);
    expect(s.stats().silent).toBeGreaterThanOrEqual(2);
  });

  it('exception: code 4 by default (slave device failure), any code on request', async () => {
    const { port } = await station({ faults: fault({ mode: 'exception' }) });
    const r = await mbpoll(tcpArgs(port, '-a', '1', '-t', '4', '-r', '0'));
    expect(r.output).toMatch(/Slave device or server failure/);
    const c = await client(port);
    try {
      await expect(c.readHoldingRegisters(0, 11)).rejects.toMatchObject({ modbusCode: 4 });
    } finally {
      await closeClient(c);
    }
    const { port: p2 } = await station({ faults: fault({ mode: 'exception', code: 11 }) });
    const c2 = await client(p2);
    try {
      await expect(c2.readHoldingRegisters(0, 11)).rejects.toMatchObject({ modbusCode: 11 });
    } finally {
      await closeClient(c2);
    }
  });

  it('busy: exception 6 (slave device busy)', async () => {
    const { s, port } = await station({ faults: fault({ mode: 'busy' }) });
    const r = await mbpoll(tcpArgs(port, '-a', '1', '-t', '4', '-r', '0'));
    expect(r.output).toMatch(/Slave device or server is busy/);
    expect(s.stats().exceptions).toEqual({ 6: 1 });
  });

  it('drop-connection: the socket is closed instead of an answer; a share p of requests only', async () => {
    const { s, port } = await station({ faults: fault({ mode: 'drop-connection' }) });
    const r = await mbpoll(tcpArgs(port, '-a', '1', '-o', '0.5', '-t', '4', '-r', '0'));
    expect(r.code).not.toBe(0);
    expect(r.output).toMatch(/Connection reset by peer|Broken pipe|timed out|closed/i);
    const c = await client(port, 1, 500);
    const closed = new Promise<void>((resolve) => c.on('close', () => resolve()));
    await expect(c.readHoldingRegisters(0, 1)).rejects.toBeDefined();
    await closed;
    expect(s.stats().dropped).toBeGreaterThanOrEqual(2);

    const { s: s2, port: p2 } = await station({ faults: fault({ mode: 'drop-connection', p: 0.5 }) });
    let ok = 0;
    for (let i = 0; i < 12; i++)
      if ((await mbpoll(tcpArgs(p2, '-a', '1', '-o', '0.5', '-t', '4', '-r', '0'))).code === 0) ok++;
    expect(ok).toBeGreaterThan(0);
    expect(s2.stats().dropped).toBeGreaterThan(0);
  });

  it('offline: port closed (connection refused), then back after the window with its uptime reset', async () => {
    let now = SIM_START;
    const { s, port } = await station({ now: () => now, faults: fault({ mode: 'offline', after: '1m', for: '10m' }) });
    const before = s.valuesAt().uptime!;
    expect((await mbpoll(tcpArgs(port, '-a', '1', '-t', '4', '-r', '0'))).code).toBe(0);
    now = SIM_START + 2 * 60_000;
    await until(async () => !(await canConnect(port)), 3000, 'the port to close');
    const refused = await mbpoll(tcpArgs(port, '-a', '1', '-o', '0.5', '-t', '4', '-r', '0'));
    expect(refused.code).not.toBe(0);
    expect(refused.output).toMatch(/Connection refused/);
    expect(s.stats().online).toBe(false);
    now = SIM_START + 12 * 60_000;
    await until(() => canConnect(port), 3000, 'the port to reopen');
    const back = await mbpoll(tcpArgs(port, '-a', '1', '-t', '3:int', '-B', '-r', '256'));
    expect(back.code, back.output).toBe(0);
    expect(back.values.get(256)).toBe(60); // rebooted at +11 min, read at +12 min
    expect(before).toBeGreaterThan(3600);
  });

  it('probe-fault: floats read NaN and the status register sets probe_fault (bit 0)', async () => {
    const { s, port } = await station({ faults: fault({ mode: 'probe-fault' }) });
    const r = await mbpoll(tcpArgs(port, '-a', '1', '-t', '4:float', '-B', '-r', '5', '-c', '3'));
    expect(r.code, r.output).toBe(0);
    expect(r.values.get(5)).toBeNaN();
    expect(r.values.get(9)).toBeNaN();
    const c = await client(port);
    try {
      const v = await readAll(c, s);
      expect(v.do).toBeNaN();
      expect(v.status! & 1).toBe(1);
      expect(v.water_level).toBe(s.valuesAt().water_level); // the level sensor is fine
    } finally {
      await closeClient(c);
    }
  });

  it('fault windows follow simulated time', async () => {
    let now = SIM_START;
    const { port } = await station({ now: () => now, faults: fault({ mode: 'busy', after: '5m', for: '5m' }) });
    expect((await mbpoll(tcpArgs(port, '-a', '1', '-t', '4', '-r', '0'))).code).toBe(0);
    now += 6 * 60_000;
    expect((await mbpoll(tcpArgs(port, '-a', '1', '-t', '4', '-r', '0'))).output).toMatch(/busy/);
    now += 5 * 60_000;
    expect((await mbpoll(tcpArgs(port, '-a', '1', '-t', '4', '-r', '0'))).code).toBe(0);
  });
});
