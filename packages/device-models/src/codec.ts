/**
 * The register codec: pure functions between uint16 register words and engineering values. No I/O, so
 * the gateway's poller and the simulator share exactly one implementation of word orders and scaling.
 *
 * NaN: a float32 register may hold NaN (many probes serve 0x7FC00000 or another NaN pattern while the
 * sensing element is faulty or warming up). decodeValue returns NaN for it (scale/offset keep it NaN);
 * callers must treat NaN as "no valid measurement", never as a number. Integer types cannot carry NaN:
 * encodeValue throws a RangeError for a non-finite value of an integer type.
 */
import type { ReadBlock, RegisterDef, RegisterMap, RegisterType, WordOrder } from './types';

export function registerWidth(type: RegisterType): 1 | 2 {
  return type === 'int16' || type === 'uint16' ? 1 : 2;
}

const RANGES: Record<Exclude<RegisterType, 'float32'>, [number, number]> = {
  int16: [-0x8000, 0x7fff],
  uint16: [0, 0xffff],
  int32: [-0x80000000, 0x7fffffff],
  uint32: [0, 0xffffffff],
};

/** Byte positions (0 = A, the most significant) in register order for each word order. */
const BYTE_ORDER: Record<WordOrder, readonly [number, number, number, number]> = {
  ABCD: [0, 1, 2, 3],
  CDAB: [2, 3, 0, 1],
  BADC: [1, 0, 3, 2],
  DCBA: [3, 2, 1, 0],
};

function wordsToBigEndian(words: readonly number[], order: WordOrder): DataView {
  const wire = [(words[0]! >> 8) & 0xff, words[0]! & 0xff, (words[1]! >> 8) & 0xff, words[1]! & 0xff];
  const view = new DataView(new ArrayBuffer(4));
  const pos = BYTE_ORDER[order];
  for (let i = 0; i < 4; i++) view.setUint8(pos[i]!, wire[i]!);
  return view;
}

function bigEndianToWords(view: DataView, order: WordOrder): number[] {
  const pos = BYTE_ORDER[order];
  const wire = pos.map((p) => view.getUint8(p));
  return [(wire[0]! << 8) | wire[1]!, (wire[2]! << 8) | wire[3]!];
}

function checkWords(words: readonly number[], n: number, what: string): void {
  if (words.length !== n) throw new RangeError(`${what}: expected ${n} register word(s), got ${words.length}`);
  for (const w of words) {
    if (!Number.isInteger(w) || w < 0 || w > 0xffff) throw new RangeError(`${what}: not a uint16 word: ${w}`);
  }
}

/** The raw (unscaled) number held by `words` (1 or 2 registers, see registerWidth). */
export function decodeRaw(type: RegisterType, words: readonly number[], order: WordOrder = 'ABCD'): number {
  checkWords(words, registerWidth(type), type);
  const w0 = words[0]!;
  switch (type) {
    case 'uint16':
      return w0;
    case 'int16':
      return w0 >= 0x8000 ? w0 - 0x10000 : w0;
    case 'int32':
      return wordsToBigEndian(words, order).getInt32(0);
    case 'uint32':
      return wordsToBigEndian(words, order).getUint32(0);
    case 'float32':
      return wordsToBigEndian(words, order).getFloat32(0);
  }
}

/**
 * Register words for a raw number. Integers are rounded to the nearest and saturated to the type's
 * range (what an ADC or firmware clamp does); non-finite values are a RangeError for integer types.
 * float32 is rounded to single precision; NaN is written as the canonical quiet NaN 0x7FC00000.
 */
export function encodeRaw(type: RegisterType, raw: number, order: WordOrder = 'ABCD'): number[] {
  if (type === 'float32') {
    const view = new DataView(new ArrayBuffer(4));
    if (Number.isNaN(raw)) view.setUint32(0, 0x7fc00000);
    else view.setFloat32(0, raw);
    return bigEndianToWords(view, order);
  }
  if (!Number.isFinite(raw)) throw new RangeError(`${type} cannot hold ${raw}`);
  const [lo, hi] = RANGES[type];
  const n = Math.min(hi, Math.max(lo, Math.round(raw)));
  if (type === 'uint16' || type === 'int16') return [n & 0xffff];
  const view = new DataView(new ArrayBuffer(4));
  if (type === 'int32') view.setInt32(0, n);
  else view.setUint32(0, n);
  return bigEndianToWords(view, order);
}

