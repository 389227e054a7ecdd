/**
 * Modbus TCP front end of a simulated station, on modbus-serial's ServerTCP. ServerTCP parses the
 * MBAP header and the PDU and calls a "service vector" per request; we route every call to the
 * station's handler and translate its outcome: register words, an exception (modbusErrorCode), no
 * callback at all (the master times out), or destroying the station's sockets (dropped connection).
 *
 * ServerTCP quirks worth knowing (modbus-serial 8.0.x): it listens in its constructor and treats port
 * 0 as 502, so a free port must be chosen beforehand; reads of one register go to the single-register
 * vector entries, longer ones to the getMultiple* entries; without getCoil/setCoil entries, coil
 * requests are never answered, so we provide them to answer exception 1 (illegal function).
 */
import type { Socket } from 'node:net';
import { ServerTCP } from 'modbus-serial';
import type { ModbusOutcome, ModbusRequest } from './modbus';

type Cb<T> = (err: { modbusErrorCode: number; message: string } | null, value?: T) => void;

export interface TcpEndpointOptions {
  host: string;
  port: number;
  handle(unit: number, req: ModbusRequest): ModbusOutcome;
  onError?(e: Error): void;
}

export interface TcpEndpoint {
  readonly host: string;
  readonly port: number;
  readonly listening: boolean;
  /** Open connections right now. */
  connections(): number;
  open(): Promise<void>;
  /** Stop listening and destroy every connection (idempotent). */
  close(): Promise<void>;
}

const exceptionError = (code: number) => ({ modbusErrorCode: code, message: `Modbus exception ${code}` });

export function createTcpEndpoint(opts: TcpEndpointOptions): TcpEndpoint {
  let server: ServerTCP | undefined;
  let closing: Promise<void> | undefined;

  const dropAll = () => {
    for (const sock of (server?.socks.keys() ?? []) as Iterable<Socket>) sock.destroy();
  };

  /** Run a request and hand the outcome to ServerTCP's callback (or not, or drop). */
  const serve = <T>(unit: number, req: ModbusRequest, cb: Cb<T>, toValue: (o: ModbusOutcome) => T): void => {
    let outcome: ModbusOutcome;
    try {
      outcome = opts.handle(unit, req);
    } catch (e) {
      opts.onError?.(e as Error);
      outcome = { kind: 'exception', code: 4 };
    }
    switch (outcome.kind) {
      case 'silent':
        return;
      case 'drop':
        // Let the current call stack unwind before the socket goes away.
        setImmediate(dropAll);
        return;
      case 'exception':
        cb(exceptionError(outcome.code));
        return;
      default:
        cb(null, toValue(outcome));
    }
  };
  const words = (o: ModbusOutcome) => (o.kind === 'words' ? o.words : []);
  const first = (o: ModbusOutcome) => (o.kind === 'words' ? (o.words[0] ?? 0) : 0);
  const none = () => undefined;

  // Arity matters: ServerTCP picks the callback style when a vector function declares the cb parameter.
  const vector = {
    getHoldingRegister: (addr: number, unit: number, cb: Cb<number>) =>
      serve(unit, { fn: 3, address: addr, quantity: 1 }, cb, first),
    getMultipleHoldingRegisters: (addr: number, len: number, unit: number, cb: Cb<number[]>) =>
      serve(unit, { fn: 3, address: addr, quantity: len }, cb, words),
    getInputRegister: (addr: number, unit: number, cb: Cb<number>) =>
      serve(unit, { fn: 4, address: addr, quantity: 1 }, cb, first),
    getMultipleInputRegisters: (addr: number, len: number, unit: number, cb: Cb<number[]>) =>
      serve(unit, { fn: 4, address: addr, quantity: len }, cb, words),
    setRegister: (addr: number, value: number, unit: number, cb: Cb<undefined>) =>
      serve(unit, { fn: 6, address: addr, value }, cb, none),
    setRegisterArray: (addr: number, values: number[], unit: number, cb: Cb<undefined>) =>
      serve(unit, { fn: 16, address: addr, values: [...values] }, cb, none),
    getCoil: (_addr: number, unit: number, cb: Cb<boolean>) => serve(unit, { fn: 1, other: true }, cb, () => false),
    getDiscreteInput: (_addr: number, unit: number, cb: Cb<boolean>) =>
      serve(unit, { fn: 2, other: true }, cb, () => false),
    setCoil: (_addr: number, _value: boolean, unit: number, cb: Cb<undefined>) =>
      serve(unit, { fn: 5, other: true }, cb, none),
  };

  return {
    host: opts.host,
    port: opts.port,
    get listening() {
      return server !== undefined;
    },
    connections: () => server?.socks.size ?? 0,
    open() {
      if (server) return Promise.resolve();
      if (!(Number.isInteger(opts.port) && opts.port > 0 && opts.port < 65536)) {
        return Promise.reject(
          new Error(`Modbus TCP port must be 1..65535 (ServerTCP treats 0 as 502), got ${opts.port}`),
        );
      }
      return new Promise((resolve, reject) => {
        // unitID 255: accept every unit id here; the station decides which ones it answers.
        const s = new ServerTCP(vector as never, { host: opts.host, port: opts.port, unitID: 255 });
        const events = s as unknown as NodeJS.EventEmitter;
        events.on('socketError', () => {}); // a master resetting its connection is not our error
        events.on('error', (e: Error) => opts.onError?.(e));
        events.once('initialized', () => {
          server = s;
          resolve();
        });
        events.once('serverError', (e: Error) => {
          s.close(() => {});
          reject(new Error(`Modbus TCP ${opts.host}:${opts.port}: ${e.message}`));
        });
      });
    },
    close() {
      const s = server;
      if (!s) return closing ?? Promise.resolve();
      server = undefined;
      closing = new Promise<void>((resolve) => {
        s.close(() => resolve());
      }).finally(() => {
        closing = undefined;
      });
      return closing;
    },
  };
}
