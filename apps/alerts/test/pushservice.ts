/**
 * A local Web Push service (node:http on 127.0.0.1) that checks each request the way the RFCs define
 * it, independently of the `web-push` package (node:crypto only):
 * - RFC 8030 §5: POST to the subscription's endpoint; `TTL` (required); `Urgency` (§5.3) and `Topic`
 *   (§5.4) when present must be valid; answers 201 Created with a Location;
 * - RFC 8292: `Authorization: vapid t=<JWT>, k=<public key>`; the JWT is ES256 (§2), signed by the key
 *   in `k` (an uncompressed P-256 point); its claims: `aud` = the endpoint's origin, `exp` in the
 *   future and at most 24 h away, `sub` a mailto: or https: contact (§2.1);
 * - RFC 8291 + RFC 8188: `Content-Encoding: aes128gcm`; the body is decrypted with the subscriber's
 *   private key and auth secret (the message must fit one 4096-octet record).
 * A request that breaks any rule is answered 400/401/403 with the problems, as a real push service
 * would refuse it (so a sender bug fails the delivery, not only an assertion).
 */
import {
  createDecipheriv,
  createECDH,
  createPublicKey,
  type ECDH,
  hkdfSync,
  randomBytes,
  randomUUID,
  verify,
} from 'node:crypto';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Subscriber {
  ecdh: ECDH;
  auth: Buffer;
  publicKey: Buffer;
  /** What the browser's `PushSubscription.toJSON()` gives and the page POSTs to /v1/subscriptions. */
  subscription: { endpoint: string; keys: { p256dh: string; auth: string } };
}

/** A browser's side of a subscription: a P-256 key pair and a 16-octet auth secret (RFC 8291 §3). */
export function newSubscriber(endpoint: string): Subscriber {
  const ecdh = createECDH('prime256v1');
  ecdh.generateKeys();
  const auth = randomBytes(16);
  const publicKey = ecdh.getPublicKey();
  return {
    ecdh,
    auth,
    publicKey,
    subscription: { endpoint, keys: { p256dh: publicKey.toString('base64url'), auth: auth.toString('base64url') } },
  };
}

/** RFC 8291 §3.4 + RFC 8188 §2: the plaintext of a single-record aes128gcm body. Throws when it is not. */
export function decryptAes128gcm(body: Buffer, sub: Pick<Subscriber, 'ecdh' | 'auth' | 'publicKey'>): Buffer {
  if (body.length < 21 + 65 + 17) throw new Error(`body too short (${body.length} octets)`);
  const salt = body.subarray(0, 16);
  const rs = body.readUInt32BE(16);
  const idlen = body[20]!;
  if (idlen !== 65) throw new Error(`keyid must be the sender's 65-octet public key, got ${idlen} octets`);
  const asPublic = body.subarray(21, 21 + idlen);
  const record = body.subarray(21 + idlen);
  if (rs < 18 || record.length > rs) throw new Error(`record of ${record.length} octets does not fit rs=${rs}`);
  const ecdhSecret = sub.ecdh.computeSecret(asPublic);
  const keyInfo = Buffer.concat([Buffer.from('WebPush: info\0', 'latin1'), sub.publicKey, asPublic]);
  const ikm = Buffer.from(hkdfSync('sha256', ecdhSecret, sub.auth, keyInfo, 32));
  const cek = Buffer.from(hkdfSync('sha256', ikm, salt, Buffer.from('Content-Encoding: aes128gcm\0', 'latin1'), 16));
  const nonce = Buffer.from(hkdfSync('sha256', ikm, salt, Buffer.from('Content-Encoding: nonce\0', 'latin1'), 12));
  const decipher = createDecipheriv('aes-128-gcm', cek, nonce);
  decipher.setAuthTag(record.subarray(record.length - 16));
  const padded = Buffer.concat([decipher.update(record.subarray(0, record.length - 16)), decipher.final()]);
  let end = padded.length;
  while (end > 0 && padded[end - 1] === 0) end--;
  if (padded[end - 1] !== 2) throw new Error('the last record must end with the 0x02 delimiter (RFC 8188 §2)');
  return padded.subarray(0, end - 1);
}

const P256 = (raw: Buffer) =>
  createPublicKey({
    key: {
      kty: 'EC',
      crv: 'P-256',
      x: raw.subarray(1, 33).toString('base64url'),
      y: raw.subarray(33, 65).toString('base64url'),
    },
    format: 'jwk',
  });

export interface VapidClaims {
  aud?: unknown;
  exp?: unknown;
  sub?: unknown;
}

