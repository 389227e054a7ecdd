/**
 * A minimal MQTT 3.1.1 QoS 1 publisher over a raw TCP socket, for the load generator only: CONNECT
 * (clean session), PUBLISH with packet ids, PUBACK counting, PINGREQ keepalive. Packets built during
 * one scheduler tick go out in one socket write, so the generator spends far less CPU per message
 * than mqtt.js (which matters when generator, broker, gateway and InfluxDB share two cores).
 * Not a general client: no reconnect, no QoS 2, no subscriptions; acks are counted, not matched
 * (the broker acks in order and the in-flight cap stays below the 65535 packet-id space).
 */
import { connect, type Socket } from 'node:net';

export interface Publisher {
  /** Queue one QoS 1 publish; it is written on the next flush(). */
  publish(topic: string, payload: string): void;
  /** Write everything queued since the last flush. */
  flush(): void;
  readonly acked: number;
  /** Publishes the client reported as failed (never acked). */
  readonly errors: number;
  readonly closed: boolean;
  end(): Promise<void>;
}

function encodeLength(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) b |= 0x80;
    out.push(b);
  } while (n > 0);
  return out;
}

function connectPacket(clientId: string, keepaliveS: number): Buffer {
  const id = Buffer.from(clientId, 'utf8');
  const variable = Buffer.from([0, 4, 0x4d, 0x51, 0x54, 0x54, 4, 0x02, keepaliveS >> 8, keepaliveS & 0xff]);
  const body = Buffer.concat([variable, Buffer.from([id.length >> 8, id.length & 0xff]), id]);
  return Buffer.concat([Buffer.from([0x10, ...encodeLength(body.length)]), body]);
}

export async function connectRawPublisher(url: string, clientId: string, keepaliveS = 60): Promise<Publisher> {
  const u = new URL(url);
  const socket: Socket = connect(Number(u.port || 1883), u.hostname);
  socket.setNoDelay(true);
  let acked = 0;
  let closed = false;
  let nextId = 1;
  let chunks: Buffer[] = [];
  let pending = Buffer.alloc(0);
  let onConnack: ((rc: number) => void) | undefined;

  socket.on('data', (data: Buffer) => {
    const buf = pending.length > 0 ? Buffer.concat([pending, data]) : data;
    let off = 0;
    while (buf.length - off >= 2) {
      const type = buf[off]! >> 4;
      // remaining length (1..4 bytes)
      let len = 0;
      let mult = 1;
      let i = off + 1;
      let complete = false;
      while (i < buf.length && i < off + 5) {
        const b = buf[i]!;
        len += (b & 0x7f) * mult;
        mult *= 128;
        i++;
        if ((b & 0x80) === 0) {
          complete = true;
          break;
        }
      }
      if (!complete || buf.length - i < len) break;
      if (type === 4) acked++;
      else if (type === 2) onConnack?.(buf[i + 1] ?? 255);
      off = i + len;
    }
    pending = off < buf.length ? Buffer.from(buf.subarray(off)) : Buffer.alloc(0);
  });
  socket.on('close', () => {
    closed = true;
  });

  await new Promise<void>((resolve, reject) => {
    const fail = (err: Error) => reject(err);
    socket.once('error', fail);
    socket.once('connect', () => {
      socket.write(connectPacket(clientId, keepaliveS));
    });
    onConnack = (rc) => {
      socket.off('error', fail);
      if (rc === 0) resolve();
      else reject(new Error(`CONNACK return code ${rc}`));
    };
  });
  socket.on('error', () => {
    closed = true;
  });
  const ping = setInterval(() => socket.write(Buffer.from([0xc0, 0])), (keepaliveS * 1000) / 2);
  ping.unref();

  return {
    publish(topic: string, payload: string) {
      const tlen = Buffer.byteLength(topic);
      const plen = Buffer.byteLength(payload);
      const remaining = 2 + tlen + 2 + plen;
      const head = encodeLength(remaining);
      const b = Buffer.allocUnsafe(1 + head.length + remaining);
      let o = 0;
      b[o++] = 0x32; // PUBLISH, QoS 1
      for (const h of head) b[o++] = h;
      b.writeUInt16BE(tlen, o);
      o += 2;
      o += b.write(topic, o);
      b.writeUInt16BE(nextId, o);
      o += 2;
      b.write(payload, o);
      nextId = nextId === 65535 ? 1 : nextId + 1;
      chunks.push(b);
    },
    flush() {
      if (chunks.length === 0) return;
      socket.write(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks));
      chunks = [];
    },
    get acked() {
      return acked;
    },
    errors: 0,
    get closed() {
      return closed;
    },
    async end() {
      clearInterval(ping);
      if (closed) return;
      await new Promise<void>((resolve) => {
        socket.end(Buffer.from([0xe0, 0]), () => resolve());
        setTimeout(resolve, 1000).unref();
      });
      socket.destroy();
    },
  };
}
