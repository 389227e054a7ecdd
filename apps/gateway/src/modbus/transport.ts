/** What the poller asks a bus for: one "read registers" request (function 3 or 4). */
export interface ReadRequest {
  /** Unit id (slave address): 1–247 on a serial line; 0–255 over TCP. */
  unitId: number;
  fn: 3 | 4;
  /** 0-based PDU address of the first register. */
  address: number;
  /** Number of registers, 1–125 (MODBUS Application Protocol v1.1b3, 6.3/6.4). */
  length: number;
  timeoutMs: number;
}

export interface ReadResponse {
  words: number[];
  /** Epoch ms when the request went on the wire (after waiting for the bus): the poll time. */
  sentAt: number;
  /** Round trip, request written to complete answer received, in ms. */
  rttMs: number;
}

/**
 * One bus adapter per configured bus (docs/architecture.md house style 2: one file per transport, chosen from a
 * map by name): `tcp.adapter.ts`, `rtu.adapter.ts`. `read()` rejects with a ModbusRequestError.
 */
export interface ModbusBus {
  readonly id: string;
  readonly transport: 'tcp' | 'rtu';
  /** Requests queued or in flight (an RTU bus: its one queue; TCP: summed over connections). */
  readonly queueDepth: number;
  /** Whether the port / at least one connection is open (for the status endpoint). */
  readonly connected: boolean;
  start(): Promise<void>;
  /** Fails whatever is queued with a 'connection' error and closes ports and sockets. */
  stop(): Promise<void>;
  /** `client` names the requester: TCP buses with per-device connections key the socket by it. */
  read(client: string, request: ReadRequest): Promise<ReadResponse>;
}
