/**
 * Approved citizen reports received on the live stream since the page opened (issue 12 item 3): the
 * stream's `report` events, so a report staff approve appears on an open map without a reload.
 */
import type { ReportFeature } from '@cnx/api-client';

/** Reports approved since the page opened (live stream), by id. */
export const liveReports = $state({ byId: {} as Record<number, ReportFeature> });

export function onLiveReport(r: ReportFeature): void {
  liveReports.byId[r.id] = r;
}
