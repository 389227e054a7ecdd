/**
 * The device side of a network link. One link per virtual device: the device firmware owns one
 * connection, with one client id, one last will. The MQTT adapter talks to a real broker; the memory
 * adapter is an in-process fake for unit tests. (Modbus devices are servers polled by the gateway and
 * will get their own link kind when the canal simulator lands.)
 */
export interface OutMessage {
  topic: string;
  payload: string | Uint8Array;
  qos: 0 | 1;
  retain: boolean;
}

export interface LinkHandlers {
  /** Called on every (re)connection: firmware publishes its retained `online` status here. */
  onConnect(): void;
  /** Called when the connection is lost (any cause). */
  onClose(): void;
  onError(err: Error): void;
}

export interface LinkOptions {
  clientId: string;
  /** Last will: the broker publishes it when the connection dies without a DISCONNECT. */
  will: OutMessage;
  handlers: LinkHandlers;
}

export interface DeviceLink {
  readonly connected: boolean;
  /** First connection; resolves at CONNACK, rejects on refusal, error or timeout. */
  connect(): Promise<void>;
  /** Resolves when the broker acknowledges (QoS 1) or the bytes are written (QoS 0); rejects if lost. */
  publish(msg: OutMessage): Promise<void>;
  /** Abrupt network loss: no DISCONNECT is sent, so the broker publishes the will. In-flight publishes reject. */
  drop(): void;
  /** Start a new connection after drop(); onConnect fires when it is up. */
  reconnect(): void;
  /** Clean shutdown: publish `last` (e.g. retained offline status) if connected, then DISCONNECT. */
  close(last?: OutMessage): Promise<void>;
}

export type LinkFactory = (opts: LinkOptions) => DeviceLink;
