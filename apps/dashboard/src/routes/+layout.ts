import { useCity } from '$lib/city';
import type { LayoutLoad } from './$types';

/**
 * The city pack's words and time zone become the ones every message and date uses, before any page
 * renders: this load runs on the server and again in the browser (hydration), with the server's data.
 */
export const load: LayoutLoad = ({ data }) => {
  useCity(data.city);
  return data;
};
