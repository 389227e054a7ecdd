/**
 * Citizen reports (issue 12 item 3): intake (photo made safe, point inside the city), staff
 * moderation with an audit trail (approve, reject with a reason, merge a duplicate), the open data of
 * approved reports, and for staff the sensor alerts and other reports near a report. Approval is
 * announced on the bus (`cnx/v1/{city}/reports/{id}`), which the public API turns into the live
 * stream's `event: report`.
 */
import { type BBox, distanceM, pointInBBox } from '@cnx/city-pack';
import type { GeoPoint } from '@cnx/domain';
import {
  MAX_REPORTS_PAGE,
  REPORT_CATEGORY_NAMES,
  type ReportEventPayload,
  type ReportFeature,
  type ReportFeatureCollection,
  type ReportListQuery,
  type ReportRequest,
  type ReportStatus,
  type StaffReport,
  type StaffReportDetail,
} from '@cnx/protocol';
import type { Logger } from '@cnx/runtime';
import { AlertsError, badField } from '../errors';
import type { Evaluator } from '../evaluator';
import type { AlertStore } from '../store';
import { safePhoto } from './photo';
import type { ReportRow, ReportStore } from './report.store';

/** "Near": alerts and reports within this distance of a report (a few city blocks to a district). */
export const NEAR_RADIUS_M = 3000;
/** ...active at some time from this long before the report to this long after it. */
export const NEAR_HOURS_BEFORE = 6;
export const NEAR_HOURS_AFTER = 6;
/** Most reports listed in one answer (staff list, open data). */
export const MAX_LISTED = 1000;
const HOUR = 3_600_000;

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
/** 4 decimals of a degree: ~11 m, where the report is, not the reporter's doorstep to the metre. */
const round4 = (x: number) => Math.round(x * 1e4) / 1e4;

export interface ReportCity {
  id: string;
  bbox: BBox;
  stations: Map<string, GeoPoint & { district: string }>;
}

export class ReportsService {
  constructor(
    private readonly reports: ReportStore,
    private readonly alerts: AlertStore,
    private readonly evaluator: Evaluator,
    private readonly city: ReportCity,
    private readonly staffNames: Map<string, string>,
    private readonly publish: (reportId: number, payload: ReportEventPayload) => void,
    private readonly logger: Logger,
    private readonly now: () => number = Date.now,
  ) {}

  async create(req: ReportRequest): Promise<{ id: number }> {
    if (!pointInBBox({ lat: req.lat, lon: req.lon }, this.city.bbox))
      throw badField('lat/lon', `is outside the city (bbox ${this.city.bbox.join(', ')})`, [req.lat, req.lon]);
    const text = req.text.trim();
    if (!text) throw badField('text', 'is empty');
    let jpeg: Buffer | undefined;
    if (req.photo !== undefined) {
      const photo = await safePhoto(req.photo);
      if (!photo.ok) throw new AlertsError(photo.error.code, photo.error.message);
      jpeg = photo.value.jpeg;
    }
    const id = this.reports.insert(
      {
        status: 'pending',
        category: req.category,
        text,
        lat: Math.round(req.lat * 1e6) / 1e6,
        lon: Math.round(req.lon * 1e6) / 1e6,
        reported_at: this.now(),
        has_photo: jpeg ? 1 : 0,
      },
      jpeg,
    );
    this.logger.info({ report: id, category: req.category, photo: !!jpeg }, 'report received');
    return { id };
  }

  // --- staff -------------------------------------------------------------------------------------

  list(status: ReportStatus | undefined): { reports: StaffReport[] } {
    const dups = this.reports.duplicateCounts();
    return { reports: this.reports.list(status, MAX_LISTED).map((r) => this.staffView(r, dups)) };
  }

