import { describe, expect, it } from 'vitest';
import {
  decodeBlock,
  decodeRaw,
  decodeStatus,
  decodeValue,
  encodeRaw,
  encodeStatus,
  encodeValue,
  type RegisterDef,
  type RegisterType,
  registerWidth,
  WORD_ORDERS,
} from '../src/index';

const reg = (type: RegisterType, extra: Partial<RegisterDef> = {}): RegisterDef => ({
  name: 'x',
  address: 0,
  fn: 3,
  type,
  description: 'test',
  ...extra,
});

describe('register widths', () => {
  it('16-bit types take one register, 32-bit types two', () => {
    expect(registerWidth('int16')).toBe(1);
    expect(registerWidth('uint16')).toBe(1);
    expect(registerWidth('int32')).toBe(2);
    expect(registerWidth('uint32')).toBe(2);
    expect(registerWidth('float32')).toBe(2);
  });
});

describe('word orders', () => {
  it('place bytes A B C D as documented (0x11223344)', () => {
    expect(encodeRaw('uint32', 0x11223344, 'ABCD')).toEqual([0x1122, 0x3344]);
    expect(encodeRaw('uint32', 0x11223344, 'CDAB')).toEqual([0x3344, 0x1122]);
    expect(encodeRaw('uint32', 0x11223344, 'BADC')).toEqual([0x2211, 0x4433]);
    expect(encodeRaw('uint32', 0x11223344, 'DCBA')).toEqual([0x4433, 0x2211]);
  });

  it('12.5 as float32 (0x41480000) in each order, the docs/modbus.md example', () => {
    expect(encodeValue(reg('float32'), 12.5, 'ABCD')).toEqual([0x4148, 0x0000]);
    expect(encodeValue(reg('float32'), 12.5, 'CDAB')).toEqual([0x0000, 0x4148]);
    expect(encodeValue(reg('float32'), 12.5, 'BADC')).toEqual([0x4841, 0x0000]);
    expect(encodeValue(reg('float32'), 12.5, 'DCBA')).toEqual([0x0000, 0x4841]);
  });

  const cases: Record<'float32' | 'int32' | 'uint32', number[]> = {
    float32: [
      0,
      12.5,
      -12.5,
      Math.fround(1.64),
      Math.fround(-273.15),
      Math.fround(3.4e38),
      Math.fround(-3.4e38),
      Math.fround(1e-40),
      Infinity,
      -Infinity,
    ],
    int32: [0, 1, -1, 2147483647, -2147483648, -123456, 65536, -65536],
    uint32: [0, 1, 65535, 65536, 4294967295, 123456789],
  };
  for (const order of WORD_ORDERS) {
    for (const [type, values] of Object.entries(cases) as [RegisterType, number[]][]) {
      it(`${type} round-trips in ${order}, negatives and extremes included`, () => {
        for (const v of values) {
          const words = encodeValue(reg(type), v, order);
          expect(words).toHaveLength(2);
          for (const w of words) expect(w >= 0 && w <= 0xffff && Number.isInteger(w)).toBe(true);
          expect(decodeValue(reg(type), words, order)).toBe(v);
        }
      });
    }
  }

  it('decoding in the wrong order gives a different value (the bug this setting exists for)', () => {
    const words = encodeValue(reg('float32'), 1.64, 'CDAB');
    expect(decodeValue(reg('float32'), words, 'ABCD')).not.toBeCloseTo(1.64, 3);
  });

  it("a register's own wordOrder beats the map default, both ways", () => {
    const def = reg('float32', { wordOrder: 'DCBA' });
    expect(encodeValue(def, 12.5, 'ABCD')).toEqual([0x0000, 0x4841]);
    expect(decodeValue(def, [0x0000, 0x4841], 'CDAB')).toBe(12.5);
  });

  it('float32 keeps single precision (values are exact float32 numbers)', () => {
    const words = encodeValue(reg('float32'), 1.64, 'ABCD');
    expect(decodeValue(reg('float32'), words)).toBe(Math.fround(1.64));
  });
});

describe('NaN (probe fault)', () => {
  it('NaN encodes as the quiet NaN 0x7FC00000 in every order and decodes back to NaN', () => {
    expect(encodeValue(reg('float32'), Number.NaN, 'ABCD')).toEqual([0x7fc0, 0x0000]);
    expect(encodeValue(reg('float32'), Number.NaN, 'CDAB')).toEqual([0x0000, 0x7fc0]);
    for (const order of WORD_ORDERS) {
      expect(decodeValue(reg('float32'), encodeValue(reg('float32'), Number.NaN, order), order)).toBeNaN();
    }
  });

  it('any NaN bit pattern a probe serves decodes to NaN, scaled or not', () => {
    for (const pattern of [
      [0x7fc0, 0x0000],
      [0xffff, 0xffff],
      [0x7f80, 0x0001],
    ]) {
      expect(decodeValue(reg('float32'), pattern, 'ABCD')).toBeNaN();
      expect(decodeValue(reg('float32', { scale: 0.1, offset: 5 }), pattern, 'ABCD')).toBeNaN();
    }
  });

  it('integer types cannot carry NaN or infinities: encoding throws', () => {
    expect(() => encodeValue(reg('int16'), Number.NaN)).toThrow(RangeError);
    expect(() => encodeValue(reg('uint32'), Number.POSITIVE_INFINITY)).toThrow(RangeError);
  });
});

