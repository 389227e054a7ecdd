/**
 * Modbus protocol pieces shared by the simulated stations' TCP and RTU front ends: request and outcome
 * types, exception codes, CRC-16/MODBUS and RTU frame coding. Pure (Buffers in, Buffers out).
 * References: Modbus Application Protocol v1.1b3 (function codes, exceptions), Modbus over Serial
 * Line v1.02 (RTU framing, CRC, 3.5-character silence).
 */

/** Exception codes (Application Protocol 7). */
export const EXCEPTION = {
  ILLEGAL_FUNCTION: 1,
  ILLEGAL_DATA_ADDRESS: 2,
  ILLEGAL_DATA_VALUE: 3,
  SLAVE_DEVICE_FAILURE: 4,
  SLAVE_DEVICE_BUSY: 6,
} as const;

export type ModbusRequest =
  | { fn: 3 | 4; address: number; quantity: number }
  | { fn: 6; address: number; value: number }
  | { fn: 16; address: number; values: number[] }
  /** Any other function code, or a request of a known code with a malformed body (`bad`). */
  | { fn: number; other: true; bad?: boolean };

export type Transport = 'tcp' | 'rtu';

/**
 * What a station does with a request: answer with register words (reads), confirm a write, answer
 * an exception, stay silent (the master times out), or drop the TCP connection. `badCrc` asks the RTU
 * front end to corrupt the response's CRC.
 */
export type ModbusOutcome =
  | { kind: 'words'; words: number[]; badCrc?: boolean }
  | { kind: 'written'; badCrc?: boolean }
  | { kind: 'exception'; code: number; badCrc?: boolean }
  | { kind: 'silent' }
  | { kind: 'drop' };

/** CRC-16/MODBUS (poly 0xA001 reflected, init 0xFFFF); sent low byte first. */
export function crc16(data: Uint8Array, end = data.length): number {
  let crc = 0xffff;
  for (let i = 0; i < end; i++) {
    crc ^= data[i]!;
    for (let b = 0; b < 8; b++) crc = crc & 1 ? (crc >>> 1) ^ 0xa001 : crc >>> 1;
  }
  return crc;
}

export function withCrc(body: Uint8Array): Buffer {
  const out = Buffer.alloc(body.length + 2);
  out.set(body, 0);
  out.writeUInt16LE(crc16(body), body.length);
  return out;
}

export function crcValid(frame: Uint8Array): boolean {
  if (frame.length < 4) return false;
  return crc16(frame, frame.length - 2) === (frame[frame.length - 2]! | (frame[frame.length - 1]! << 8));
}

/** The request in an RTU frame (unit id first, CRC last; the CRC is checked by the caller). */
export function parseRtuRequest(frame: Uint8Array): { unit: number; request: ModbusRequest } {
  const b = Buffer.from(frame.buffer, frame.byteOffset, frame.length - 2); // without CRC
  const unit = b[0]!;
  const fn = b[1]!;
  if (fn === 3 || fn === 4) {
    if (b.length !== 6) return { unit, request: { fn, other: true, bad: true } };
    return { unit, request: { fn, address: b.readUInt16BE(2), quantity: b.readUInt16BE(4) } };
  }
  if (fn === 6) {
    if (b.length !== 6) return { unit, request: { fn, other: true, bad: true } };
    return { unit, request: { fn, address: b.readUInt16BE(2), value: b.readUInt16BE(4) } };
  }
  if (fn === 16) {
    const qty = b.length >= 7 ? b.readUInt16BE(4) : -1;
    if (b.length < 7 || b[6] !== qty * 2 || b.length !== 7 + qty * 2) {
      return { unit, request: { fn, other: true, bad: true } };
    }
    const values: number[] = [];
    for (let i = 0; i < qty; i++) values.push(b.readUInt16BE(7 + 2 * i));
    return { unit, request: { fn, address: b.readUInt16BE(2), values } };
  }
  return { unit, request: { fn, other: true } };
}

/** The RTU response frame for an outcome, or undefined when nothing is sent (silent, drop). */
export function encodeRtuResponse(unit: number, req: ModbusRequest, outcome: ModbusOutcome): Buffer | undefined {
  let body: Buffer;
  switch (outcome.kind) {
    case 'silent':
    case 'drop':
      return undefined;
    case 'exception':
      body = Buffer.from([unit, (req.fn | 0x80) & 0xff, outcome.code]);
      break;
    case 'words':
      body = Buffer.alloc(3 + 2 * outcome.words.length);
      body[0] = unit;
      body[1] = req.fn;
      body[2] = 2 * outcome.words.length;
      for (const [i, w] of outcome.words.entries()) body.writeUInt16BE(w, 3 + 2 * i);
      break;
    case 'written': {
      body = Buffer.alloc(6);
      body[0] = unit;
      body[1] = req.fn;
      if ('other' in req) return undefined;
      if (req.fn === 6) {
        body.writeUInt16BE(req.address, 2);
        body.writeUInt16BE(req.value, 4);
      } else if (req.fn === 16) {
        body.writeUInt16BE(req.address, 2);
        body.writeUInt16BE(req.values.length, 4);
      }
      break;
    }
  }
  const frame = withCrc(body);
  if (outcome.badCrc) frame.writeUInt16LE(frame.readUInt16LE(frame.length - 2) ^ 0xffff, frame.length - 2);
  return frame;
}

/**
 * Bits on the wire per character: start + 8 data + parity + stop bits (8N1 = 10; the serial-line spec
 * prefers 11 with parity or two stop bits, but 8N1 is what field probes ship with).
 */
export const bitsPerChar = (parity: 'none' | 'even' | 'odd', stopBits: 1 | 2): number =>
  1 + 8 + (parity === 'none' ? 0 : 1) + stopBits;

/**
 * Inter-frame silence t3.5 in ms: 3.5 characters at the baud rate; a fixed 1.75 ms above 19200 baud
 * (Modbus over Serial Line 2.5.1.1).
 */
export const interFrameMs = (baudRate: number, charBits: number): number =>
  baudRate > 19200 ? 1.75 : (3.5 * charBits * 1000) / baudRate;