  detail(id: number): StaffReportDetail {
    const r = this.get(id);
    const at = r.reported_at;
    const from = at - NEAR_HOURS_BEFORE * HOUR;
    const to = at + NEAR_HOURS_AFTER * HOUR;
    const here = { lat: r.lat, lon: r.lon };
    const alerts = this.alerts
      .alertsOverlapping(from, to)
      .map((a) => ({ a, d: this.alertDistance(a.subject_type, a.subject_id, here) }))
      .filter((x): x is { a: (typeof x)['a']; d: number } => x.d !== undefined && x.d <= NEAR_RADIUS_M)
      .sort((x, y) => x.d - y.d)
      .map(({ a, d }) => {
        const rule = this.evaluator.rule(a.rule_id);
        const ended = a.status === 'cleared' || a.status === 'resolved';
        return {
          id: a.id,
          rule: a.rule_id,
          ruleName: rule?.name ?? { th: a.rule_id, en: a.rule_id },
          subject: {
            type: a.subject_type,
            id: a.subject_id,
            name: this.evaluator.subjectName(a.subject_type, a.subject_id),
          },
          level: ended ? null : (rule?.levels[a.level]?.id ?? null),
          status: a.status,
          value: a.value,
          since: iso(a.since)!,
          endedAt: ended ? iso(a.resolved_at ?? a.updated_at) : null,
          distanceM: Math.round(d),
        };
      });
    const reports = this.reports
      .between(from, to)
      .filter((o) => o.id !== r.id)
      .map((o) => ({ o, d: distanceM(here, { lat: o.lat, lon: o.lon }) }))
      .filter((x) => x.d <= NEAR_RADIUS_M)
      .sort((x, y) => x.d - y.d)
      .map(({ o, d }) => ({
        id: o.id,
        status: o.status,
        category: o.category,
        reportedAt: iso(o.reported_at)!,
        distanceM: Math.round(d),
      }));
    return {
      report: this.staffView(r, this.reports.duplicateCounts()),
      nearby: {
        radiusM: NEAR_RADIUS_M,
        hoursBefore: NEAR_HOURS_BEFORE,
        hoursAfter: NEAR_HOURS_AFTER,
        alerts,
        reports,
      },
      audit: this.reports.auditOf(r.id).map((e) => ({
        at: iso(e.at)!,
        actor: e.actor,
        actorName: e.actor === 'system' ? null : (this.staffNames.get(e.actor) ?? null),
        action: e.action,
        detail: e.detail === null ? null : (JSON.parse(e.detail) as Record<string, unknown>),
      })),
    };
  }

  approve(id: number, by: string, note?: string) {
    const t = this.now();
    const r = this.pending(id);
    this.reports.tx(() => {
      this.reports.update(r.id, { status: 'approved', moderated_by: by, moderated_at: t });
      this.reports.audit(r.id, t, by, 'approved', note === undefined ? undefined : { note });
    });
    const feature = this.feature({ ...r, status: 'approved', moderated_by: by, moderated_at: t });
    this.publish(r.id, { v: 1, city: this.city.id, type: 'approved', report: feature });
    this.logger.info({ report: r.id, by }, 'report approved');
    return { id: r.id, status: 'approved' as const, by, at: iso(t)! };
  }

  reject(id: number, by: string, reason: string) {
    const t = this.now();
    const r = this.pending(id);
    this.reports.tx(() => {
      this.reports.update(r.id, { status: 'rejected', moderated_by: by, moderated_at: t, reason });
      // A rejected photo is never shown to anyone again: it goes now, not at the purge.
      this.reports.deletePhoto(r.id);
      this.reports.audit(r.id, t, by, 'rejected', { reason });
    });
    this.logger.info({ report: r.id, by }, 'report rejected');
    return { id: r.id, status: 'rejected' as const, by, at: iso(t)! };
  }

