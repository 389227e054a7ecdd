/**
 * The MQTT 3.1.1 packets the gateway's intake connection receives, decoded straight from the
 * socket's bytes (OASIS MQTT 3.1.1, chapter 2 and 3), and the few it writes on the hot path.
 *
 * Why not mqtt-packet's parser: at 10k messages/s its per-packet objects, BufferList and event
 * emission were a large share of the gateway's CPU (docs/performance.md). A server sends a client
 * only CONNACK, PUBLISH, PUBACK, PUBREC, PUBREL, PUBCOMP, SUBACK, UNSUBACK and PINGRESP; all have a
 * fixed layout. The client's own packets are as simple. The tests check both directions against
 * mqtt-packet, the reference codec MQTT.js and aedes use (not loaded here: it builds a 7 MB cache of
 * packet-id buffers at load).
 */

/** Control packet types (MQTT 3.1.1, 2.2.1). */
export const PacketType = {
  CONNACK: 2,
  PUBLISH: 3,
  PUBACK: 4,
  PUBREC: 5,
  PUBREL: 6,
  PUBCOMP: 7,
  SUBACK: 9,
  UNSUBACK: 11,
  PINGRESP: 13,
} as const;

/** What the decoder reports; `payload` is a view of the read buffer, valid only during the call. */
export interface DecodeHandler {
  publish(topic: string, payload: Buffer, qos: number, messageId: number, dup: boolean): void;
  /**
   * A PUBLISH bigger than the decoder's limit: its bytes are skipped, not buffered. `head` is the
   * start of its payload (at most OVERSIZED_HEAD_BYTES), `payloadBytes` the payload's full size.
   * Reported once the whole packet has gone by.
   */
  oversized(topic: string, head: Buffer, payloadBytes: number, qos: number, messageId: number): void;
  connack(sessionPresent: boolean, returnCode: number): void;
  /** PUBACK for one of our QoS 1 publishes. */
  puback(messageId: number): void;
  suback(messageId: number, granted: number[]): void;
  pingresp(): void;
  /** A packet that breaks the protocol: the connection must be closed. */
  protocolError(message: string): void;
}

/** How much of an oversized payload is kept (for the dead letter's echo). */
export const OVERSIZED_HEAD_BYTES = 2048;
/** A PUBLISH variable header is at most 2 + 65,535 (topic) + 2 (packet id) bytes. */
export const MAX_PUBLISH_HEADER = 2 + 65_535 + 2;

/**
 * Incremental decoder: feed it the bytes as they arrive, in any split. Whole packets are decoded
 * in place; a packet split across reads is assembled in one buffer of its exact size (linear, no
 * repeated concatenation). A PUBLISH whose body exceeds `maxPacketBytes` is never buffered whole:
 * its header and the first OVERSIZED_HEAD_BYTES of payload are kept, the rest is skipped, and it
 * is reported with `oversized` (so one huge message cannot exhaust memory, nor close the
 * connection and come back forever as a poison message).
 */
export class MqttDecoder {
  /** Fixed-header bytes of a packet whose remaining length is not complete yet (< 5 bytes). */
  private head: Buffer | undefined;
  /** A packet being assembled: the whole packet, or for an oversized PUBLISH its kept prefix. */
  private partial: Buffer | undefined;
  private partialFill = 0;
  private partialBody = 0;
  /** Oversized PUBLISH in progress: full body length, and bytes still to skip after the prefix. */
  private oversizedBody = 0;
  private skipLeft = 0;
  private pendingOversized: [topic: string, head: Buffer, payloadBytes: number, qos: number, id: number] | undefined;
  private failed = false;

  constructor(
    private readonly handler: DecodeHandler,
    private readonly maxPacketBytes = 16 * 1024 * 1024,
  ) {}

