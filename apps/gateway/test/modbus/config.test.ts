import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadModbusConfigFile, modbusConfigFromEnv, parseModbusConfig } from '../../src/modbus/config';
import { chiangMai } from './helpers';

const valid = {
  defaults: { intervalMs: 10_000, timeoutMs: 500, retries: 2 },
  buses: [
    { id: 'canal-lan', transport: 'tcp', host: '10.0.4.20' },
    { id: 'rs485-1', transport: 'rtu', path: '/dev/ttyUSB0' },
  ],
  devices: [
    { deviceId: 'cm-canal-sriphum-probe', bus: 'canal-lan', unitId: 1 },
    { deviceId: 'cm-canal-padaet-probe', bus: 'rs485-1', unitId: 7, wordOrder: 'CDAB', intervalMs: 30_000 },
  ],
};

describe('parseModbusConfig', () => {
  it('accepts a valid config and fills the defaults', async () => {
    const pack = await chiangMai();
    const r = parseModbusConfig(valid, { pack });
    if (!r.ok) throw new Error(r.error.join('\n'));
    const [tcp, rtu] = r.value.buses;
    expect(tcp).toEqual({
      id: 'canal-lan',
      transport: 'tcp',
      host: '10.0.4.20',
      port: 502,
      connection: 'per-device',
      connectTimeoutMs: 3000,
    });
    expect(rtu).toMatchObject({ baudRate: 9600, parity: 'none', dataBits: 8, stopBits: 1 });
    const [a, b] = r.value.devices;
    expect(a).toMatchObject({
      deviceId: 'cm-canal-sriphum-probe',
      stationId: 'cm-canal-sriphum',
      registerMap: 'cnx-canal-probe-v1', // the device's model in the city pack
      intervalMs: 10_000,
      timeoutMs: 500,
      retries: 2,
      maxBackoffMs: 60_000,
      offlineAfterMs: 30_000,
      diagnostics: false,
    });
    expect(b?.intervalMs).toBe(30_000);
    expect(b?.offlineAfterMs).toBe(90_000);
    // The word-order override reaches every 32-bit register of the map.
    expect(b?.map.wordOrder).toBe('CDAB');
    expect(b?.map.registers.filter((x) => x.wordOrder && x.wordOrder !== 'CDAB')).toEqual([]);
  });

  it('accepts JSON text', async () => {
    const pack = await chiangMai();
    expect(parseModbusConfig(JSON.stringify(valid), { pack }).ok).toBe(true);
    expect(parseModbusConfig('{nope', { pack })).toMatchObject({ ok: false });
  });

  it('lists every problem at once, each with its path and the bad value', async () => {
    const pack = await chiangMai();
    const r = parseModbusConfig(
      {
        buses: [
          { id: 'bad', transport: 'tcp', host: '', port: 70_000, extra: 1 },
          { id: 'rtu', transport: 'rtu', path: '/dev/ttyS0', baudRate: 9601, parity: 'mark' },
          { id: 'x', transport: 'udp' },
          { id: 'a', transport: 'tcp', host: 'probe.local' },
          { id: 'a', transport: 'tcp', host: 'other.local' },
        ],
        devices: [
          { deviceId: 'nope', bus: 'bad', unitId: 1 },
          { deviceId: 'cm-air-oldcity-01-pms', bus: 'b', unitId: 300 },
          { deviceId: 'cm-canal-sriphum-probe', bus: 'a', unitId: 1, registerMap: 'no-such-map' },
          { deviceId: 'cm-canal-rakaeng-probe', bus: 'a', unitId: 2, intervalMs: 1000, timeoutMs: 600, retries: 1 },
          { deviceId: 'cm-canal-padaet-probe', bus: 'a', unitId: 3, wordOrder: 'ABDC', offlineAfterMs: 5 },
        ],
      },
      { pack },
    );
    expect(r.ok).toBe(false);
    const problems = r.ok ? [] : r.error;
    const expected = [
      /buses\[0\]\.extra: unknown setting/,
      /buses\[0\]\.host: expected a non-empty string, got ""/,
      /buses\[0\]\.port: expected an integer 1\.\.65535, got 70000/,
      /buses\[1\]\.baudRate: expected one of .*got 9601/,
      /buses\[1\]\.parity: expected one of .*got "mark"/,
      /buses\[2\]\.transport: expected "tcp" or "rtu", got "udp"/,
      /buses\[4\]\.id: duplicate bus id "a"/,
      /devices\[0\]\.deviceId: not a device of city pack "chiang-mai", got "nope"/,
      /devices\[1\]\.bus: no such bus/,
      /devices\[1\]\.unitId: expected an integer 1\.\.247, got 300/,
      /devices\[1\]\.deviceId: device transport in the city pack is "mqtt"/,
      /devices\[2\]\.registerMap: register map "no-such-map": no such register map \(known: cnx-canal-probe-v1/,
      /devices\[3\]\.timeoutMs: worst-case poll 1 request\(s\) x 2 attempt\(s\) x 600 ms = 1200 ms is not below intervalMs 1000/,
      /devices\[4\]\.wordOrder: expected one of "ABCD", "CDAB", "BADC", "DCBA", got "ABDC"/,
      /devices\[4\]\.offlineAfterMs: expected an integer/,
    ];
    expect(problems).toHaveLength(expected.length);
    for (const re of expected)
      expect(
        problems.some((p) => re.test(p)),
        `${re} in\n${problems.join('\n')}`,
      ).toBe(true);
  });

  it('a timing inherited from the defaults is named with its value and where it came from', async () => {
    const pack = await chiangMai();
    const r = parseModbusConfig(
      {
        defaults: { maxBackoffMs: 600, offlineAfterMs: 900 },
        buses: [{ id: 'a', transport: 'tcp', host: 'probe.local' }],
        devices: [{ deviceId: 'cm-canal-sriphum-probe', bus: 'a', unitId: 1, intervalMs: 1000, timeoutMs: 400 }],
      },
      { pack },
    );
    expect(r.ok ? [] : r.error).toEqual([
      '$.devices[0].maxBackoffMs: must be at least intervalMs 1000, got 600 (from defaults)',
      '$.devices[0].offlineAfterMs: must be at least intervalMs 1000, got 900 (from defaults)',
    ]);
  });

  it('refuses a device listed twice and two devices at one address', async () => {
    const pack = await chiangMai();
    const r = parseModbusConfig(
      {
        buses: [{ id: 'b', transport: 'tcp', host: 'h' }],
        devices: [
          { deviceId: 'cm-canal-sriphum-probe', bus: 'b', unitId: 1 },
          { deviceId: 'cm-canal-sriphum-probe', bus: 'b', unitId: 2 },
          { deviceId: 'cm-canal-padaet-probe', bus: 'b', unitId: 1 },
        ],
      },
      { pack },
    );
    expect(r.ok ? [] : r.error).toEqual([
      expect.stringMatching(/devices\[1\]\.deviceId: device listed twice/),
      expect.stringMatching(/devices\[2\]\.unitId: unit id already used on bus "b" by "cm-canal-sriphum-probe"/),
    ]);
  });
});

describe('GATEWAY_MODBUS_CONFIG', () => {
  it('is optional: unset means no polling', async () => {
    const pack = await chiangMai();
    expect(await modbusConfigFromEnv({}, { pack })).toEqual({ ok: true, value: undefined });
  });

  it('loads a file, and names the file and the variable in problems', async () => {
    const pack = await chiangMai();
    const dir = mkdtempSync(path.join(tmpdir(), 'cnx-modbus-cfg-'));
    try {
      const good = path.join(dir, 'modbus.json');
      writeFileSync(good, JSON.stringify(valid));
      const r = await modbusConfigFromEnv({ GATEWAY_MODBUS_CONFIG: good }, { pack });
      expect(r.ok && r.value?.devices.length).toBe(2);
      const bad = path.join(dir, 'bad.json');
      writeFileSync(bad, JSON.stringify({ buses: [], devices: [{ deviceId: 'x' }] }));
      const e = await modbusConfigFromEnv({ GATEWAY_MODBUS_CONFIG: bad }, { pack });
      expect(e.ok ? [] : e.error).toContainEqual(
        expect.stringMatching(/^GATEWAY_MODBUS_CONFIG: .*bad\.json: \$\.devices\[0\]\.bus: required$/),
      );
      const missing = await loadModbusConfigFile(path.join(dir, 'none.json'), { pack });
      expect(missing.ok ? [] : missing.error).toEqual([expect.stringMatching(/none\.json: cannot read/)]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
