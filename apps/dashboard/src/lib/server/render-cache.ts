import { promisify } from 'node:util';
import { brotliCompress, constants, gzip } from 'node:zlib';

const brotli = promisify(brotliCompress);
const gz = promisify(gzip);

/** Smaller than this, compression costs more than it saves. */
const MIN_COMPRESS_BYTES = 1024;
/** Variants held at most (language × path × query); past that the cache starts again. */
const MAX_ENTRIES = 200;

export type Encoding = 'br' | 'gzip' | 'identity';

/**
 * The best encoding the client accepts (RFC 9110 12.5.3): brotli, then gzip, else none. `q=0`
 * refuses one; `*` accepts any not named.
 */
export function pickEncoding(acceptEncoding: string | null): Encoding {
  if (!acceptEncoding) return 'identity';
  const q = new Map<string, number>();
  for (const part of acceptEncoding.split(',')) {
    const [name, ...params] = part.trim().toLowerCase().split(';');
    if (!name) continue;
    const qp = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
    q.set(name, qp ? Number(qp.slice(2)) || 0 : 1);
  }
  const ok = (e: string) => (q.get(e) ?? q.get('*') ?? 0) > 0;
  return ok('br') ? 'br' : ok('gzip') ? 'gzip' : 'identity';
}

/** Text bodies worth compressing (HTML pages and SvelteKit's __data.json). */
export const compressible = (contentType: string | null): boolean =>
  !!contentType && /^(text\/html|application\/json|text\/plain|text\/css|application\/javascript)/.test(contentType);

interface Entry {
  at: number;
  status: number;
  headers: [string, string][];
  body: Buffer;
  /** Worth compressing: a compressible type, large enough, not encoded already. */
  compress: boolean;
  encoded: Partial<Record<'br' | 'gzip', Promise<Buffer>>>;
}

/**
 * Node's zlib, for one body: brotli at quality 9 for cached bodies (compressed once per render, so a
 * stronger setting pays) and 4 for one-off answers; gzip at 9 and 6.
 */
function encode(body: Buffer, encoding: 'br' | 'gzip', once: boolean): Promise<Buffer> {
  return encoding === 'br'
    ? brotli(body, {
        params: {
          [constants.BROTLI_PARAM_QUALITY]: once ? 4 : 9,
          [constants.BROTLI_PARAM_SIZE_HINT]: body.length,
          [constants.BROTLI_PARAM_MODE]: constants.BROTLI_MODE_TEXT,
        },
      })
    : gz(body, { level: once ? 6 : 9 });
}

function respond(entry: Pick<Entry, 'status' | 'headers' | 'body'>, body: Buffer, encoding: Encoding, state: string) {
  const headers = new Headers(entry.headers);
  headers.set('content-length', String(body.length));
  if (encoding !== 'identity') headers.set('content-encoding', encoding);
  headers.append('vary', 'Accept-Encoding');
  if (state) headers.set('x-render-cache', state);
  return new Response(new Uint8Array(body), { status: entry.status, headers });
}

/** The answer compressed for this client, or as it was (not compressible, too small, encoded already). */
export async function compressResponse(request: Request, response: Response): Promise<Response> {
  const encoding = pickEncoding(request.headers.get('accept-encoding'));
  if (
    encoding === 'identity' ||
    !response.body ||
    response.headers.has('content-encoding') ||
    !compressible(response.headers.get('content-type'))
  ) {
    return response;
  }
  const body = Buffer.from(await response.arrayBuffer());
  const entry = { status: response.status, headers: [...response.headers], body };
  if (body.length < MIN_COMPRESS_BYTES) return respond(entry, body, 'identity', '');
  return respond(entry, await encode(body, encoding, true), encoding, '');
}

/**
 * Server renders shared for `ttlMs` per variant (the caller's key: city, language, path and query),
 * with their compressed forms made once per render. Only answers that are the same for every reader
 * may be cached: 200s without Set-Cookie, from routes whose loads read nothing personal (the
 * overview: the city's public latest values, districts, public alerts and the language). Concurrent
 * misses of one key share one render.
 */
export class RenderCache {
  private readonly entries = new Map<string, Entry>();
  private readonly inflight = new Map<string, Promise<Entry | undefined>>();

  constructor(
    private readonly ttlMs: number,
    private readonly clock: () => number = Date.now,
  ) {}

  async handle(key: string, request: Request, render: () => Promise<Response>): Promise<Response> {
    const encoding = pickEncoding(request.headers.get('accept-encoding'));
    const hit = this.entries.get(key);
    if (hit && this.clock() - hit.at < this.ttlMs) return this.serve(hit, encoding, 'hit');
    let shared = this.inflight.get(key);
    let fresh: Response | undefined;
    if (!shared) {
      shared = (async () => {
        const response = await render();
        if (response.status !== 200 || response.headers.has('set-cookie') || !response.body) {
          fresh = response;
          return undefined;
        }
        const body = Buffer.from(await response.arrayBuffer());
        const entry: Entry = {
          at: this.clock(),
          status: response.status,
          headers: [...response.headers],
          body,
          compress:
            body.length >= MIN_COMPRESS_BYTES &&
            !response.headers.has('content-encoding') &&
            compressible(response.headers.get('content-type')),
          encoded: {},
        };
        if (this.entries.size >= MAX_ENTRIES && !this.entries.has(key)) this.entries.clear();
        this.entries.set(key, entry);
        return entry;
      })().finally(() => this.inflight.delete(key));
      this.inflight.set(key, shared);
    }
    const entry = await shared;
    if (fresh) return compressResponse(request, fresh); // not cacheable: this request's own answer
    if (!entry) return compressResponse(request, await render()); // another request's uncacheable answer
    return this.serve(entry, encoding, 'miss');
  }

  private async serve(entry: Entry, encoding: Encoding, state: string): Promise<Response> {
    if (encoding === 'identity' || !entry.compress) return respond(entry, entry.body, 'identity', state);
    entry.encoded[encoding] ??= encode(entry.body, encoding, false);
    return respond(entry, await entry.encoded[encoding]!, encoding, state);
  }
}