  /** Decode every complete packet in `chunk` (plus what was left from earlier chunks). */
  push(chunk: Buffer): void {
    if (this.failed) return;
    let buf = chunk;
    let pos = 0;
    if (this.partial) {
      const target = this.partial;
      const n = Math.min(target.length - this.partialFill, buf.length);
      buf.copy(target, this.partialFill, 0, n);
      this.partialFill += n;
      pos = n;
      if (this.partialFill < target.length) return;
      this.partial = undefined;
      if (this.oversizedBody > 0) {
        if (!this.startSkip(target, this.partialBody)) return;
      } else if (!this.packet(target, target[0] as number, this.partialBody, target.length)) return;
    }
    if (this.skipLeft > 0) {
      const n = Math.min(this.skipLeft, buf.length - pos);
      this.skipLeft -= n;
      pos += n;
      if (this.skipLeft > 0) return;
      this.finishOversized();
    }
    if (this.head) {
      buf = Buffer.concat([this.head, buf.subarray(pos)]);
      pos = 0;
      this.head = undefined;
    }
    const end = buf.length;
    while (pos < end) {
      // Fixed header: type/flags byte, then the remaining length (1–4 bytes, 7 bits each).
      let len = 0;
      let mul = 1;
      let i = pos + 1;
      let complete = false;
      for (let k = 0; k < 4 && i < end; k++) {
        const b = buf[i++] as number;
        len += (b & 0x7f) * mul;
        if ((b & 0x80) === 0) {
          complete = true;
          break;
        }
        if (k === 3) {
          this.fail('remaining length longer than 4 bytes');
          return;
        }
        mul *= 128;
      }
      if (!complete) {
        this.head = Buffer.from(buf.subarray(pos)); // copy: the read buffer is reused
        return;
      }
      const first = buf[pos] as number;
      if (len > this.maxPacketBytes) {
        if (first >> 4 !== PacketType.PUBLISH) {
          this.fail(`packet of ${len} bytes exceeds ${this.maxPacketBytes}`);
          return;
        }
        // Keep the variable header and the head of the payload; skip the rest.
        this.oversizedBody = len;
        const keep = Math.min(len, MAX_PUBLISH_HEADER + OVERSIZED_HEAD_BYTES);
        const prefix = Buffer.allocUnsafe(i - pos + keep);
        const n = Math.min(prefix.length, end - pos);
        buf.copy(prefix, 0, pos, pos + n);
        pos += n;
        if (n < prefix.length) {
          this.partial = prefix;
          this.partialFill = n;
          this.partialBody = i - (pos - n);
          return;
        }
        if (!this.startSkip(prefix, i - (pos - n))) return;
        const skip = Math.min(this.skipLeft, end - pos);
        this.skipLeft -= skip;
        pos += skip;
        if (this.skipLeft > 0) return;
        this.finishOversized();
        continue;
      }
      if (end - i < len) {
        // Body not all here yet: assemble the packet in a buffer of its exact size.
        const whole = Buffer.allocUnsafe(i - pos + len);
        buf.copy(whole, 0, pos, end);
        this.partial = whole;
        this.partialFill = end - pos;
        this.partialBody = i - pos;
        return;
      }
      if (!this.packet(buf, first, i, i + len)) return;
      pos = i + len;
    }
  }

  /** Forget partial data (a new connection starts from scratch). */
  reset(): void {
    this.head = undefined;
    this.partial = undefined;
    this.oversizedBody = 0;
    this.skipLeft = 0;
    this.pendingOversized = undefined;
    this.failed = false;
  }