describe('16-bit types, scale and offset', () => {
  it('int16 is two’s complement', () => {
    expect(encodeRaw('int16', -1)).toEqual([0xffff]);
    expect(decodeRaw('int16', [0xffff])).toBe(-1);
    expect(decodeRaw('int16', [0x8000])).toBe(-32768);
    expect(decodeRaw('uint16', [0xffff])).toBe(65535);
  });

  it('scale 0.001 decodes to exact decimals (raw 1234 -> 1.234) and back', () => {
    const level = reg('int16', { scale: 0.001 });
    expect(decodeValue(level, [1234])).toBe(1.234);
    expect(encodeValue(level, 1.234)).toEqual([1234]);
    expect(encodeValue(level, -0.5)).toEqual([0xfe0c]);
    expect(decodeValue(level, [0xfe0c])).toBe(-0.5);
    for (const v of [0, 0.001, 0.123, 1.4, 2.25, 32.767, -32.768])
      expect(decodeValue(level, encodeValue(level, v))).toBe(v);
  });

  it('scale 0.1 rounds to the register resolution', () => {
    const t = reg('int16', { scale: 0.1 });
    expect(encodeValue(t, 27.46)).toEqual([275]);
    expect(decodeValue(t, [275])).toBe(27.5);
  });

  it('value = raw * scale + offset, also for non-decimal scales', () => {
    const temp = reg('uint16', { scale: 0.1, offset: -40 });
    expect(decodeValue(temp, [653])).toBeCloseTo(25.3, 10);
    expect(encodeValue(temp, 25.3)).toEqual([653]);
    const doubled = reg('uint16', { scale: 2, offset: 1 });
    expect(decodeValue(doubled, [7])).toBe(15);
    expect(encodeValue(doubled, 15)).toEqual([7]);
    const pressure = reg('int32', { scale: 0.1 });
    expect(decodeValue(pressure, encodeValue(pressure, -12.3, 'CDAB'), 'CDAB')).toBe(-12.3);
  });

  it('integers saturate at the type range (as an ADC clamps)', () => {
    expect(encodeRaw('uint16', 70000)).toEqual([0xffff]);
    expect(encodeRaw('uint16', -3)).toEqual([0]);
    expect(encodeRaw('int16', -40000)).toEqual([0x8000]);
    expect(encodeValue(reg('int16', { scale: 0.001 }), 40)).toEqual([0x7fff]);
  });

  it('rejects words that are not uint16 and the wrong word count', () => {
    expect(() => decodeRaw('uint16', [70000])).toThrow(/not a uint16 word/);
    expect(() => decodeRaw('float32', [1])).toThrow(/expected 2 register word/);
  });
});

describe('decodeBlock', () => {
  const block = {
    fn: 3 as const,
    address: 10,
    length: 6,
    wordOrder: 'CDAB' as const,
    registers: [
      reg('int16', { name: 'level', address: 10, scale: 0.001 }),
      reg('uint16', { name: 'status', address: 11 }),
      reg('float32', { name: 'do', address: 12 }),
      reg('float32', { name: 'ph', address: 14, wordOrder: 'ABCD' }),
    ],
  };

  it('decodes every register by name, each in its word order', () => {
    const words = [
      ...encodeValue(block.registers[0]!, 1.25),
      5,
      ...encodeValue(block.registers[2]!, 12.5, 'CDAB'),
      ...encodeValue(block.registers[3]!, 7.5, 'ABCD'),
    ];
    expect(decodeBlock(block, words)).toEqual({ level: 1.25, status: 5, do: 12.5, ph: 7.5 });
  });

  it('throws when the word count does not match the block', () => {
    expect(() => decodeBlock(block, [1, 2, 3])).toThrow(/expected 6 words, got 3/);
  });
});

describe('status bits', () => {
  const map = { status: { register: 'status', bits: { probe_fault: 0, low_battery: 1, cleaning: 2 } } };
  it('named flags to a uint16 and back', () => {
    expect(encodeStatus(map, { probe_fault: true, cleaning: true })).toBe(0b101);
    expect(decodeStatus(map, 0b110)).toEqual({ probe_fault: false, low_battery: true, cleaning: true });
    expect(decodeStatus({}, 7)).toEqual({});
  });
});
