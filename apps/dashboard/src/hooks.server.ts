import type { Handle, ServerInit } from '@sveltejs/kit';
import { env } from '$env/dynamic/private';
import { LANG_COOKIE, langFrom } from '$lib/i18n';
import { baseMapConfig } from '$lib/server/basemap';
import { cityView } from '$lib/server/city';
import { compressResponse, RenderCache } from '$lib/server/render-cache';

/**
 * How long a server render of the overview is shared (DASHBOARD_RENDER_CACHE_S, default 5 s, 0 off):
 * the page refreshes its data every few seconds anyway, and in the smoke season thousands open it at once.
 */
function renderCacheSeconds(): number {
  const raw = env.DASHBOARD_RENDER_CACHE_S ?? '5';
  const n = Number(raw);
  if (!/^\d+$/.test(raw) || n > 60)
    throw new Error(`DASHBOARD_RENDER_CACHE_S must be 0..60 seconds, not ${JSON.stringify(raw)}`);
  return n;
}

/** The overview and its data refresh (`invalidate('cnx:now')`): the same for every reader of one language. */
const SHARED_RENDERS = new Set(['/', '/__data.json']);
let renders: RenderCache | undefined;

/** Settings are checked before the first request: a bad base map setting or an invalid city pack stops the server. */
export const init: ServerInit = () => {
  baseMapConfig();
  cityView();
  const ttl = renderCacheSeconds();
  renders = ttl > 0 ? new RenderCache(ttl * 1000) : undefined;
};

/**
 * The remembered language (cookie) decides what the server renders: Thai unless English was chosen.
 * Answers are compressed (Node's zlib: brotli or gzip, whichever the client accepts); the overview's
 * render is shared per city and language for a few seconds, its compressed forms made once.
 */
export const handle: Handle = async ({ event, resolve }) => {
  event.locals.lang = langFrom(event.cookies.get(LANG_COOKIE));
  const render = async () => {
    const response = await resolve(event, {
      transformPageChunk: ({ html }) => html.replace('<html lang="th">', `<html lang="${event.locals.lang}">`),
    });
    response.headers.set('X-Content-Type-Options', 'nosniff');
    response.headers.set('Referrer-Policy', 'strict-origin-when-cross-origin');
    return response;
  };
  const { request } = event;
  // The URL as requested: SvelteKit's event.url names the page for a data request too ("/" for
  // "/__data.json"), and the data answer also depends on which nodes the client asks again
  // (x-sveltekit-invalidated), which event.url leaves out.
  const raw = new URL(request.url);
  if (renders && request.method === 'GET' && SHARED_RENDERS.has(raw.pathname)) {
    // The key holds everything the render depends on: nothing in these loads is personal (no
    // cookie but the language, no account, no location: "near me" runs in the browser).
    const key = `${cityView().id}|${event.locals.lang}|${raw.pathname}${raw.search}`;
    return renders.handle(key, request, render);
  }
  return compressResponse(request, await render());
};
