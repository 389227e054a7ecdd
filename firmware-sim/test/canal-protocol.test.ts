import { loadRegisterMap } from '@cnx/device-models';
import { describe, expect, it } from 'vitest';
import {
  CANAL_FAULT_MODES,
  crc16,
  crcValid,
  EXCEPTION,
  encodeRtuResponse,
  interFrameMs,
  parseCanalFaultArg,
  parseRtuRequest,
  resolveCanalFault,
  withCrc,
} from '../src/canal';
import { buildImage, checkWrite, readImage } from '../src/canal/registers';

describe('RTU frames', () => {
  it('CRC-16/MODBUS matches the specification example (01 03 00 00 00 0A -> C5 CD)', () => {
    const frame = withCrc(Buffer.from([0x01, 0x03, 0x00, 0x00, 0x00, 0x0a]));
    expect([...frame.subarray(6)]).toEqual([0xc5, 0xcd]);
    expect(crc16(Buffer.from('123456789'))).toBe(0x4b37); // CRC catalogue check value
    expect(crcValid(frame)).toBe(true);
    frame[3] = frame[3]! ^ 1;
    expect(crcValid(frame)).toBe(false);
  });

  it('parses reads and writes, and flags malformed bodies', () => {
    expect(parseRtuRequest(withCrc(Buffer.from([7, 4, 0x01, 0x00, 0x00, 0x05])))).toEqual({
      unit: 7,
      request: { fn: 4, address: 256, quantity: 5 },
    });
    expect(parseRtuRequest(withCrc(Buffer.from([1, 6, 0x02, 0x00, 0x00, 0x3c])))).toEqual({
      unit: 1,
      request: { fn: 6, address: 512, value: 60 },
    });
    expect(parseRtuRequest(withCrc(Buffer.from([1, 16, 0x02, 0x00, 0x00, 0x01, 0x02, 0x00, 0x1e])))).toEqual({
      unit: 1,
      request: { fn: 16, address: 512, values: [30] },
    });
    expect(parseRtuRequest(withCrc(Buffer.from([1, 3, 0, 0, 0])))).toEqual({
      unit: 1,
      request: { fn: 3, other: true, bad: true },
    });
    expect(parseRtuRequest(withCrc(Buffer.from([1, 43, 14, 1, 0])))).toEqual({
      unit: 1,
      request: { fn: 43, other: true },
    });
  });

  it('encodes read responses, write echoes and exceptions, and corrupts the CRC on request', () => {
    const read = { fn: 3 as const, address: 0, quantity: 2 };
    const ok = encodeRtuResponse(1, read, { kind: 'words', words: [0x1234, 0xabcd] })!;
    expect([...ok.subarray(0, 7)]).toEqual([1, 3, 4, 0x12, 0x34, 0xab, 0xcd]);
    expect(crcValid(ok)).toBe(true);
    const exc = encodeRtuResponse(1, read, { kind: 'exception', code: EXCEPTION.SLAVE_DEVICE_BUSY })!;
    expect([...exc.subarray(0, 3)]).toEqual([1, 0x83, 6]);
    const bad = encodeRtuResponse(1, read, { kind: 'words', words: [1], badCrc: true })!;
    expect(crcValid(bad)).toBe(false);
    expect(encodeRtuResponse(1, read, { kind: 'silent' })).toBeUndefined();
    const echo = encodeRtuResponse(1, { fn: 16, address: 512, values: [1, 2] }, { kind: 'written' })!;
    expect([...echo.subarray(0, 6)]).toEqual([1, 16, 2, 0, 0, 2]);
  });

  it('t3.5 is 3.5 characters at the baud rate, 1.75 ms above 19200 baud', () => {
    expect(interFrameMs(9600, 10)).toBeCloseTo(3.646, 3);
    expect(interFrameMs(115200, 10)).toBe(1.75);
  });
});

