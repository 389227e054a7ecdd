/** Small request helpers of the client (client.ts). */
import type { RequestOptions } from './types';

/** A subscription's token as its credential (Authorization: Bearer). */
export const withToken = (token: string, options?: RequestOptions): RequestOptions => ({
  ...options,
  headers: { ...options?.headers, authorization: `Bearer ${token}` },
});

/** A query string: undefined/null dropped, arrays comma-joined, Dates as RFC 3339 (UTC). */
export function queryString(query: object | undefined): string {
  if (!query) return '';
  const out = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value === undefined || value === null) continue;
    if (Array.isArray(value)) out.set(key, value.join(','));
    else if (value instanceof Date) out.set(key, value.toISOString());
    else out.set(key, String(value));
  }
  return out.toString();
}
