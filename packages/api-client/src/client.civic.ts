import { PublicReadsClient } from './client.reads';
import type {
  AlertRuleList,
  PersonalDataErased,
  PersonalDataExport,
  PublicAlertList,
  ReportAccepted,
  ReportFeatureCollection,
  ReportRequest,
  Subscription,
  SubscriptionAccepted,
  SubscriptionEnded,
  SubscriptionRequest,
  SubscriptionUpdate,
  WebPushKey,
} from './generated/openapi';
import { withToken } from './request';
import type { ReportsQuery, RequestOptions } from './types';

/**
 * The citizen side of the client (part of CnxApiClient): public alerts, subscriptions with their token
 * (and the PDPA export and erasure), and sending and reading citizen reports.
 */
export class CivicClient extends PublicReadsClient {
  // --- public alerts and subscriptions (issue 12) ------------------------------------------------

  /** Alerts firing now and those that ended recently (no personal data). */
  listAlerts(options?: RequestOptions): Promise<PublicAlertList> {
    return this.json('listAlerts', {}, options);
  }

  /** The city's alert rules: signal, scope, levels with thresholds and labels. */
  listAlertRules(options?: RequestOptions): Promise<AlertRuleList> {
    return this.json('listAlertRules', {}, options);
  }

  /** Ask for alerts (double opt-in): 202, the same answer whether or not the address is subscribed. */
  createSubscription(body: SubscriptionRequest, options?: RequestOptions): Promise<SubscriptionAccepted> {
    return this.json('createSubscription', { body }, options) as Promise<never>;
  }

  /** Confirm with the token from the confirmation message (404 `subscription_not_found`). */
  confirmSubscription(token: string, options?: RequestOptions): Promise<Subscription> {
    return this.json('confirmSubscription', { body: { token } }, options);
  }

  /** The subscription of a token (its address masked). */
  getSubscription(token: string, options?: RequestOptions): Promise<Subscription> {
    return this.json('getSubscription', {}, withToken(token, options));
  }

  /** Change scope, language, PM2.5 threshold, quiet hours, daily cap or rules. */
  updateSubscription(token: string, body: SubscriptionUpdate, options?: RequestOptions): Promise<Subscription> {
    return this.json('updateSubscription', { body }, withToken(token, options));
  }

  /** Delete the subscription and its contact details. */
  deleteSubscription(token: string, options?: RequestOptions): Promise<SubscriptionEnded> {
    return this.json('deleteSubscription', {}, withToken(token, options));
  }

  /** Everything held about the contact of a token (Thailand's PDPA): the address unmasked, every subscription, the deliveries. */
  exportSubscriptionData(token: string, options?: RequestOptions): Promise<PersonalDataExport> {
    return this.json('exportSubscriptionData', {}, withToken(token, options));
  }

  /** Erase every subscription of the contact of a token, at once; `{status: 'erased'}` whatever was held. */
  eraseSubscriptionData(token: string, options?: RequestOptions): Promise<PersonalDataErased> {
    return this.json('eraseSubscriptionData', {}, withToken(token, options));
  }

  /** One-click unsubscribe (the List-Unsubscribe link's POST, RFC 8058). */
  unsubscribe(token: string, options?: RequestOptions): Promise<SubscriptionEnded> {
    return this.json('unsubscribe', { query: { token } }, options);
  }

  /** The VAPID public key for PushManager.subscribe's applicationServerKey. */
  getWebPushKey(options?: RequestOptions): Promise<WebPushKey> {
    return this.json('getWebPushKey', {}, options);
  }

  // --- citizen reports (issue 12) -----------------------------------------------------------------

  /** Send a report (no account): 202 with its number; staff check it before it is public. */
  createReport(body: ReportRequest, options?: RequestOptions): Promise<ReportAccepted> {
    return this.json('createReport', { body }, options) as Promise<never>;
  }

  /** Approved reports as a GeoJSON FeatureCollection (open data): one page counted back from the newest (default the newest 1000). */
  async listReports(query?: ReportsQuery, options?: RequestOptions): Promise<ReportFeatureCollection> {
    const res = await this.ok('listReports', { query }, options, 'application/geo+json');
    return (await this.parseJson(res, 'listReports')) as ReportFeatureCollection;
  }

  /** The URL of an approved report's photo (for an `<img src>`). */
  reportPhotoUrl(reportId: number): string {
    return this.url('getReportPhoto', { path: { reportId: String(reportId) } });
  }

  /** An approved report's photo (JPEG) as the Response: `await response.blob()`. */
  getReportPhoto(reportId: number, options?: RequestOptions): Promise<Response> {
    return this.ok('getReportPhoto', { path: { reportId: String(reportId) } }, options, 'image/jpeg');
  }
}
