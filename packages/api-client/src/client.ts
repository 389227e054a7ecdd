import { CivicClient } from './client.civic';
import type {
  AdminConfig,
  AlertAction,
  AlertActionBody,
  AlertAudit,
  CacheFlushed,
  ReportApprove,
  ReportMerge,
  ReportModerated,
  ReportReject,
  StaffAlertList,
  StaffReportDetail,
  StaffReportList,
} from './generated/openapi';
import type { ClientOptions, OperationId, RequestOptions } from './types';

export { allPages } from './client.reads';

/** Every operation of the document has a method of the same name (checked by the compiler). */
type OperationMethods = { [K in OperationId]: (...args: never[]) => unknown };

/**
 * The typed client of the cnx-sense open-data API: one method per operation of its OpenAPI document
 * (method name = operationId), typed from the document (src/generated/openapi.ts). Only `fetch` (and
 * EventSource where there is one): it runs in browsers and in Node ≥ 20.
 *
 * By concern: transport.ts (URLs, fetch, credentials, ETags, `call`), client.reads.ts (open data),
 * client.civic.ts (public alerts, subscriptions, citizen reports) and here the admin and staff
 * operations.
 *
 * Errors: every non-2xx answer throws an ApiError with the API's `{code, message, details}`.
 */
export class CnxApiClient extends CivicClient implements OperationMethods {
  // --- admin (API key) ----------------------------------------------------------------------------

  /** Empties the "now" view cache (needs `apiKey`). */
  flushCache(options?: RequestOptions): Promise<CacheFlushed> {
    return this.json('flushCache', {}, options);
  }

  /** The effective configuration, secrets redacted (needs `apiKey`). */
  getConfig(options?: RequestOptions): Promise<AdminConfig> {
    return this.json('getConfig', {}, options);
  }

  // --- staff (staff token) ------------------------------------------------------------------------

  /** Alerts firing or acknowledged, with who acknowledged them (needs `staffToken`). */
  listStaffAlerts(options?: RequestOptions): Promise<StaffAlertList> {
    return this.json('listStaffAlerts', {}, options);
  }

  /** Acknowledge a firing alert (stops escalation); 409 `alert_conflict` if it is not firing. */
  acknowledgeAlert(alertId: number, body: AlertActionBody = {}, options?: RequestOptions): Promise<AlertAction> {
    return this.json('acknowledgeAlert', { path: { alertId: String(alertId) }, body }, options);
  }

  /** Close an alert by hand; 409 `alert_conflict` if it is already closed. */
  resolveAlert(alertId: number, body: AlertActionBody = {}, options?: RequestOptions): Promise<AlertAction> {
    return this.json('resolveAlert', { path: { alertId: String(alertId) }, body }, options);
  }

  /** Who did what when to an alert, and its deliveries (404 `alert_not_found`). */
  getAlertAudit(alertId: number, options?: RequestOptions): Promise<AlertAudit> {
    return this.json('getAlertAudit', { path: { alertId: String(alertId) } }, options);
  }

  // --- staff: citizen reports (staff token) ---------------------------------------------------------

  /** Staff: reports, newest first, optionally in one state (needs `staffToken`). */
  listStaffReports(
    query?: { status?: 'pending' | 'approved' | 'rejected' | 'merged' },
    options?: RequestOptions,
  ): Promise<StaffReportList> {
    return this.json('listStaffReports', { query }, options);
  }

  /** Staff: one report, the sensor alerts and reports near it, and its audit trail. */
  getStaffReport(reportId: number, options?: RequestOptions): Promise<StaffReportDetail> {
    return this.json('getStaffReport', { path: { reportId: String(reportId) } }, options);
  }

  /** Staff: the photo of a report not yet approved, as the Response (`await response.blob()`). */
  getStaffReportPhoto(reportId: number, options?: RequestOptions): Promise<Response> {
    return this.ok('getStaffReportPhoto', { path: { reportId: String(reportId) } }, options, 'image/jpeg');
  }

  /** Staff: approve a pending report (409 `report_conflict` if it is not pending). */
  approveReport(reportId: number, body: ReportApprove = {}, options?: RequestOptions): Promise<ReportModerated> {
    return this.json('approveReport', { path: { reportId: String(reportId) }, body }, options);
  }

  /** Staff: reject a pending report with a reason. */
  rejectReport(reportId: number, body: ReportReject, options?: RequestOptions): Promise<ReportModerated> {
    return this.json('rejectReport', { path: { reportId: String(reportId) }, body }, options);
  }

  /** Staff: merge a pending report into the one it duplicates. */
  mergeReport(reportId: number, body: ReportMerge, options?: RequestOptions): Promise<ReportModerated> {
    return this.json('mergeReport', { path: { reportId: String(reportId) }, body }, options);
  }
}

/** A client for the API at `baseUrl`. */
export function createClient(options: ClientOptions = {}): CnxApiClient {
  return new CnxApiClient(options);
}
