/**
 * Public alerts on the dashboard (issue 12): the server's list (layout load, GET /v1/alerts) merged
 * with the `alert` events of the live stream, so a banner appears on an open page without a reload.
 */
import type { PublicAlert, PublicAlertList } from '@cnx/api-client';
import { isDeviceSignal } from '@cnx/domain';

/** Alerts received on the live stream since the page opened, by id (the newest transition wins). */
export const liveAlerts = $state({ byId: {} as Record<number, PublicAlert> });

export function onLiveAlert(a: PublicAlert): void {
  const prev = liveAlerts.byId[a.id];
  if (!prev || prev.updatedAt <= a.updatedAt) liveAlerts.byId[a.id] = a;
}

/** Where a banner is shown, and which alerts belong there. */
export type AlertPlace =
  | { kind: 'city' }
  | { kind: 'station'; id: string }
  | { kind: 'district'; id: string }
  | {
      kind: 'canal';
      stations: readonly string[];
    };

/**
 * The alerts a banner shows: current ones (the live stream's view wins over the server's, and an
 * alert that ended while the page was open stays, marked ended), about air or water (a station
 * being offline is for staff, not a banner), about this place; the most severe first, then newest.
 */
export function bannerAlerts(
  server: PublicAlertList | null | undefined,
  live: Record<number, PublicAlert>,
  place: AlertPlace,
): PublicAlert[] {
  const byId = new Map<number, PublicAlert>();
  for (const a of server?.current ?? []) byId.set(a.id, a);
  for (const a of Object.values(live)) {
    const known = byId.get(a.id);
    if (!known || known.updatedAt <= a.updatedAt) byId.set(a.id, a);
  }
  const rank = { critical: 3, warning: 2, info: 1 } as const;
  return [...byId.values()]
    .filter((a) => !isDeviceSignal(a.signal as never) && about(a, place))
    .sort(
      (a, b) =>
        Number(a.status === 'ended') - Number(b.status === 'ended') ||
        (b.severity ? rank[b.severity] : 0) - (a.severity ? rank[a.severity] : 0) ||
        (a.since < b.since ? 1 : -1),
    );
}

/** Signals about the water (the canal page's banner). */
const WATER = new Set(['canal_level', 'canal_rise', 'do_low']);

function about(a: PublicAlert, place: AlertPlace): boolean {
  if (place.kind === 'city') return true;
  if (place.kind === 'station') return a.stations.includes(place.id);
  if (place.kind === 'district') return a.districts.includes(place.id);
  return WATER.has(a.signal) && a.stations.some((s) => place.stations.includes(s));
}
