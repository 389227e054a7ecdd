import { publicApiUrl } from '$lib/server/api';
import type { LayoutServerLoad } from './$types';

export const load: LayoutServerLoad = ({ locals }) => ({ lang: locals.lang, publicApiUrl: publicApiUrl() });
