import type { FastifyReply } from 'fastify';

/** Cache-Control for a public response that may be reused for `seconds`. */
export function cacheFor(reply: FastifyReply, seconds: number): void {
  reply.header('cache-control', seconds > 0 ? `public, max-age=${seconds}` : 'no-store');
}

/**
 * The data licence on every data response: RFC 8288 links to it (rel=license) and to the API
 * description, its SPDX id in `X-Data-Licence` and the credit line in `X-Data-Attribution` (an
 * export's CSV has no room for them: issue 14). Header values are Latin-1, so a credit line with
 * other characters (a Thai one) is sent percent-encoded as UTF-8, as RFC 8187 values are.
 */
export function licenceLinks(reply: FastifyReply, licence: { id: string; url: string; attribution: string }): void {
  reply.header('link', `<${licence.url}>; rel="license", </openapi.json>; rel="service-desc"`);
  reply.header('x-data-licence', licence.id);
  reply.header('x-data-attribution', headerText(licence.attribution));
}

/** Printable ASCII as it is; anything else percent-encoded (UTF-8). */
export const headerText = (text: string): string => (/^[\x20-\x7e]*$/.test(text) ? text : encodeURIComponent(text));