  merge(id: number, into: number, by: string, note?: string) {
    const t = this.now();
    const r = this.pending(id);
    if (into === r.id) throw new AlertsError('report_conflict', `report ${id} cannot be merged into itself`);
    const target = this.get(into);
    if (target.status !== 'pending' && target.status !== 'approved')
      throw new AlertsError(
        'report_conflict',
        `report ${into} is ${target.status}: merge into a pending or approved report`,
      );
    this.reports.tx(() => {
      this.reports.update(r.id, { status: 'merged', moderated_by: by, moderated_at: t, merged_into: into });
      // The report it joins keeps its own photo; a duplicate's is not published.
      this.reports.deletePhoto(r.id);
      this.reports.audit(r.id, t, by, 'merged_into', { into, ...(note === undefined ? {} : { note }) });
      this.reports.audit(into, t, by, 'duplicate_merged', { from: r.id });
    });
    this.logger.info({ report: r.id, into, by }, 'report merged');
    return { id: r.id, status: 'merged' as const, by, at: iso(t)!, mergedInto: into };
  }

  /** The photo of a report: to the public only once approved; to staff while it is kept. */
  photo(id: number, staff: boolean): Buffer {
    const r = this.reports.get(id);
    const jpeg = r && (staff || r.status === 'approved') ? this.reports.photo(id) : undefined;
    if (!jpeg) throw new AlertsError('report_not_found', `no photo of report ${id}`);
    return jpeg;
  }

  // --- open data -----------------------------------------------------------------------------------

  /** One page of the approved reports: page 1 the newest `limit`, oldest first among them. */
  geojson(q: ReportListQuery = {}): ReportFeatureCollection {
    const limit = q.limit ?? MAX_REPORTS_PAGE;
    const page = q.page ?? 1;
    const dups = this.reports.duplicateCounts();
    const features = this.reports.approved(limit, (page - 1) * limit).map((r) => this.feature(r, dups.get(r.id) ?? 0));
    return {
      type: 'FeatureCollection',
      features,
      meta: { found: this.reports.approvedCount(), limit, page, count: features.length },
    };
  }

  /** Rejected and merged reports' texts and exact points, `retentionDays` after moderation. */
  purge(retentionDays: number): number {
    const t = this.now();
    const n = this.reports.purgeModerated(t - retentionDays * 24 * HOUR, t);
    if (n > 0) this.logger.info({ purged: n }, 'moderated reports purged');
    return n;
  }

  // --- helpers -------------------------------------------------------------------------------------

  private get(id: number): ReportRow {
    const r = this.reports.get(id);
    if (!r) throw new AlertsError('report_not_found', `no report ${id}`);
    return r;
  }

  private pending(id: number): ReportRow {
    const r = this.get(id);
    if (r.status !== 'pending')
      throw new AlertsError(
        'report_conflict',
        `report ${id} is already ${r.status}: only a pending report is moderated`,
      );
    return r;
  }

  /** Metres from a point to what an alert is about: its station, the nearest station of its district, 0 city-wide. */
  private alertDistance(type: string, id: string, p: GeoPoint): number | undefined {
    if (type === 'city') return 0;
    const pts =
      type === 'station'
        ? [this.city.stations.get(id)].filter((s) => s !== undefined)
        : [...this.city.stations.values()].filter((s) => s.district === id);
    if (!pts.length) return undefined;
    return Math.min(...pts.map((s) => distanceM(p, s)));
  }

  private staffView(r: ReportRow, dups: Map<number, number>): StaffReport {
    return {
      id: r.id,
      status: r.status,
      category: r.category,
      text: r.text,
      lat: r.lat,
      lon: r.lon,
      reportedAt: iso(r.reported_at)!,
      photo: r.has_photo === 1,
      moderatedBy: r.moderated_by,
      moderatedAt: iso(r.moderated_at),
      reason: r.reason,
      mergedInto: r.merged_into,
      duplicates: dups.get(r.id) ?? 0,
    };
  }

  private feature(r: ReportRow, duplicates = 0): ReportFeature {
    return {
      type: 'Feature',
      id: r.id,
      geometry: { type: 'Point', coordinates: [round4(r.lon), round4(r.lat)] },
      properties: {
        id: r.id,
        category: r.category,
        categoryName: REPORT_CATEGORY_NAMES[r.category],
        text: r.text,
        reportedAt: iso(r.reported_at)!,
        approvedAt: iso(r.moderated_at)!,
        photoUrl: r.has_photo ? `/v1/reports/${r.id}/photo` : null,
        duplicates,
      },
    };
  }
}
