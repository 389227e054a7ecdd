/**
 * A Modbus RTU slave side of one RS-485 bus, on a serial device (a socat pseudo-terminal in tests, a
 * USB-RS485 adapter in the field). Several simulated stations share a bus, each at its unit id, as
 * probes do in a field cabinet.
 *
 * Written on `serialport` rather than modbus-serial's ServerSerial because ServerSerial (8.0.x)
 * recomputes the CRC of every incoming frame instead of checking it (a corrupted request is answered
 * instead of ignored), frames by a fixed 30 ms timer instead of the 3.5-character silence, and gives
 * no way to corrupt a response CRC for the bad-crc fault.
 *
 * Framing (Modbus over Serial Line 2.5.1.1): a frame ends after 3.5 character times of silence. Frames
 * with a bad CRC, for another unit id, or too short are ignored (the master times out), as on a real
 * bus. Broadcast (unit 0) writes are applied by every station and never answered.
 *
 * Line speed: a pty moves bytes instantly, so by default the response is held back by the time the
 * request and the response would take on the wire at the configured baud rate; a master then sees the
 * same request rate as on a real 9600-baud bus.
 */
import { SerialPort } from 'serialport';
import { Waits } from '../util/waits';
import {
  bitsPerChar,
  crcValid,
  encodeRtuResponse,
  interFrameMs,
  type ModbusOutcome,
  type ModbusRequest,
  parseRtuRequest,
} from './modbus';

export interface RtuSlave {
  handle(unit: number, req: ModbusRequest): ModbusOutcome;
}

export interface RtuBusOptions {
  /** Serial device to open: the simulator's end of a socat pty pair, or a real adapter. */
  path: string;
  baudRate?: number;
  parity?: 'none' | 'even' | 'odd';
  stopBits?: 1 | 2;
  /** Delay answers by the request and response wire time at baudRate (default true). */
  emulateLineSpeed?: boolean;
}

export interface RtuBusStats {
  framesIn: number;
  /** Frames ignored because their CRC was wrong (or shorter than 4 bytes). */
  badFrames: number;
  /** Frames for unit ids no station on this bus has. */
  otherUnits: number;
  responses: number;
}

export interface RtuBus {
  readonly path: string;
  readonly baudRate: number;
  readonly parity: 'none' | 'even' | 'odd';
  readonly stopBits: 1 | 2;
  attach(unitId: number, slave: RtuSlave): void;
  start(): Promise<void>;
  stop(): Promise<void>;
  stats(): RtuBusStats;
}

export function createRtuBus(opts: RtuBusOptions): RtuBus {
  const baudRate = opts.baudRate ?? 9600;
  const parity = opts.parity ?? 'none';
  const stopBits = opts.stopBits ?? 1;
  const charBits = bitsPerChar(parity, stopBits);
  const silenceMs = interFrameMs(baudRate, charBits);
  const emulate = opts.emulateLineSpeed ?? true;
  const slaves = new Map<number, RtuSlave>();
  const stats: RtuBusStats = { framesIn: 0, badFrames: 0, otherUnits: 0, responses: 0 };

  let port: SerialPort | undefined;
  let chunks: Buffer[] = [];
  let frameTimer: ReturnType<typeof setTimeout> | undefined;
  let waits = new Waits();
  /** One frame at a time: the bus is half-duplex. */
  let chain: Promise<void> = Promise.resolve();
  let stopped = false;

  const wireMs = (bytes: number) => (bytes * charBits * 1000) / baudRate;

  async function processFrame(frame: Buffer): Promise<void> {
    stats.framesIn++;
    if (!crcValid(frame)) {
      stats.badFrames++;
      return;
    }
    const { unit, request } = parseRtuRequest(frame);
    if (unit === 0) {
      // Broadcast: writes only, applied everywhere, never answered (Serial Line 2.1).
      if (request.fn === 6 || request.fn === 16) for (const s of slaves.values()) s.handle(0, request);
      return;
    }
    const slave = slaves.get(unit);
    if (!slave) {
      stats.otherUnits++;
      return;
    }
    const outcome = slave.handle(unit, request);
    const response = encodeRtuResponse(unit, request, outcome);
    if (!response) return;
    if (emulate) await waits.sleep(wireMs(frame.length + response.length));
    if (stopped || !port?.isOpen) return;
    port.write(response);
    stats.responses++;
  }

  const onData = (data: Buffer) => {
    chunks.push(data);
    if (frameTimer) clearTimeout(frameTimer);
    frameTimer = setTimeout(() => {
      frameTimer = undefined;
      const frame = Buffer.concat(chunks);
      chunks = [];
      chain = chain.then(() => processFrame(frame)).catch(() => {});
    }, silenceMs);
  };

  return {
    path: opts.path,
    baudRate,
    parity,
    stopBits,
    attach(unitId, slave) {
      if (!(Number.isInteger(unitId) && unitId >= 1 && unitId <= 247)) {
        throw new Error(`RTU unit id must be 1..247, got ${unitId}`);
      }
      if (slaves.has(unitId)) throw new Error(`RTU bus ${opts.path}: unit id ${unitId} is taken`);
      slaves.set(unitId, slave);
    },
    start() {
      stopped = false;
      waits = new Waits();
      return new Promise((resolve, reject) => {
        const p = new SerialPort({ path: opts.path, baudRate, parity, stopBits, dataBits: 8, autoOpen: false });
        p.on('data', onData);
        p.on('error', () => {}); // reported through open()'s callback; later errors end in 'close'
        p.open((e) => {
          if (e) reject(new Error(`RTU bus ${opts.path}: ${e.message}`));
          else {
            port = p;
            resolve();
          }
        });
      });
    },
    async stop() {
      stopped = true;
      if (frameTimer) clearTimeout(frameTimer);
      frameTimer = undefined;
      waits.cancelAll();
      chunks = [];
      const p = port;
      port = undefined;
      if (p?.isOpen) await new Promise<void>((resolve) => p.close(() => resolve()));
      p?.removeAllListeners();
    },
    stats: () => ({ ...stats }),
  };
}
