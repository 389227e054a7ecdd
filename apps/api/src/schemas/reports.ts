/**
 * Citizen reports (issue 12 item 3). The shapes are @cnx/protocol's (shared with the alerts service,
 * which owns the reports and which this API forwards to), titled here so they become named OpenAPI
 * components.
 */
import {
  NearbyAlert as NearbyAlertCore,
  NearbyReport as NearbyReportCore,
  REPORT_STATUSES,
  ReportAccepted as ReportAcceptedCore,
  ReportApproveBody as ReportApproveBodyCore,
  ReportAuditEntry as ReportAuditEntryCore,
  ReportFeature,
  ReportFeatureCollection,
  ReportListQuery,
  ReportMergeBody as ReportMergeBodyCore,
  ReportModerated as ReportModeratedCore,
  ReportRejectBody as ReportRejectBodyCore,
  ReportRequest as ReportRequestCore,
  StaffReport as StaffReportCore,
} from '@cnx/protocol';
import Type from 'typebox';

export { ReportFeature, ReportFeatureCollection, ReportListQuery };

export const ReportRequest = Type.Object(ReportRequestCore.properties, {
  additionalProperties: false,
  title: 'ReportRequest',
});
export const ReportAccepted = Type.Object(ReportAcceptedCore.properties, { title: 'ReportAccepted' });
export const ReportIdParams = Type.Object(
  {
    reportId: Type.Integer({
      minimum: 1,
      maximum: 999_999_999_999_999,
      description: 'A report number',
      examples: [1],
    }),
  },
  { additionalProperties: false },
);
export const StaffReport = Type.Object(StaffReportCore.properties, { title: 'StaffReport' });
export const StaffReportList = Type.Object({ reports: Type.Array(StaffReport) }, { title: 'StaffReportList' });
export const StaffReportQuery = Type.Object(
  { status: Type.Optional(Type.Enum([...REPORT_STATUSES], { description: 'Only reports in this state' })) },
  { additionalProperties: false },
);
const NearbyAlert = Type.Object(NearbyAlertCore.properties, { title: 'NearbyAlert' });
const NearbyReport = Type.Object(NearbyReportCore.properties, { title: 'NearbyReport' });
const ReportAuditEntry = Type.Object(ReportAuditEntryCore.properties, { title: 'ReportAuditEntry' });
export const StaffReportDetail = Type.Object(
  {
    report: StaffReport,
    nearby: Type.Object({
      radiusM: Type.Integer({ description: 'Alerts and reports within this distance of the report, metres' }),
      hoursBefore: Type.Integer({ description: 'Alerts active at some time from this many hours before the report' }),
      hoursAfter: Type.Integer({ description: '...to this many hours after it (reports made in the same window)' }),
      alerts: Type.Array(NearbyAlert, { description: 'Sensor alerts near the report, nearest first' }),
      reports: Type.Array(NearbyReport, { description: 'Other reports near it (duplicates to merge?), nearest first' }),
    }),
    audit: Type.Array(ReportAuditEntry, { description: 'Who did what when to the report' }),
  },
  { title: 'StaffReportDetail' },
);
export const ReportApproveBody = Type.Object(ReportApproveBodyCore.properties, {
  additionalProperties: false,
  title: 'ReportApprove',
});
export const ReportRejectBody = Type.Object(ReportRejectBodyCore.properties, {
  additionalProperties: false,
  title: 'ReportReject',
});
export const ReportMergeBody = Type.Object(ReportMergeBodyCore.properties, {
  additionalProperties: false,
  title: 'ReportMerge',
});
export const ReportModerated = Type.Object(ReportModeratedCore.properties, { title: 'ReportModerated' });