  /** The prefix of an oversized PUBLISH is complete: decode its header, then skip the rest. */
  private startSkip(prefix: Buffer, body: number): boolean {
    const first = prefix[0] as number;
    const qos = (first >> 1) & 3;
    const total = this.oversizedBody;
    this.oversizedBody = 0;
    if (qos === 3) {
      this.fail('PUBLISH with QoS 3');
      return false;
    }
    const tlen = ((prefix[body] as number) << 8) | (prefix[body + 1] as number);
    let p = body + 2 + tlen;
    if (p + (qos > 0 ? 2 : 0) > prefix.length) {
      this.fail('PUBLISH topic runs past the packet');
      return false;
    }
    const topic = prefix.toString('utf8', body + 2, p);
    let id = 0;
    if (qos > 0) {
      id = ((prefix[p] as number) << 8) | (prefix[p + 1] as number);
      p += 2;
    }
    const headerBytes = p - body;
    const kept = prefix.length - body;
    const head = prefix.subarray(p, Math.min(prefix.length, p + OVERSIZED_HEAD_BYTES));
    this.pendingOversized = [topic, head, total - headerBytes, qos, id];
    this.skipLeft = total - kept;
    if (this.skipLeft === 0) this.finishOversized();
    return !this.failed;
  }

  private finishOversized(): void {
    const o = this.pendingOversized;
    this.pendingOversized = undefined;
    if (o) this.handler.oversized(o[0], o[1], o[2], o[3], o[4]);
  }

  private fail(message: string): void {
    this.failed = true;
    this.head = undefined;
    this.partial = undefined;
    this.handler.protocolError(message);
  }

  /** One whole packet in buf[start, end). False after a protocol error. */
  private packet(buf: Buffer, first: number, start: number, end: number): boolean {
    const type = first >> 4;
    const len = end - start;
    switch (type) {
      case PacketType.PUBLISH: {
        const qos = (first >> 1) & 3;
        if (qos === 3) return this.bad('PUBLISH (QoS 3)');
        if (len < 2) return this.bad('PUBLISH');
        const tlen = ((buf[start] as number) << 8) | (buf[start + 1] as number);
        let p = start + 2 + tlen;
        if (p > end || (qos > 0 && p + 2 > end)) return this.bad('PUBLISH (topic runs past the packet)');
        const topic = buf.toString('utf8', start + 2, p);
        let id = 0;
        if (qos > 0) {
          id = ((buf[p] as number) << 8) | (buf[p + 1] as number);
          p += 2;
        }
        this.handler.publish(topic, buf.subarray(p, end), qos, id, (first & 8) !== 0);
        return !this.failed;
      }
      case PacketType.PUBACK:
        if (len !== 2) return this.bad('PUBACK');
        this.handler.puback(((buf[start] as number) << 8) | (buf[start + 1] as number));
        return !this.failed;
      case PacketType.CONNACK:
        if (len !== 2) return this.bad('CONNACK');
        this.handler.connack(((buf[start] as number) & 1) === 1, buf[start + 1] as number);
        return !this.failed;
      case PacketType.SUBACK: {
        if (len < 3) return this.bad('SUBACK');
        const granted: number[] = [];
        for (let k = start + 2; k < end; k++) granted.push(buf[k] as number);
        this.handler.suback(((buf[start] as number) << 8) | (buf[start + 1] as number), granted);
        return !this.failed;
      }
      case PacketType.PINGRESP:
        this.handler.pingresp();
        return !this.failed;
      case PacketType.UNSUBACK:
        return true;
      default:
        // PUBREC/PUBREL/PUBCOMP only exist for QoS 2, which we never publish nor subscribe to.
        this.fail(`unexpected packet type ${type} from the server`);
        return false;
    }
  }

  private bad(name: string): false {
    this.fail(`malformed ${name}`);
    return false;
  }
}

/** PUBACK packets for `ids`, in order, in one buffer (MQTT 3.1.1, 3.4). */
export function encodePubacks(ids: readonly number[]): Buffer {
  const out = Buffer.allocUnsafe(ids.length * 4);
  let o = 0;
  for (const id of ids) {
    out[o++] = 0x40;
    out[o++] = 0x02;
    out[o++] = id >> 8;
    out[o++] = id & 0xff;
  }
  return out;
}

