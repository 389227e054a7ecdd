/**
 * The dashboard's probes (routes livez, readyz and health):
 *   GET /livez   the Node server answers (never calls the API: an API outage must not restart the dashboard)
 *   GET /readyz  the API answers its own GET /readyz within `timeoutMs` (pages need it), else 503
 *   GET /health  the readiness report, always 200 (status ok or degraded), for people and status pages
 */
export interface DashboardHealth {
  status: 'ok' | 'degraded';
  checks: { api: { ok: boolean; url: string; detail?: string } };
  uptimeSeconds: number;
}

export const liveness = () => ({ status: 'ok' as const, uptimeSeconds: Math.round(process.uptime()) });

/** Readiness: asks the API's /readyz (store answering); `fetcher` is SvelteKit's or the global fetch. */
export async function readiness(
  apiBase: string,
  fetcher: typeof fetch = fetch,
  timeoutMs = 2000,
): Promise<DashboardHealth> {
  const url = `${apiBase.replace(/\/$/, '')}/readyz`;
  let api: DashboardHealth['checks']['api'];
  try {
    const res = await fetcher(url, { signal: AbortSignal.timeout(timeoutMs) });
    await res.body?.cancel();
    api = res.ok ? { ok: true, url } : { ok: false, url, detail: `API answered ${res.status}` };
  } catch (e) {
    api = { ok: false, url, detail: `API not reachable: ${(e as Error).message}` };
  }
  return { status: api.ok ? 'ok' : 'degraded', checks: { api }, uptimeSeconds: liveness().uptimeSeconds };
}

export const NO_STORE = { 'cache-control': 'no-store' };
