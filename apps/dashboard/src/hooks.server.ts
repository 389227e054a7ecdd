import type { Handle, ServerInit } from '@sveltejs/kit';
import { LANG_COOKIE, langFrom } from '$lib/i18n';
import { baseMapConfig } from '$lib/server/basemap';
import { cityView } from '$lib/server/city';

/** Settings are checked before the first request: a bad base map setting or an invalid city pack stops the server. */
export const init: ServerInit = () => {
  baseMapConfig();
  cityView();
};

/** The remembered language (cookie) decides what the server renders: Thai unless English was chosen. */
export const handle: Handle = async ({ event, resolve }) => {
  event.locals.lang = langFrom(event.cookies.get(LANG_COOKIE));
  const response = await resolve(event, {
    transformPageChunk: ({ html }) => html.replace('<html lang="th">', `<html lang="${event.locals.lang}">`),
  });
  response.headers.set('X-Content-Type-Options', 'nosniff');
  response.headers.set('Referrer-Policy', 'strict-origin-when-cross-origin');
  return response;
};
