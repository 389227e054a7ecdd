import { performance } from 'node:perf_hooks';
import type { Logger } from '@cnx/runtime';
import ModbusRTU from 'modbus-serial';
import { classifyModbusError, ModbusRequestError, readRegisters } from './errors';
import { SerialQueue } from './queue';
import type { ModbusBus, ReadRequest, ReadResponse } from './transport';

export interface TcpBusOptions {
  id: string;
  host: string;
  port: number;
  /**
   * 'per-device' (default): one TCP connection per device, so devices are fully independent (a slow
   * or dead probe only ever waits on its own socket). 'shared': one connection for every device on
   * this host:port, requests strictly sequential: for a TCP-to-RTU gateway that serialises anyway.
   */
  connection: 'per-device' | 'shared';
  connectTimeoutMs: number;
}

/**
 * One Modbus TCP connection (MBAP framing, modbus-serial's TcpPort) with its own sequential queue.
 * The socket is opened lazily on the first request and again after it was lost; a request on a lost
 * connection fails at once with kind 'connection' rather than waiting for its timeout.
 */
class TcpConnection {
  readonly queue = new SerialQueue();
  private client?: ModbusRTU;
  private failCurrent?: (e: ModbusRequestError) => void;
  private closed = false;

  constructor(
    private readonly opts: TcpBusOptions,
    /** Per-device sockets are dropped after a timeout: no late answer can be taken for the next one. */
    private readonly dropOnTimeout: boolean,
    private readonly logger: Logger,
  ) {}

  get open(): boolean {
    return this.client?.isOpen ?? false;
  }

  read(req: ReadRequest): Promise<ReadResponse> {
    return this.queue.run(() => this.transact(req));
  }

  private async connect(): Promise<ModbusRTU> {
    if (this.closed) throw new ModbusRequestError('connection', 'bus stopped');
    if (this.client?.isOpen) return this.client;
    this.discard();
    const { host, port, connectTimeoutMs } = this.opts;
    const client = new ModbusRTU();
    // modbus-serial re-emits port errors; without a listener an EventEmitter 'error' would throw.
    client.on('error', (e) => this.logger.debug({ err: e, host, port }, 'modbus tcp socket error'));
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        client.destroy(() => {});
        reject(
          new ModbusRequestError('connection', `connect to ${host}:${port} timed out after ${connectTimeoutMs} ms`),
        );
      }, connectTimeoutMs);
      client.connectTCP(host, { port }, (e: unknown) => {
        clearTimeout(timer);
        if (e) reject(classifyModbusError(e));
        else resolve();
      });
    });
    client.on('close', () => {
      if (this.client !== client) return;
      this.client = undefined;
      this.failCurrent?.(new ModbusRequestError('connection', `connection to ${host}:${port} closed by the peer`));
      client.destroy(() => {}); // cancels modbus-serial's pending transaction timers
    });
    this.client = client;
    return client;
  }

  private async transact(req: ReadRequest): Promise<ReadResponse> {
    const client = await this.connect();
    client.setTimeout(req.timeoutMs);
    const sentAt = Date.now();
    const t0 = performance.now();
    try {
      const words = await readRegisters(client, req, t0, (fail) => {
        this.failCurrent = fail;
      });
      if (words.length !== req.length) {
        throw new ModbusRequestError('frame', `expected ${req.length} registers, got ${words.length}`);
      }
      return { words, sentAt, rttMs: performance.now() - t0 };
    } catch (e) {
      const err = classifyModbusError(e);
      if (err.kind === 'connection' || (err.kind === 'timeout' && this.dropOnTimeout)) this.discard();
      throw err;
    } finally {
      this.failCurrent = undefined;
    }
  }

  private discard(): void {
    const c = this.client;
    this.client = undefined;
    if (c) c.destroy(() => {});
  }

  async close(): Promise<void> {
    this.closed = true;
    this.failCurrent?.(new ModbusRequestError('connection', 'bus stopped'));
    this.discard();
    await this.queue.idle();
  }
}

/**
 * Modbus TCP bus adapter (port 502 by default; MBAP header, no CRC). See TcpBusOptions.connection
 * for how devices map to connections.
 */
export class TcpBusAdapter implements ModbusBus {
  readonly transport = 'tcp' as const;
  private readonly connections = new Map<string, TcpConnection>();
  private stopped = false;

  constructor(
    private readonly opts: TcpBusOptions,
    private readonly logger: Logger,
  ) {}

  get id(): string {
    return this.opts.id;
  }

  get queueDepth(): number {
    let n = 0;
    for (const c of this.connections.values()) n += c.queue.depth;
    return n;
  }

  get connected(): boolean {
    for (const c of this.connections.values()) if (c.open) return true;
    return false;
  }

  /** Connections are opened by the first request of each device (a dead device must not block start-up). */
  async start(): Promise<void> {
    this.stopped = false;
  }

  read(client: string, request: ReadRequest): Promise<ReadResponse> {
    if (this.stopped) return Promise.reject(new ModbusRequestError('connection', 'bus stopped'));
    const key = this.opts.connection === 'shared' ? '*' : client;
    let conn = this.connections.get(key);
    if (!conn) {
      conn = new TcpConnection(this.opts, this.opts.connection === 'per-device', this.logger);
      this.connections.set(key, conn);
    }
    return conn.read(request);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all([...this.connections.values()].map((c) => c.close()));
    this.connections.clear();
  }
}
