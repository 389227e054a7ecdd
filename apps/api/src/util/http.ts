import type { FastifyReply } from 'fastify';

/** Cache-Control for a public response that may be reused for `seconds`. */
export function cacheFor(reply: FastifyReply, seconds: number): void {
  reply.header('cache-control', seconds > 0 ? `public, max-age=${seconds}` : 'no-store');
}

/** RFC 8288 links to the data licence (rel=license) and the API description. */
export function licenceLinks(reply: FastifyReply, licenceUrl: string): void {
  reply.header('link', `<${licenceUrl}>; rel="license", </openapi.json>; rel="service-desc"`);
}
