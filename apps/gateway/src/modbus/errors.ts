/**
 * Modbus request failures, classified by kind. The kinds are stable: they are the `kind` label of
 * `gateway_modbus_errors_total` and the keys of `errors` in GET /modbus/status.
 *
 * - timeout:    no (complete) answer within the device's timeoutMs.
 * - exception:  the device answered with a Modbus exception response (function code | 0x80); the
 *               exception code is kept (Modbus Application Protocol v1.1b3, section 7).
 * - crc:        an RTU frame whose CRC-16 does not match (noise, a collision on the RS-485 pair).
 * - frame:      an answer of the wrong length, unit id or function code (a late answer to another
 *               request, a misbehaving device or gateway).
 * - connection: the TCP connection or serial port could not be opened or was lost.
 * - decode:     the registers arrived but could not be turned into values (codec error, NaN or an
 *               impossible value rejected by the pipeline).
 */
import { performance } from 'node:perf_hooks';

export const MODBUS_ERROR_KINDS = ['timeout', 'exception', 'crc', 'frame', 'connection', 'decode'] as const;
export type ModbusErrorKind = (typeof MODBUS_ERROR_KINDS)[number];

/** Exception codes (MODBUS Application Protocol Specification v1.1b3, section 7). */
export const MODBUS_EXCEPTIONS: Readonly<Record<number, string>> = {
  1: 'illegal function',
  2: 'illegal data address',
  3: 'illegal data value',
  4: 'server device failure',
  5: 'acknowledge',
  6: 'server device busy',
  8: 'memory parity error',
  10: 'gateway path unavailable',
  11: 'gateway target device failed to respond',
};

/**
 * Exceptions worth retrying at once: the device (or a TCP-to-RTU gateway in front of it) says "not
 * now" (5, 6) or the gateway could not reach it this time (10, 11). 1–4 and 8 mean the request or the
 * register map is wrong, or the device is broken: the same request would fail again.
 */
const RETRYABLE_EXCEPTIONS = new Set([5, 6, 10, 11]);

export class ModbusRequestError extends Error {
  constructor(
    readonly kind: ModbusErrorKind,
    message: string,
    /** Modbus exception code, for kind 'exception'. */
    readonly exceptionCode?: number,
    /** Round trip until the answer, when there was one (exception, crc, frame). */
    readonly rttMs?: number,
  ) {
    super(message);
    this.name = 'ModbusRequestError';
  }

  /** Whether repeating the same request within this poll can help. */
  get retryable(): boolean {
    if (this.kind === 'exception') return RETRYABLE_EXCEPTIONS.has(this.exceptionCode ?? -1);
    return this.kind !== 'decode';
  }

  /** Busy-type exceptions: wait a little before retrying (the device asked for it). */
  get busy(): boolean {
    return this.kind === 'exception' && (this.exceptionCode === 5 || this.exceptionCode === 6);
  }
}

const CONNECTION_ERRNOS = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTCONN',
  'ENOENT',
  'EACCES',
  'EIO',
  'EBADF',
]);

/**
 * Map an error thrown or passed back by modbus-serial (or by our adapters) to a ModbusRequestError.
 * modbus-serial signals: TransactionTimedOutError (errno ETIMEDOUT), `modbusCode` on exception
 * responses, "CRC error", "Data length error"/"Unexpected data error" for malformed answers,
 * PortNotOpenError and socket errnos for connection problems.
 */
export function classifyModbusError(e: unknown, rttMs?: number): ModbusRequestError {
  if (e instanceof ModbusRequestError) return e;
  const err = (e ?? {}) as { message?: string; errno?: unknown; code?: unknown; modbusCode?: unknown; name?: string };
  const message = typeof err.message === 'string' && err.message ? err.message : String(e);
  if (typeof err.modbusCode === 'number') {
    const code = err.modbusCode;
    return new ModbusRequestError(
      'exception',
      `exception ${code} (${MODBUS_EXCEPTIONS[code] ?? 'unknown'})`,
      code,
      rttMs,
    );
  }
  if (err.errno === 'ETIMEDOUT' || err.name === 'TransactionTimedOutError')
    return new ModbusRequestError('timeout', 'no answer within the timeout');
  if (/CRC error/i.test(message)) return new ModbusRequestError('crc', 'bad CRC in the answer', undefined, rttMs);
  if (/Data length error|Unexpected data error/i.test(message))
    return new ModbusRequestError('frame', message, undefined, rttMs);
  const errno = typeof err.errno === 'string' ? err.errno : typeof err.code === 'string' ? err.code : undefined;
  if (err.name === 'PortNotOpenError' || (errno !== undefined && CONNECTION_ERRNOS.has(errno)))
    return new ModbusRequestError('connection', `${errno ?? err.name}: ${message}`);
  // Anything else from a transport is a connection-level problem (socket/port state we do not know).
  return new ModbusRequestError('connection', message);
}

/** Node-style callback of modbus-serial's writeFC3/writeFC4. */
type ReadCallback = (err: unknown, res?: { data: number[] }) => void;

/** What `readRegisters` needs of a modbus-serial client (TCP or RTU). */
interface RegisterReader {
  writeFC3(unit: number, address: number, length: number, cb: never): void;
  writeFC4(unit: number, address: number, length: number, cb: never): void;
}

/**
 * One function 3/4 read on a modbus-serial client, its failure classified (rtt measured from `t0`,
 * a performance.now() value). `onPending` gets the promise's reject, so the adapter can fail the
 * request from outside (port closed, bus stopped) instead of waiting for modbus-serial's timeout.
 */
export function readRegisters(
  client: RegisterReader,
  req: { unitId: number; fn: 3 | 4; address: number; length: number },
  t0: number,
  onPending: (fail: (e: ModbusRequestError) => void) => void,
): Promise<number[]> {
  return new Promise<number[]>((resolve, reject) => {
    onPending(reject);
    const cb: ReadCallback = (e, res) => {
      if (e) reject(classifyModbusError(e, performance.now() - t0));
      else resolve(res?.data ?? []);
    };
    if (req.fn === 3) client.writeFC3(req.unitId, req.address, req.length, cb as never);
    else client.writeFC4(req.unitId, req.address, req.length, cb as never);
  });
}
