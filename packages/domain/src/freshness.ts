/**
 * Freshness: "live" means recent by the reading's own clock. A value is shown as live, streamed as
 * live and evaluated by alert rules only while its time lies within this window of now; a replay, a
 * history upload or a stale reading is data for charts and means, never "now".
 *
 * LIVE_MAX_AGE_MS 15 min: long enough for the slowest firmware we take (Sensor.Community airrohr
 * sends every 145 s) to miss a few sends, short enough that "live" means this quarter hour.
 * LIVE_MAX_FUTURE_MS 2 min: the gateway's `future` tolerance (qc/engine.ts maxFutureSkewMs).
 */
export const LIVE_MAX_AGE_MS = 15 * 60_000;
export const LIVE_MAX_FUTURE_MS = 2 * 60_000;

/** Whether a reading taken at `ts` is live at `now` (epoch ms). */
export function isLive(ts: number, now: number, maxAgeMs = LIVE_MAX_AGE_MS): boolean {
  return ts <= now + LIVE_MAX_FUTURE_MS && now - ts <= maxAgeMs;
}

/** Age of a reading in whole seconds at `now` (0 for a time slightly ahead). */
export const ageSeconds = (ts: number, now: number): number => Math.max(0, Math.round((now - ts) / 1000));