/** A PUBLISH packet (MQTT 3.1.1, 3.3). `messageId` is required for QoS 1. */
export function encodePublish(topic: string, payload: string | Buffer, qos: 0 | 1, messageId = 0): Buffer {
  const tlen = Buffer.byteLength(topic);
  const plen = typeof payload === 'string' ? Buffer.byteLength(payload) : payload.length;
  const rem = 2 + tlen + (qos > 0 ? 2 : 0) + plen;
  const { out, offset } = fixedHeader(0x30 | (qos << 1), rem);
  let o = offset;
  out[o++] = tlen >> 8;
  out[o++] = tlen & 0xff;
  o += out.write(topic, o);
  if (qos > 0) {
    out[o++] = messageId >> 8;
    out[o++] = messageId & 0xff;
  }
  if (typeof payload === 'string') out.write(payload, o);
  else payload.copy(out, o);
  return out;
}

/** A buffer for a whole packet with its fixed header written: first byte, remaining length (2.2). */
function fixedHeader(first: number, rem: number): { out: Buffer; offset: number } {
  const lenBytes = rem < 128 ? 1 : rem < 16_384 ? 2 : rem < 2_097_152 ? 3 : 4;
  const out = Buffer.allocUnsafe(1 + lenBytes + rem);
  out[0] = first;
  let o = 1;
  let x = rem;
  do {
    let b = x % 128;
    x = Math.floor(x / 128);
    if (x > 0) b |= 0x80;
    out[o++] = b;
  } while (x > 0);
  return { out, offset: o };
}

/** A packet of `type`/`flags` around `body`, with the remaining-length header (2.2.3). */
function withHeader(first: number, body: Buffer): Buffer {
  const { out, offset } = fixedHeader(first, body.length);
  body.copy(out, offset);
  return out;
}

/** A UTF-8 string or binary field with its 2-byte length prefix (1.5.3). */
function field(value: string | Buffer): Buffer {
  const bytes = typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
  if (bytes.length > 65_535) throw new RangeError('MQTT string longer than 65535 bytes');
  const out = Buffer.allocUnsafe(2 + bytes.length);
  out.writeUInt16BE(bytes.length, 0);
  bytes.copy(out, 2);
  return out;
}

/** CONNECT, MQTT 3.1.1 (3.1), without a will. */
export function encodeConnect(o: {
  clientId: string;
  clean: boolean;
  keepaliveSec: number;
  username?: string;
  password?: string;
}): Buffer {
  let flags = o.clean ? 0x02 : 0;
  const payload: Buffer[] = [field(o.clientId)];
  if (o.username !== undefined) {
    flags |= 0x80;
    payload.push(field(o.username));
  }
  if (o.password !== undefined) {
    flags |= 0x40;
    payload.push(field(Buffer.from(o.password, 'utf8')));
  }
  const variable = Buffer.from([0, 4, 0x4d, 0x51, 0x54, 0x54, 4, flags, o.keepaliveSec >> 8, o.keepaliveSec & 0xff]);
  return withHeader(0x10, Buffer.concat([variable, ...payload]));
}

/** SUBSCRIBE, MQTT 3.1.1 (3.8): fixed flags 0b0010. */
export function encodeSubscribe(messageId: number, subscriptions: Readonly<Record<string, 0 | 1>>): Buffer {
  const parts: Buffer[] = [Buffer.from([messageId >> 8, messageId & 0xff])];
  for (const [filter, qos] of Object.entries(subscriptions)) parts.push(field(filter), Buffer.from([qos]));
  return withHeader(0x82, Buffer.concat(parts));
}

/** PINGREQ and DISCONNECT have no body. */
export const PINGREQ = Buffer.from([0xc0, 0x00]);
export const DISCONNECT = Buffer.from([0xe0, 0x00]);

/** CONNACK return codes (MQTT 3.1.1, table 3.1). */
export const CONNACK_REASONS: Readonly<Record<number, string>> = {
  1: 'unacceptable protocol version',
  2: 'client identifier rejected',
  3: 'server unavailable',
  4: 'bad user name or password',
  5: 'not authorized',
};
