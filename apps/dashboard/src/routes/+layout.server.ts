import { publicApiUrl } from '$lib/server/api';
import { cityView } from '$lib/server/city';
import type { LayoutServerLoad } from './$types';

export const load: LayoutServerLoad = ({ locals }) => ({
  lang: locals.lang,
  publicApiUrl: publicApiUrl(),
  city: cityView(),
});
