/**
 * A station's register image: the map's registers encoded from engineering values, and the read /
 * write rules a small field logger applies. Pure.
 */
import {
  decodeValue,
  encodeValue,
  type RegisterDef,
  type RegisterMap,
  registerWidth,
  type WordOrder,
} from '@cnx/device-models';
import { EXCEPTION, type ModbusOutcome } from './modbus';

/** Modbus Application Protocol 6.3/6.4: 1..125 registers per read; 6.12: 1..123 per write. */
const MAX_READ = 125;
const MAX_WRITE = 123;

/** Holding registers a master may write, with their allowed range (anything else: exception 2 / 3). */
export const WRITABLE: Readonly<Record<string, { min: number; max: number }>> = {
  sample_interval: { min: 1, max: 3600 },
};

export type UnmappedReads = 'exception' | 'zero';

export type RegisterImage = Map<number, number>; // key fn * 0x10000 + address -> word

const key = (fn: number, address: number): number => fn * 0x10000 + address;

/** Encode values (by register name) into register words; missing names encode as 0. */
export function buildImage(
  map: RegisterMap,
  wordOrder: WordOrder,
  values: Readonly<Record<string, number>>,
): RegisterImage {
  const image: RegisterImage = new Map();
  for (const def of map.registers) {
    const v = values[def.name] ?? 0;
    const words = encodeValue(def, v, wordOrder);
    words.forEach((w, i) => {
      image.set(key(def.fn, def.address + i), w);
    });
  }
  return image;
}

/** What a master decodes from the image: encode-then-decode, so tests can compare exactly. */
export function servedValues(map: RegisterMap, wordOrder: WordOrder, image: RegisterImage): Record<string, number> {
  const out: Record<string, number> = {};
  for (const def of map.registers) {
    const words = Array.from(
      { length: registerWidth(def.type) },
      (_, i) => image.get(key(def.fn, def.address + i)) ?? 0,
    );
    out[def.name] = decodeValue(def, words, wordOrder);
  }
  return out;
}

/** A read of `quantity` registers from `address` in table fn (3 holding / 4 input). */
export function readImage(
  image: RegisterImage,
  fn: 3 | 4,
  address: number,
  quantity: number,
  unmapped: UnmappedReads,
): ModbusOutcome {
  if (!Number.isInteger(quantity) || quantity < 1 || quantity > MAX_READ) {
    return { kind: 'exception', code: EXCEPTION.ILLEGAL_DATA_VALUE };
  }
  if (address + quantity > 0x10000) return { kind: 'exception', code: EXCEPTION.ILLEGAL_DATA_ADDRESS };
  const words: number[] = [];
  for (let a = address; a < address + quantity; a++) {
    const w = image.get(key(fn, a));
    if (w === undefined) {
      if (unmapped === 'exception') return { kind: 'exception', code: EXCEPTION.ILLEGAL_DATA_ADDRESS };
      words.push(0);
    } else words.push(w);
  }
  return { kind: 'words', words };
}

/**
 * Validate a write of words to holding registers from `address`: every word must land on a writable
 * 16-bit register, within its range. Returns the register names and raw values to store, or an
 * exception outcome.
 */
export function checkWrite(
  map: RegisterMap,
  address: number,
  values: readonly number[],
): { ok: true; writes: { def: RegisterDef; raw: number }[] } | { ok: false; outcome: ModbusOutcome } {
  if (values.length < 1 || values.length > MAX_WRITE) {
    return { ok: false, outcome: { kind: 'exception', code: EXCEPTION.ILLEGAL_DATA_VALUE } };
  }
  const writes: { def: RegisterDef; raw: number }[] = [];
  for (let i = 0; i < values.length; i++) {
    const def = map.registers.find((r) => r.fn === 3 && r.address === address + i && WRITABLE[r.name]);
    if (!def || registerWidth(def.type) !== 1) {
      return { ok: false, outcome: { kind: 'exception', code: EXCEPTION.ILLEGAL_DATA_ADDRESS } };
    }
    const range = WRITABLE[def.name]!;
    const v = decodeValue(def, [values[i]!]);
    if (v < range.min || v > range.max) {
      return { ok: false, outcome: { kind: 'exception', code: EXCEPTION.ILLEGAL_DATA_VALUE } };
    }
    writes.push({ def, raw: v });
  }
  return { ok: true, writes };
}
