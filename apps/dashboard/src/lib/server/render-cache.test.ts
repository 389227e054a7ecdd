import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { compressResponse, pickEncoding, RenderCache } from './render-cache';

const html = `<!doctype html><html lang="th"><body>${'<p>ฝุ่น PM2.5 ในเชียงใหม่</p>'.repeat(200)}</body></html>`;
const page = (body = html, headers: Record<string, string> = {}) =>
  new Response(body, { status: 200, headers: { 'content-type': 'text/html', ...headers } });
const get = (encoding?: string) =>
  new Request('http://dash.test/', { headers: encoding ? { 'accept-encoding': encoding } : {} });

describe('pickEncoding', () => {
  it('prefers brotli, then gzip, honours q=0 and *', () => {
    expect(pickEncoding('gzip, deflate, br')).toBe('br');
    expect(pickEncoding('gzip')).toBe('gzip');
    expect(pickEncoding('br;q=0, gzip;q=0.5')).toBe('gzip');
    expect(pickEncoding('*')).toBe('br');
    expect(pickEncoding('identity')).toBe('identity');
    expect(pickEncoding(null)).toBe('identity');
  });
});

describe('RenderCache', () => {
  it('renders once per variant within the TTL, serves every encoding from that one render', async () => {
    let t = 0;
    let renders = 0;
    const cache = new RenderCache(5000, () => t);
    const render = async () => {
      renders++;
      return page();
    };
    const [a, b] = await Promise.all([
      cache.handle('th|/', get('br'), render),
      cache.handle('th|/', get('gzip'), render),
    ]);
    expect(renders).toBe(1); // concurrent misses share one render
    expect(a.headers.get('content-encoding')).toBe('br');
    expect(brotliDecompressSync(Buffer.from(await a.arrayBuffer())).toString()).toBe(html);
    expect(b.headers.get('content-encoding')).toBe('gzip');
    expect(gunzipSync(Buffer.from(await b.arrayBuffer())).toString()).toBe(html);
    const plain = await cache.handle('th|/', get(), render);
    expect(plain.headers.get('content-encoding')).toBeNull();
    expect(plain.headers.get('x-render-cache')).toBe('hit');
    expect(Number(plain.headers.get('content-length'))).toBe(Buffer.byteLength(html));
    expect(plain.headers.get('vary')).toContain('Accept-Encoding');
    expect(await plain.text()).toBe(html);
    await cache.handle('en|/', get('br'), render);
    expect(renders).toBe(2); // another language is another variant
    t = 5000;
    await cache.handle('th|/', get('br'), render);
    expect(renders).toBe(3); // expired
  });

  it('never shares an answer that sets a cookie or is not a 200', async () => {
    let renders = 0;
    const cache = new RenderCache(5000, () => 0);
    const withCookie = async () => {
      renders++;
      return page(html, { 'set-cookie': 'lang=en' });
    };
    await cache.handle('k', get(), withCookie);
    await cache.handle('k', get(), withCookie);
    expect(renders).toBe(2);
    const failed = async () => {
      renders++;
      return new Response('down', { status: 502, headers: { 'content-type': 'text/html' } });
    };
    expect((await cache.handle('f', get(), failed)).status).toBe(502);
    await cache.handle('f', get(), failed);
    expect(renders).toBe(4);
  });
});

describe('compressResponse', () => {
  it('compresses text answers the client accepts, leaves small, binary and encoded ones alone', async () => {
    const br = await compressResponse(get('br'), page());
    expect(br.headers.get('content-encoding')).toBe('br');
    expect(brotliDecompressSync(Buffer.from(await br.arrayBuffer())).toString()).toBe(html);
    const small = await compressResponse(get('br'), page('<p>hi</p>'));
    expect(small.headers.get('content-encoding')).toBeNull();
    const image = new Response(new Uint8Array(4096), { headers: { 'content-type': 'image/png' } });
    expect(await compressResponse(get('br'), image)).toBe(image);
    expect(await compressResponse(get(), page())).toBeInstanceOf(Response);
    expect((await compressResponse(get(), page())).headers.get('content-encoding')).toBeNull();
  });
});