/**
 * Scaling with decimal-friendly arithmetic: a scale of 0.001 divides by 1000 instead of multiplying by
 * 0.001, so raw 1234 decodes to exactly 1.234 (1234 * 0.001 is 1.2340000000000002 in binary floating
 * point) and encoding 1.234 gives raw 1234.
 */
function inverseScale(scale: number): number | undefined {
  if (scale >= 1 || scale <= -1) return undefined;
  const inv = 1 / scale;
  const r = Math.round(inv);
  return Math.abs(inv - r) < 1e-9 * Math.abs(r) ? r : undefined;
}

export function scaleRaw(def: Pick<RegisterDef, 'scale' | 'offset'>, raw: number): number {
  const scale = def.scale ?? 1;
  const inv = inverseScale(scale);
  const v = inv === undefined ? raw * scale : raw / inv;
  return def.offset ? v + def.offset : v;
}

export function unscaleValue(def: Pick<RegisterDef, 'scale' | 'offset'>, value: number): number {
  const scale = def.scale ?? 1;
  const v = value - (def.offset ?? 0);
  const inv = inverseScale(scale);
  return inv === undefined ? v / scale : v * inv;
}

/** The effective word order of a register: its own, else the map's (or block's) default. */
export const effectiveWordOrder = (def: Pick<RegisterDef, 'wordOrder'>, fallback: WordOrder = 'ABCD'): WordOrder =>
  def.wordOrder ?? fallback;

/** Engineering value of one register from its words. */
export function decodeValue(def: RegisterDef, words: readonly number[], wordOrder: WordOrder = 'ABCD'): number {
  return scaleRaw(def, decodeRaw(def.type, words, effectiveWordOrder(def, wordOrder)));
}

/**
 * Inverse of decodeValue, for simulators and tests: the register words that decode to `value`
 * (after rounding to the register's resolution). `wordOrder` is the map/device default; a register's
 * own wordOrder takes precedence, exactly as when decoding.
 */
export function encodeValue(def: RegisterDef, value: number, wordOrder: WordOrder = 'ABCD'): number[] {
  if (Number.isNaN(value) && def.type === 'float32')
    return encodeRaw('float32', Number.NaN, effectiveWordOrder(def, wordOrder));
  return encodeRaw(def.type, unscaleValue(def, value), effectiveWordOrder(def, wordOrder));
}

/**
 * Decode the words returned for one planned read (see planReads): engineering values keyed by
 * register name. Throws a RangeError when `words` does not have block.length entries.
 */
export function decodeBlock(
  block: Pick<ReadBlock, 'address' | 'length' | 'registers'> & { wordOrder?: WordOrder },
  words: readonly number[],
): Record<string, number> {
  if (words.length !== block.length) {
    throw new RangeError(`block at ${block.address}: expected ${block.length} words, got ${words.length}`);
  }
  const out: Record<string, number> = {};
  for (const def of block.registers) {
    const at = def.address - block.address;
    const width = registerWidth(def.type);
    if (at < 0 || at + width > block.length) {
      throw new RangeError(
        `register ${def.name} (address ${def.address}) lies outside block ${block.address}+${block.length}`,
      );
    }
    out[def.name] = decodeValue(def, words.slice(at, at + width), block.wordOrder ?? 'ABCD');
  }
  return out;
}

/** The status register's bits as named flags (every bit the map names, true when set). */
export function decodeStatus(map: Pick<RegisterMap, 'status'>, value: number): Record<string, boolean> {
  const out: Record<string, boolean> = {};
  if (!map.status) return out;
  for (const [name, bit] of Object.entries(map.status.bits)) out[name] = ((value >>> bit) & 1) === 1;
  return out;
}

/** Inverse of decodeStatus: the uint16 with the named flags set (unknown names are ignored). */
export function encodeStatus(map: Pick<RegisterMap, 'status'>, flags: Readonly<Record<string, boolean>>): number {
  let v = 0;
  for (const [name, bit] of Object.entries(map.status?.bits ?? {})) if (flags[name]) v |= 1 << bit;
  return v & 0xffff;
}
