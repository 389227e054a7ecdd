import { EventEmitter } from 'node:events';
import { performance } from 'node:perf_hooks';
import { SerialPort } from 'serialport';

export interface SerialLineOptions {
  path: string;
  baudRate: number;
  parity: 'none' | 'even' | 'odd';
  dataBits: 7 | 8;
  stopBits: 1 | 2;
}

/** Bits on the wire per character: start bit + data bits + parity bit (if any) + stop bits. */
export const bitsPerChar = (o: Pick<SerialLineOptions, 'parity' | 'dataBits' | 'stopBits'>): number =>
  1 + o.dataBits + (o.parity === 'none' ? 0 : 1) + o.stopBits;

/**
 * The minimum silence between RTU frames, t3.5, in ms. "Modbus over serial line" v1.02, 2.5.1.1:
 * 3.5 character times; above 19200 baud a fixed 1.75 ms is recommended.
 */
export function interFrameMs(o: Pick<SerialLineOptions, 'baudRate' | 'parity' | 'dataBits' | 'stopBits'>): number {
  if (o.baudRate > 19_200) return 1.75;
  return (3.5 * bitsPerChar(o) * 1000) / o.baudRate;
}

/**
 * A modbus-serial "port" (the object ModbusRTU drives: open/close/write/isOpen, 'data' events) on a
 * real serial device, doing RTU framing ourselves. modbus-serial's RTUBufferedPort keeps bytes across
 * requests, so a late answer to a timed-out request could be taken as the answer to the next one;
 * here each request starts from an empty buffer, bytes arriving while nothing is expected are
 * dropped, and exactly one frame is handed up per request:
 * - the expected unit id first (leading noise is skipped),
 * - then either the expected function code and 5 + 2N bytes (fn 3/4) or fn | 0x80 and 5 bytes
 *   (exception); anything else is handed up once 5 bytes are in, for ModbusRTU to reject (CRC error
 *   or unexpected function code).
 * CRC checking and PDU parsing stay in modbus-serial.
 */
export class RtuFramedPort extends EventEmitter {
  /** ModbusRTU keys transactions by these; a serial line has one outstanding request, so always 1. */
  _transactionIdRead = 1;
  _transactionIdWrite = 1;
  /** performance.now() of the last byte received (for inter-frame silence). */
  lastRxAt = 0;
  /** performance.now() when the last request was handed to the OS. */
  lastTxAt = 0;
  /** Bytes dropped because no answer was expected (late answers, noise). */
  strayBytes = 0;
  private readonly serial: SerialPort;
  private buf: Buffer = Buffer.alloc(0);
  private expect?: { unit: number; fn: number; length: number };

  constructor(opts: SerialLineOptions) {
    super();
    this.serial = new SerialPort({ ...opts, autoOpen: false });
    this.serial.on('data', (d: Buffer) => this.onData(d));
    this.serial.on('error', (e) => this.emit('error', e));
    this.serial.on('close', () => this.emit('close'));
  }

  get isOpen(): boolean {
    return this.serial.isOpen;
  }

  open(cb: (err?: Error | null) => void): void {
    this.serial.open((e) => cb(e));
  }

  close(cb?: (err?: Error | null) => void): void {
    if (!this.serial.isOpen) {
      cb?.();
      return;
    }
    this.serial.close((e) => cb?.(e));
  }

  /** Forget any partial answer (after a timeout). */
  reset(): void {
    this.expect = undefined;
    this.buf = Buffer.alloc(0);
  }

  write(data: Buffer): void {
    const unit = data[0] ?? 0;
    const fn = data[1] ?? 0;
    // Answer length for read functions 3/4: unit + fn + byte count + 2N + CRC.
    const n = fn === 3 || fn === 4 ? data.readUInt16BE(4) : 0;
    this.expect = { unit, fn, length: n > 0 ? 5 + 2 * n : 8 };
    this.buf = Buffer.alloc(0);
    this.serial.write(data);
    // When the write was handed to the OS. (The t3.5 gap that matters is after the answer, see
    // lastRxAt; a tcdrain() per request to learn when the bytes left the UART cost more CPU than the
    // rest of the request and changed nothing.)
    this.lastTxAt = performance.now();
  }

  private onData(d: Buffer): void {
    this.lastRxAt = performance.now();
    const expect = this.expect;
    if (!expect) {
      this.strayBytes += d.length;
      return;
    }
    let buf = this.buf.length ? Buffer.concat([this.buf, d]) : d;
    let skip = 0;
    while (skip < buf.length && buf[skip] !== expect.unit) skip++;
    if (skip) {
      this.strayBytes += skip;
      buf = buf.subarray(skip);
    }
    this.buf = buf;
    if (buf.length < 5) return;
    const fn = buf[1];
    let frame: Buffer | undefined;
    if (fn === expect.fn) {
      if (buf.length >= expect.length) frame = buf.subarray(0, expect.length);
    } else {
      frame = buf.subarray(0, fn === (expect.fn | 0x80) ? 5 : buf.length);
    }
    if (!frame) return;
    this.expect = undefined;
    this.buf = Buffer.alloc(0);
    this.emit('data', frame);
  }
}
