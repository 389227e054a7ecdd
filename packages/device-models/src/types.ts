import type { MetricId } from '@cnx/domain';

/** Register value types. 16-bit types take one register, 32-bit types two. */
export type RegisterType = 'int16' | 'uint16' | 'int32' | 'uint32' | 'float32';
export const REGISTER_TYPES: readonly RegisterType[] = ['int16', 'uint16', 'int32', 'uint32', 'float32'];

/**
 * Where the 4 bytes A B C D of a 32-bit value (A = most significant, as in big-endian) go in the two
 * registers, first register first. ABCD = big-endian, high word first (Modbus's own byte order applied
 * to both words); CDAB = low word first ("word swapped", common on Chinese RS-485 probes); BADC = bytes
 * swapped inside each word; DCBA = fully little-endian. See docs/modbus.md for a worked example.
 */
export type WordOrder = 'ABCD' | 'CDAB' | 'BADC' | 'DCBA';
export const WORD_ORDERS: readonly WordOrder[] = ['ABCD', 'CDAB', 'BADC', 'DCBA'];

/** Modbus function code used to read a register: 3 = read holding registers, 4 = read input registers. */
export type ReadFunction = 3 | 4;

export interface RegisterDef {
  /** Unique within the map; decodeBlock() results are keyed by it. */
  name: string;
  /** The metric this register measures; absent for status and diagnostic registers. */
  metric?: MetricId;
  /** 0-based protocol (PDU) address: holding register 40001 in "Modicon" notation is address 0. */
  address: number;
  fn: ReadFunction;
  type: RegisterType;
  /** value = raw * scale + offset (defaults 1 and 0). */
  scale?: number;
  offset?: number;
  /** 32-bit types only; default: the map's wordOrder. */
  wordOrder?: WordOrder;
  /** Unit of the decoded value; for a metric, its canonical unit or an alias from @cnx/domain METRICS. */
  unit?: string;
  description: string;
}

export interface RegisterMap {
  /** Device model id, the file name without .json; what a city pack's device `model` names. */
  id: string;
  vendor: string;
  description: string;
  /** Default word order of the map's 32-bit registers. */
  wordOrder: WordOrder;
  registers: RegisterDef[];
  /** A uint16 bit-field register and what its bits mean (bit 0 = least significant). */
  status?: { register: string; bits: Record<string, number> };
}

/**
 * One read request: registers of one function code at contiguous (or nearly, see planReads' maxGap)
 * addresses. `registers` are copies whose 32-bit entries carry their effective word order, so a block
 * decodes on its own; `wordOrder` is the map default the block was planned with.
 */
export interface ReadBlock {
  fn: ReadFunction;
  address: number;
  length: number;
  registers: RegisterDef[];
  wordOrder: WordOrder;
}

/** One problem found in a register map document, as a JSON Pointer path and a message. */
export interface RegisterMapIssue {
  path: string;
  message: string;
  value?: unknown;
}
