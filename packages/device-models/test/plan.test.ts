import { describe, expect, it } from 'vitest';
import { loadRegisterMap, planReads, type RegisterDef, type RegisterType } from '../src/index';

const r = (
  name: string,
  fn: 3 | 4,
  address: number,
  type: RegisterType = 'uint16',
  extra: Partial<RegisterDef> = {},
): RegisterDef => ({
  name,
  fn,
  address,
  type,
  description: name,
  ...extra,
});
const summary = (blocks: ReturnType<typeof planReads>) =>
  blocks.map((b) => ({ fn: b.fn, address: b.address, length: b.length, names: b.registers.map((x) => x.name) }));

describe('planReads', () => {
  it('merges contiguous registers of one function code into one block, in address order', () => {
    const map = {
      wordOrder: 'ABCD' as const,
      registers: [r('c', 3, 3, 'float32'), r('a', 3, 0), r('b', 3, 1, 'int32')],
    };
    expect(summary(planReads(map))).toEqual([{ fn: 3, address: 0, length: 5, names: ['a', 'b', 'c'] }]);
  });

  it('splits by function code: same addresses, different tables', () => {
    const map = { wordOrder: 'ABCD' as const, registers: [r('in', 4, 0), r('hold', 3, 0), r('in2', 4, 1)] };
    expect(summary(planReads(map))).toEqual([
      { fn: 3, address: 0, length: 1, names: ['hold'] },
      { fn: 4, address: 0, length: 2, names: ['in', 'in2'] },
    ]);
  });

  it('splits at gaps unless maxGap allows reading through them', () => {
    const map = { wordOrder: 'ABCD' as const, registers: [r('a', 3, 0), r('b', 3, 3), r('c', 3, 10)] };
    expect(summary(planReads(map)).map((b) => [b.address, b.length])).toEqual([
      [0, 1],
      [3, 1],
      [10, 1],
    ]);
    expect(summary(planReads(map, 2)).map((b) => [b.address, b.length])).toEqual([
      [0, 4],
      [10, 1],
    ]);
    expect(summary(planReads(map, 6)).map((b) => [b.address, b.length])).toEqual([[0, 11]]);
  });

  it('respects maxLen without splitting a 32-bit register', () => {
    const map = {
      wordOrder: 'ABCD' as const,
      registers: [r('a', 3, 0), r('b', 3, 1, 'float32'), r('c', 3, 3, 'float32'), r('d', 3, 5)],
    };
    expect(summary(planReads(map, 0, 2)).map((b) => [b.address, b.length, b.names])).toEqual([
      [0, 1, ['a']],
      [1, 2, ['b']],
      [3, 2, ['c']],
      [5, 1, ['d']],
    ]);
    expect(summary(planReads(map, 0, 4)).map((b) => [b.address, b.length])).toEqual([
      [0, 3],
      [3, 3],
    ]);
    expect(() => planReads(map, 0, 1)).toThrow(/2 registers wide/);
    expect(() => planReads(map, 0, 126)).toThrow(/maxLen/);
    expect(() => planReads(map, -1)).toThrow(/maxGap/);
  });

  it('fills in the effective word order of 32-bit registers and leaves the map untouched', () => {
    const map = {
      wordOrder: 'CDAB' as const,
      registers: [r('a', 3, 0), r('f', 3, 1, 'float32'), r('g', 3, 3, 'float32', { wordOrder: 'DCBA' })],
    };
    const [block] = planReads(map);
    expect(block?.wordOrder).toBe('CDAB');
    expect(block?.registers.map((x) => x.wordOrder)).toEqual([undefined, 'CDAB', 'DCBA']);
    expect(map.registers[1]?.wordOrder).toBeUndefined();
  });

  it('reads the canal probe measurements in one request', () => {
    const blocks = planReads(loadRegisterMap('cnx-canal-probe-v1'));
    expect(blocks[0]).toMatchObject({ fn: 3, address: 0, length: 11 });
    expect(blocks[0]?.registers.map((x) => x.name)).toEqual([
      'water_level',
      'water_temperature',
      'conductivity',
      'battery',
      'status',
      'do',
      'ph',
      'turbidity',
    ]);
    expect(summary(blocks).map((b) => [b.fn, b.address, b.length])).toEqual([
      [3, 0, 11],
      [3, 512, 1],
      [4, 256, 5],
      [4, 262, 1],
    ]);
  });
});