describe('register image', () => {
  const map = loadRegisterMap('cnx-canal-probe-v1');
  const image = buildImage(map, 'ABCD', { water_level: 1.234, do: 12.5, sample_interval: 10 });

  it('serves mapped registers; unmapped ones are exception 2 or zeros; bad quantities exception 3', () => {
    expect(readImage(image, 3, 0, 1, 'exception')).toEqual({ kind: 'words', words: [1234] });
    expect(readImage(image, 3, 5, 2, 'exception')).toEqual({ kind: 'words', words: [0x4148, 0] });
    expect(readImage(image, 3, 10, 2, 'exception')).toEqual({ kind: 'exception', code: 2 });
    expect(readImage(image, 3, 10, 2, 'zero')).toMatchObject({ kind: 'words', words: [expect.any(Number), 0] });
    expect(readImage(image, 4, 0, 1, 'exception')).toEqual({ kind: 'exception', code: 2 }); // input table differs
    expect(readImage(image, 3, 0, 0, 'zero')).toEqual({ kind: 'exception', code: 3 });
    expect(readImage(image, 3, 0, 126, 'zero')).toEqual({ kind: 'exception', code: 3 });
  });

  it('only sample_interval is writable, within 1..3600 s', () => {
    expect(checkWrite(map, 512, [60])).toMatchObject({ ok: true, writes: [{ raw: 60 }] });
    expect(checkWrite(map, 512, [0])).toEqual({ ok: false, outcome: { kind: 'exception', code: 3 } });
    expect(checkWrite(map, 4, [1])).toEqual({ ok: false, outcome: { kind: 'exception', code: 2 } }); // status
    expect(checkWrite(map, 512, [60, 1])).toEqual({ ok: false, outcome: { kind: 'exception', code: 2 } });
  });
});

describe('canal fault arguments', () => {
  it('parses every mode with its main parameter and window', () => {
    expect(parseCanalFaultArg('cm-canal-rakaeng-probe:timeout')).toEqual({
      device: 'cm-canal-rakaeng-probe',
      mode: 'timeout',
    });
    expect(parseCanalFaultArg('*:timeout:0.25,after=10m')).toEqual({
      device: '*',
      mode: 'timeout',
      p: 0.25,
      after: '10m',
    });
    expect(parseCanalFaultArg('d:exception:2,p=0.5')).toEqual({ device: 'd', mode: 'exception', code: 2, p: 0.5 });
    expect(parseCanalFaultArg('d:offline:10')).toEqual({ device: 'd', mode: 'offline', for: '10m' });
    expect(parseCanalFaultArg('d:offline:30s,after=0,every=1h')).toEqual({
      device: 'd',
      mode: 'offline',
      for: '30s',
      after: '0',
      every: '1h',
    });
    for (const mode of CANAL_FAULT_MODES) expect(parseCanalFaultArg(`d:${mode}`).mode).toBe(mode);
  });

  it('names what is wrong', () => {
    expect(() => parseCanalFaultArg('d:melt')).toThrow(/unknown canal fault "melt"/);
    expect(() => parseCanalFaultArg('d:timeout:2')).toThrow(/p must be within 0..1/);
    expect(() => parseCanalFaultArg('d:exception:0')).toThrow(/code must be an integer 1..255/);
    expect(() => parseCanalFaultArg('d:busy:code=3')).toThrow(/unknown parameter "code"/);
    expect(() => parseCanalFaultArg('d:offline:soon')).toThrow(/invalid duration/);
  });

  it('windows and shares are deterministic per seed and request number', () => {
    const f = resolveCanalFault(
      { device: '*', mode: 'timeout', p: 0.3, after: '1m', for: '1m' },
      { seed: 1, simStart: 0, deviceId: 'd' },
    );
    expect(f.active(30_000)).toBe(false);
    expect(f.active(90_000)).toBe(true);
    expect(f.active(150_000)).toBe(false);
    const hits = Array.from({ length: 1000 }, (_, n) => f.hits(90_000, n)).filter(Boolean).length;
    expect(hits).toBeGreaterThan(240);
    expect(hits).toBeLessThan(360);
    expect(Array.from({ length: 50 }, (_, n) => f.hits(90_000, n))).toEqual(
      Array.from({ length: 50 }, (_, n) => f.hits(90_000, n)),
    );
    expect(f.label).toBe('timeout(p=0.3,after=1m,for=1m)');
  });
});
