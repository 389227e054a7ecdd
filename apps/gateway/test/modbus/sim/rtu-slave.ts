import { SerialPort } from 'serialport';
import type { RegisterImage } from './register-image';
import type { Fault } from './tcp-station';

/** Modbus CRC-16 (polynomial 0xA001 reflected, initial 0xFFFF), low byte first on the wire. */
export function crc16(buf: Uint8Array): number {
  let crc = 0xffff;
  for (const b of buf) {
    crc ^= b;
    for (let i = 0; i < 8; i++) crc = crc & 1 ? (crc >>> 1) ^ 0xa001 : crc >>> 1;
  }
  return crc;
}

export type RtuFault = Fault | { kind: 'crc' };

/**
 * A Modbus RTU slave (several unit ids on one line, as on an RS-485 bus) on one end of a socat pty
 * pair. Requests for other unit ids are ignored, as a real slave does. Faults per unit id, including
 * a corrupted CRC. Optionally emulates the wire time of the configured baud rate (a pty moves bytes
 * instantly): the answer leaves after request + t3.5 + answer transmission time.
 */
export class RtuSlave {
  readonly faults = new Map<number, RtuFault>();
  readonly requests = new Map<number, number>();
  /** Requests that arrived while an answer was still pending: a master that does not wait. */
  overlaps = 0;
  private pendingAnswers = 0;
  private port?: SerialPort;
  private buf = Buffer.alloc(0);

  constructor(
    readonly path: string,
    readonly images: Map<number, RegisterImage>,
    /** Emulate wire time at this many bits/s with this many bits per character (e.g. 9600, 10). */
    readonly wire?: { baudRate: number; bitsPerChar: number },
  ) {}

  async start(): Promise<void> {
    const port = new SerialPort({ path: this.path, baudRate: this.wire?.baudRate ?? 9600, autoOpen: false });
    await new Promise<void>((resolve, reject) => port.open((e) => (e ? reject(e) : resolve())));
    port.on('data', (d: Buffer) => this.onData(d));
    port.on('error', () => {});
    this.port = port;
  }

  async stop(): Promise<void> {
    const port = this.port;
    this.port = undefined;
    if (port?.isOpen) await new Promise<void>((resolve) => port.close(() => resolve()));
  }

  private charMs(): number {
    return this.wire ? (this.wire.bitsPerChar * 1000) / this.wire.baudRate : 0;
  }

  private onData(d: Buffer): void {
    this.buf = Buffer.concat([this.buf, d]);
    // Read requests (fn 3/4) are 8 bytes; resynchronise on a bad CRC by dropping a byte.
    while (this.buf.length >= 8) {
      const frame = this.buf.subarray(0, 8);
      if (crc16(frame.subarray(0, 6)) !== frame.readUInt16LE(6)) {
        this.buf = this.buf.subarray(1);
        continue;
      }
      this.buf = this.buf.subarray(8);
      this.handle(Buffer.from(frame));
    }
  }

  private handle(req: Buffer): void {
    const unit = req[0] as number;
    const fn = req[1] as number;
    if (this.pendingAnswers > 0) this.overlaps++;
    const image = this.images.get(unit);
    if (!image) return; // not addressed to us
    this.requests.set(unit, (this.requests.get(unit) ?? 0) + 1);
    const fault = this.faults.get(unit) ?? { kind: 'none' };
    if (fault.kind === 'timeout') return;
    let pdu: Buffer;
    if (fn !== 3 && fn !== 4) pdu = Buffer.from([unit, fn | 0x80, 1]);
    else if (fault.kind === 'exception') pdu = Buffer.from([unit, fn | 0x80, fault.code]);
    else {
      const address = req.readUInt16BE(2);
      const length = req.readUInt16BE(4);
      const words = image.read(fn, address, length);
      pdu = Buffer.alloc(3 + 2 * length);
      pdu[0] = unit;
      pdu[1] = fn;
      pdu[2] = 2 * length;
      words.forEach((w, i) => {
        pdu.writeUInt16BE(w, 3 + 2 * i);
      });
    }
    const out = Buffer.alloc(pdu.length + 2);
    pdu.copy(out);
    out.writeUInt16LE(crc16(pdu), pdu.length);
    if (fault.kind === 'crc') out.writeUInt16LE(out.readUInt16LE(pdu.length) ^ 0x5a5a, pdu.length);
    const c = this.charMs();
    // Request on the wire (8 chars) + t3.5 end-of-frame silence + the answer's own transmission.
    let delay = c ? 8 * c + 3.5 * c + out.length * c : 0;
    if (fault.kind === 'slow') delay += fault.delayMs;
    const send = () => {
      this.pendingAnswers--;
      this.port?.write(out);
    };
    this.pendingAnswers++;
    if (delay > 0) setTimeout(send, delay);
    else send();
  }
}
