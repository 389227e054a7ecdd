import type { FastifyReply, FastifyRequest } from 'fastify';
import { EncodedBody } from './encoded-body';

/** Variants (path + query) held at most; past that the cache starts again (arbitrary `ids=` lists). */
const MAX_VARIANTS = 500;

interface Entry {
  stamp: string;
  body: EncodedBody;
}

/**
 * The serialised body and its ETag of each variant of a "now" route (the URL: path and query; the
 * API has no language variants), valid while the in-memory view's stamp (its version and the
 * whole second, NowService.stamp) is unchanged. A hit costs a map lookup and writing the bytes:
 * no view computation, no JSON serialisation, no hashing, and its brotli/gzip encodings are made
 * once per body (encoded-body.ts). A matching If-None-Match (weak comparison, RFC 9110 13.1.2)
 * answers 304 without a body. Without a stamp (no bus: the views read
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
      const body = new EncodedBody(Buffer.from(reply.serialize(payload) as string));
      entry = { stamp, body };
      if (this.entries.size >= MAX_VARIANTS && !this.entries.has(key)) this.entries.clear();
      this.entries.set(key, entry);
    }
    return entry.body.send(req, reply);
  }

  /** Drops every body (tests). */
  clear(): void {
    this.entries.clear();
  }
}
