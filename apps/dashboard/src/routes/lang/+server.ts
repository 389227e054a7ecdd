import { redirect } from '@sveltejs/kit';
import { LANG_COOKIE, langFrom } from '$lib/i18n';
import type { RequestHandler } from './$types';

const YEAR_S = 365 * 24 * 3600;

/** A plain link switches the language (works without JavaScript): remember it, go back. */
export const GET: RequestHandler = ({ url, cookies }) => {
  const lang = langFrom(url.searchParams.get('to'));
  cookies.set(LANG_COOKIE, lang, { path: '/', maxAge: YEAR_S, sameSite: 'lax', httpOnly: false, secure: false });
  const back = url.searchParams.get('back') ?? '/';
  // Only same-site paths: never an open redirect.
  redirect(303, back.startsWith('/') && !back.startsWith('//') && !back.startsWith('/\\') ? back : '/');
};
