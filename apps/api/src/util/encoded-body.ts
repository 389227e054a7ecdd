import { createHash } from 'node:crypto';
import { promisify } from 'node:util';
import { brotliCompress, constants, gzip } from 'node:zlib';
import { negotiate } from '@fastify/accept-negotiator';
import type { FastifyReply, FastifyRequest } from 'fastify';

const brotli = promisify(brotliCompress);
const gz = promisify(gzip);

/** Codings offered, preferred first when the client weighs them equally. */
const CODINGS = ['br', 'gzip', 'identity'] as const;
type Coding = (typeof CODINGS)[number];
/** Smaller bodies go as they are: compressing them saves less than its headers cost. */
const MIN_BYTES = 1024;

/**
 * A serialised JSON answer shared by everyone asking for it (the "now" views, a cached series):
 * its bytes, its ETag and, made once on first demand, its brotli and gzip encodings. A client that
 * accepts them (every browser, fetch, curl --compressed) gets the smaller bytes with no compression
 * per request: a year of hourly buckets is 1.8 MB as JSON and about a tenth compressed. The reverse
 * proxy passes an encoded answer through (Caddy's `encode` skips a response that has one). The ETag
 * is weak, the same for every coding (RFC 9110 8.8.1: the same content, semantically).
 */
export class EncodedBody {
  readonly etag: string;
  private readonly encoded = new Map<Coding, Promise<Buffer>>();

  constructor(readonly json: Buffer) {
    this.etag = `W/"${createHash('sha1').update(json).digest('base64url')}"`;
  }

  /** Answer with it: 304 for a matching If-None-Match, else the best coding the client accepts. */
  async send(req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
    reply.header('etag', this.etag).header('vary', 'Accept-Encoding');
    if (matches(req.headers['if-none-match'], this.etag)) return reply.code(304).send();
    reply.type('application/json; charset=utf-8');
    const coding = this.json.length < MIN_BYTES ? 'identity' : pick(req.headers['accept-encoding']);
    if (coding === 'identity') return reply.send(this.json);
    return reply.header('content-encoding', coding).send(await this.encode(coding));
  }

  private encode(coding: Exclude<Coding, 'identity'>): Promise<Buffer> {
    let done = this.encoded.get(coding);
    if (!done) {
      // Quality 5 / level 6: most of the size gain for a small part of the time of the maximum.
      done =
        coding === 'br'
          ? brotli(this.json, {
              params: {
                [constants.BROTLI_PARAM_QUALITY]: 5,
                [constants.BROTLI_PARAM_SIZE_HINT]: this.json.length,
                [constants.BROTLI_PARAM_MODE]: constants.BROTLI_MODE_TEXT,
              },
            })
          : gz(this.json, { level: 6 });
      this.encoded.set(coding, done);
      done.catch(() => this.encoded.delete(coding));
    }
    return done;
  }
}

function pick(header: string | string[] | undefined): Coding {
  const value = Array.isArray(header) ? header.join(',') : header;
  if (!value) return 'identity';
  return (negotiate(value, [...CODINGS]) as Coding | null) ?? 'identity';
}

/** If-None-Match with weak comparison: `*`, or any listed tag equal to ours ignoring `W/`. */
function matches(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  if (header.trim() === '*') return true;
  const ours = etag.replace(/^W\//, '');
  return header.split(',').some((t) => t.trim().replace(/^W\//, '') === ours);
}