/** RFC 8292: the Authorization header's JWT and key, verified. Returns the problems found (none = valid). */
export function checkVapid(
  authorization: string | undefined,
  origin: string,
  nowS: number,
): { problems: string[]; claims?: VapidClaims; key?: string; status: number } {
  const m = /^vapid t=([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+),\s*k=([A-Za-z0-9_-]+)$/.exec(
    authorization ?? '',
  );
  if (!m) return { problems: [`Authorization is not "vapid t=<JWT>, k=<key>": ${authorization}`], status: 401 };
  const [, jwt, k] = m as unknown as [string, string, string];
  const raw = Buffer.from(k, 'base64url');
  if (raw.length !== 65 || raw[0] !== 4) return { problems: ['k is not an uncompressed P-256 point'], status: 403 };
  const [h, p, s] = jwt.split('.') as [string, string, string];
  const problems: string[] = [];
  const header = JSON.parse(Buffer.from(h, 'base64url').toString('utf8')) as { typ?: string; alg?: string };
  if (header.alg !== 'ES256') problems.push(`JWT alg must be ES256, got ${header.alg}`);
  if (header.typ !== undefined && header.typ !== 'JWT') problems.push(`JWT typ ${header.typ}`);
  const sig = Buffer.from(s, 'base64url');
  const ok =
    sig.length === 64 && verify('sha256', Buffer.from(`${h}.${p}`), { key: P256(raw), dsaEncoding: 'ieee-p1363' }, sig);
  if (!ok) problems.push('the JWT signature does not verify with the key in k');
  const claims = JSON.parse(Buffer.from(p, 'base64url').toString('utf8')) as VapidClaims;
  if (claims.aud !== origin) problems.push(`aud must be the push resource's origin ${origin}, got ${claims.aud}`);
  if (typeof claims.exp !== 'number' || claims.exp <= nowS || claims.exp > nowS + 86_400)
    problems.push(`exp must be in the next 24 hours, got ${claims.exp} (now ${nowS})`);
  if (typeof claims.sub !== 'string' || !/^(mailto:|https:)/.test(claims.sub))
    problems.push(`sub must be a mailto: or https: contact, got ${claims.sub}`);
  return { problems, claims, key: k, status: problems.length ? 403 : 201 };
}

export interface PushRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
  at: number;
  problems: string[];
  claims?: VapidClaims;
  /** The VAPID public key (k). */
  key?: string;
  /** The decrypted notification (JSON), when decryption worked. */
  payload?: Record<string, unknown>;
  /** What the push service answered. */
  status: number;
}

export type PushAnswer = { status: number; headers?: Record<string, string> };

export async function startPushService(
  subscribers: ReadonlyMap<string, Subscriber>,
  /** The answer to a valid request for `path` (the nth valid one for that path, from 1). */
  answer: (path: string, n: number, req: PushRequest) => PushAnswer = () => ({ status: 201 }),
): Promise<{ url: string; requests: PushRequest[]; close: () => Promise<void> }> {
  const requests: PushRequest[] = [];
  const valid = new Map<string, number>();
  let origin = '';
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const path = req.url ?? '';
      const r: PushRequest = {
        method: req.method ?? '',
        path,
        headers: req.headers,
        body,
        at: Date.now(),
        problems: [],
        status: 0,
      };
      let status = 400;
      const sub = subscribers.get(path);
      if (req.method !== 'POST') r.problems.push(`method must be POST, got ${req.method}`);
      if (!sub) {
        r.problems.push(`no subscription at ${path}`);
        status = 404;
      }
      const ttl = req.headers.ttl;
      if (typeof ttl !== 'string' || !/^\d+$/.test(ttl)) r.problems.push(`TTL header missing or not a number: ${ttl}`);
      const urgency = req.headers.urgency;
      if (urgency !== undefined && !['very-low', 'low', 'normal', 'high'].includes(String(urgency)))
        r.problems.push(`Urgency ${urgency} is not very-low, low, normal or high`);
      const topic = req.headers.topic;
      if (topic !== undefined && !/^[A-Za-z0-9_-]{1,32}$/.test(String(topic)))
        r.problems.push(`Topic ${topic} is not 1-32 base64url characters`);
      if (req.headers['content-encoding'] !== 'aes128gcm')
        r.problems.push(`Content-Encoding must be aes128gcm, got ${req.headers['content-encoding']}`);
      if (body.length > 4096) r.problems.push(`body of ${body.length} octets is over 4096`);
      const vapid = checkVapid(req.headers.authorization, origin, Math.floor(Date.now() / 1000));
      r.problems.push(...vapid.problems);
      r.claims = vapid.claims;
      r.key = vapid.key;
      if (vapid.problems.length) status = vapid.status;
      if (sub) {
        try {
          r.payload = JSON.parse(decryptAes128gcm(body, sub).toString('utf8'));
        } catch (e) {
          r.problems.push(`cannot decrypt: ${(e as Error).message}`);
        }
      }
      let out: PushAnswer = { status };
      if (r.problems.length === 0) {
        const n = (valid.get(path) ?? 0) + 1;
        valid.set(path, n);
        out = answer(path, n, r);
      }
      r.status = out.status;
      requests.push(r);
      const headers: Record<string, string> = { 'content-type': 'text/plain', ...out.headers };
      if (out.status === 201) headers.location = `/message/${randomUUID()}`;
      res.writeHead(out.status, headers).end(r.problems.join('\n'));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url: origin,
    requests,
    close: () => {
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
