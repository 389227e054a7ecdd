import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '@cnx/runtime';
import ModbusRTU from 'modbus-serial';
import { classifyModbusError, ModbusRequestError, readRegisters } from './errors';
import { SerialQueue } from './queue';
import { interFrameMs, RtuFramedPort, type SerialLineOptions } from './rtu-port';
import type { ModbusBus, ReadRequest, ReadResponse } from './transport';

export interface RtuBusOptions extends SerialLineOptions {
  id: string;
  /** After the port failed to open (or was lost), wait this long before trying again. */
  reopenDelayMs: number;
}

/**
 * Modbus RTU master on one RS-485 line (a serial device, or one end of a socat pty pair in tests).
 *
 * One request at a time ("Modbus over serial line" v1.02, 2.4.1: the master waits for the answer or
 * the timeout before the next request), enforced by one FIFO queue for the whole bus, and at least
 * t3.5 of silence before each request (2.5.1.1). After a failed request the line must first be quiet
 * for a while, so a late answer cannot be taken for the next device's answer.
 *
 * A port that cannot be opened fails requests at once with kind 'connection' (no timeout is spent)
 * and is tried again after reopenDelayMs.
 */
export class RtuBusAdapter implements ModbusBus {
  readonly transport = 'rtu' as const;
  private readonly queue = new SerialQueue();
  private port?: RtuFramedPort;
  private client?: ModbusRTU;
  private nextOpenAt = 0;
  private lastError?: string;
  private failCurrent?: (e: ModbusRequestError) => void;
  private stopped = false;
  /** t3.5 in ms for this line's settings. */
  readonly interFrameMs: number;

  constructor(
    private readonly opts: RtuBusOptions,
    private readonly logger: Logger,
  ) {
    this.interFrameMs = interFrameMs(opts);
  }

  get id(): string {
    return this.opts.id;
  }

  get queueDepth(): number {
    return this.queue.depth;
  }

  get connected(): boolean {
    return this.port?.isOpen ?? false;
  }

  /** Bytes dropped because no answer was expected (late answers, noise), for diagnostics. */
  get strayBytes(): number {
    return this.port?.strayBytes ?? 0;
  }

  /** Opens the port; a port that is not there yet is logged, not fatal (tried again on demand). */
  async start(): Promise<void> {
    this.stopped = false;
    await this.open().catch((e: ModbusRequestError) =>
      this.logger.warn({ bus: this.opts.id, path: this.opts.path, err: e.message }, 'modbus rtu port not open yet'),
    );
  }

  read(_client: string, request: ReadRequest): Promise<ReadResponse> {
    if (this.stopped) return Promise.reject(new ModbusRequestError('connection', 'bus stopped'));
    return this.queue.run(() => this.transact(request));
  }

  private async open(): Promise<ModbusRTU> {
    if (this.client && this.port?.isOpen) return this.client;
    if (this.stopped) throw new ModbusRequestError('connection', 'bus stopped');
    const now = Date.now();
    if (now < this.nextOpenAt) {
      throw new ModbusRequestError('connection', `serial port ${this.opts.path} unavailable (${this.lastError})`);
    }
    const { id: _id, reopenDelayMs: _r, ...line } = this.opts;
    const port = new RtuFramedPort(line);
    const client = new ModbusRTU(port);
    client.on('error', (e) => this.logger.debug({ bus: this.opts.id, err: e }, 'modbus rtu port error'));
    try {
      await new Promise<void>((resolve, reject) => client.open((e: unknown) => (e ? reject(e) : resolve())));
    } catch (e) {
      this.lastError = (e as Error).message;
      this.nextOpenAt = now + this.opts.reopenDelayMs;
      throw new ModbusRequestError('connection', `cannot open ${this.opts.path}: ${this.lastError}`);
    }
    port.on('close', () => {
      if (this.port !== port) return;
      this.logger.warn({ bus: this.opts.id, path: this.opts.path }, 'modbus rtu port closed');
      this.port = undefined;
      this.client = undefined;
      this.lastError = 'port closed';
      this.nextOpenAt = Date.now() + this.opts.reopenDelayMs;
      this.failCurrent?.(new ModbusRequestError('connection', `serial port ${this.opts.path} closed`));
    });
    this.port = port;
    this.client = client;
    if (this.lastError) this.logger.info({ bus: this.opts.id, path: this.opts.path }, 'modbus rtu port open');
    this.lastError = undefined;
    return client;
  }

  /** Wait until the line has been silent for at least `ms` (since our last write and last byte in). */
  private async quiet(port: RtuFramedPort, ms: number): Promise<void> {
    for (;;) {
      const since = performance.now() - Math.max(port.lastRxAt, port.lastTxAt);
      if (since >= ms) return;
      await sleep(Math.max(1, Math.ceil(ms - since)));
    }
  }

  private async transact(req: ReadRequest): Promise<ReadResponse> {
    const client = await this.open();
    const port = this.port as RtuFramedPort;
    await this.quiet(port, this.interFrameMs);
    client.setTimeout(req.timeoutMs);
    const sentAt = Date.now();
    const t0 = performance.now();
    try {
      const words = await readRegisters(client, req, t0, (fail) => {
        this.failCurrent = fail;
      });
      return { words, sentAt, rttMs: performance.now() - t0 };
    } catch (e) {
      const err = classifyModbusError(e);
      if (err.kind !== 'exception' && this.port === port) {
        // Let a late or partial answer finish (and be dropped) before anyone else talks.
        port.reset();
        await this.quiet(port, Math.max(4 * this.interFrameMs, 10));
      }
      throw err;
    } finally {
      this.failCurrent = undefined;
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.failCurrent?.(new ModbusRequestError('connection', 'bus stopped'));
    await this.queue.idle();
    const { client, port } = this;
    this.client = undefined;
    this.port = undefined;
    client?.destroy(() => {}); // cancels modbus-serial's pending transaction timers
    if (port) await new Promise<void>((resolve) => port.close(() => resolve()));
  }
}
