import { freePort } from '@cnx/testkit';
import { ServerTCP } from 'modbus-serial';
import type { RegisterImage } from './register-image';

/** What a simulated device does with the next requests. */
export type Fault =
  | { kind: 'none' }
  /** Never answers (the master times out). */
  | { kind: 'timeout' }
  /** Answers with a Modbus exception (6 = busy). */
  | { kind: 'exception'; code: number }
  /** Answers correctly after a delay. */
  | { kind: 'slow'; delayMs: number };

type Cb = (err: unknown, value?: unknown) => void;

/**
 * Modbus TCP test station on modbus-serial's ServerTCP (port from freePort, ServerTCP treats 0 as
 * 502): one server answering several unit ids, each with its own register image and fault. Used until
 * @cnx/firmware-sim's canal stations exist, and for the faults they may not offer.
 */
export class TcpStation {
  readonly faults = new Map<number, Fault>();
  /** Requests received, by unit id (fault or not). */
  readonly requests = new Map<number, number>();
  private server?: ServerTCP;

  private constructor(
    readonly port: number,
    readonly images: Map<number, RegisterImage>,
  ) {}

  static async start(images: Map<number, RegisterImage>, port?: number): Promise<TcpStation> {
    const s = new TcpStation(port ?? (await freePort()), images);
    await s.listen();
    return s;
  }

  private answer(fn: 3 | 4, addr: number, length: number, unitId: number, cb: Cb): void {
    this.requests.set(unitId, (this.requests.get(unitId) ?? 0) + 1);
    const image = this.images.get(unitId);
    // A TCP-to-RTU gateway whose target does not answer says so (exception 11).
    if (!image) {
      cb({ modbusErrorCode: 11 });
      return;
    }
    const fault = this.faults.get(unitId) ?? { kind: 'none' };
    if (fault.kind === 'timeout') return;
    if (fault.kind === 'exception') {
      cb({ modbusErrorCode: fault.code });
      return;
    }
    const words = image.read(fn, addr, length);
    if (fault.kind === 'slow') setTimeout(() => cb(null, words), fault.delayMs);
    else cb(null, words);
  }

  listen(): Promise<void> {
    const one = (fn: 3 | 4) => (addr: number, unitId: number, cb: Cb) =>
      this.answer(fn, addr, 1, unitId, (e, v) => cb(e, Array.isArray(v) ? v[0] : v));
    const many = (fn: 3 | 4) => (addr: number, length: number, unitId: number, cb: Cb) =>
      this.answer(fn, addr, length, unitId, cb);
    const vector = {
      getHoldingRegister: one(3),
      getInputRegister: one(4),
      getMultipleHoldingRegisters: many(3),
      getMultipleInputRegisters: many(4),
    };
    return new Promise((resolve, reject) => {
      // unitID 255: answer every unit id (the vector decides per unit).
      const server = new ServerTCP(vector as never, { host: '127.0.0.1', port: this.port, unitID: 255 });
      server.on('initialized', () => resolve());
      server.on('serverError', reject);
      server.on('socketError', () => {});
      server.on('error', () => {});
      this.server = server;
    });
  }

  /** Reset every open connection (a device or switch dropping TCP sessions). */
  dropConnections(): number {
    const socks = [...(this.server?.socks.keys() ?? [])];
    for (const s of socks) s.destroy();
    return socks.length;
  }

  get connections(): number {
    return this.server?.socks.size ?? 0;
  }

  /** Stop listening and drop every connection (the device is gone). */
  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    this.dropConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Come back on the same port. */
  restart(): Promise<void> {
    return this.listen();
  }
}
