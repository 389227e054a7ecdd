import { registerWidth } from './codec';
import type { ReadBlock, ReadFunction, RegisterDef, RegisterMap } from './types';

/** Modbus application protocol v1.1b3, 6.3/6.4: at most 125 registers per read (0x7D). */
export const MAX_READ_REGISTERS = 125;

/**
 * Group a map's registers into as few read requests as possible: registers of the same function code
 * whose addresses are contiguous, or separated by at most `maxGap` unmapped registers (read and
 * discarded), become one block of at most `maxLen` registers. Blocks come out ordered by function code
 * (3, then 4) and address. On a 9600-baud RS-485 bus every request costs ~50-85 ms with turnaround,
 * so one 11-register read beats three small ones; a gap is worth reading through only when the
 * device tolerates reads of unmapped addresses (many answer exception 2), hence the default 0.
 *
 * Each block's registers are copies with their effective word order filled in (32-bit types), so
 * decodeBlock(block, words) needs nothing else.
 */
export function planReads(
  map: Pick<RegisterMap, 'registers' | 'wordOrder'>,
  maxGap = 0,
  maxLen = MAX_READ_REGISTERS,
): ReadBlock[] {
  if (!Number.isInteger(maxGap) || maxGap < 0) throw new RangeError(`maxGap must be an integer >= 0, got ${maxGap}`);
  if (!Number.isInteger(maxLen) || maxLen < 1 || maxLen > MAX_READ_REGISTERS) {
    throw new RangeError(`maxLen must be an integer within 1..${MAX_READ_REGISTERS}, got ${maxLen}`);
  }
  const blocks: ReadBlock[] = [];
  for (const fn of [3, 4] as ReadFunction[]) {
    const regs = map.registers
      .filter((r) => r.fn === fn)
      .map(
        (r): RegisterDef =>
          registerWidth(r.type) === 2 ? { ...r, wordOrder: r.wordOrder ?? map.wordOrder } : { ...r },
      )
      .sort((a, b) => a.address - b.address || registerWidth(b.type) - registerWidth(a.type));
    let cur: ReadBlock | undefined;
    for (const r of regs) {
      const width = registerWidth(r.type);
      if (width > maxLen)
        throw new RangeError(`register ${r.name} is ${width} registers wide, more than maxLen ${maxLen}`);
      const end = r.address + width;
      if (cur && r.address - (cur.address + cur.length) <= maxGap && end - cur.address <= maxLen) {
        cur.length = Math.max(cur.length, end - cur.address);
        cur.registers.push(r);
      } else {
        cur = { fn, address: r.address, length: width, registers: [r], wordOrder: map.wordOrder };
        blocks.push(cur);
      }
    }
  }
  return blocks;
}
