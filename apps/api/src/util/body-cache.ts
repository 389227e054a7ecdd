import { createHash } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';

/** Variants (path + query) held at most; past that the cache starts again (arbitrary `ids=` lists). */
const MAX_VARIANTS = 500;

interface Entry {
  stamp: string;
  body: Buffer;
  etag: string;
}

/**
 * The serialised body and its ETag of each variant of a "now" route (the URL: path and query; the
 * API has no language variants), valid while the in-memory view's stamp (its version and the
 * whole second, NowService.stamp) is unchanged. A hit costs a map lookup and writing the bytes:
 * no view computation, no JSON serialisation, no hashing. A matching If-None-Match (weak
 * comparison, RFC 9110 13.1.2) answers 304 without a body. Without a stamp (no bus: the views read
 * the store with the TTL cache) the route builds its answer as before and @fastify/etag hashes it.
 */
export class BodyCache {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly stamp: () => string | undefined) {}

  async reply<T>(req: FastifyRequest, reply: FastifyReply, build: () => Promise<T>): Promise<T | FastifyReply> {
    const stamp = this.stamp();
    if (stamp === undefined) return build();
    const key = req.url;
    let entry = this.entries.get(key);
    if (entry?.stamp !== stamp) {
      const payload = await build();
      // The route's own response serializer (fast-json-stringify from its schema): the same bytes
      // the uncached path sends.
      const body = Buffer.from(reply.serialize(payload) as string);
      entry = { stamp, body, etag: `W/"${createHash('sha1').update(body).digest('base64url')}"` };
      if (this.entries.size >= MAX_VARIANTS && !this.entries.has(key)) this.entries.clear();
      this.entries.set(key, entry);
    }
    reply.header('etag', entry.etag);
    if (matches(req.headers['if-none-match'], entry.etag)) return reply.code(304).send();
    return reply.type('application/json; charset=utf-8').send(entry.body);
  }

  /** Drops every body (tests). */
  clear(): void {
    this.entries.clear();
  }
}

/** If-None-Match with weak comparison: `*`, or any listed tag equal to ours ignoring `W/`. */
function matches(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  if (header.trim() === '*') return true;
  const ours = etag.replace(/^W\//, '');
  return header.split(',').some((t) => t.trim().replace(/^W\//, '') === ours);
}
