/**
 * Citizen reports (issue 12 item 3), shared by the alerts service (apps/alerts owns them: its SQLite
 * store already holds the alerts and the staff, so "reports and sensor alerts near each other" is one
 * query there) and the public API (apps/api), which forwards to it. A resident reports smoke, open
 * burning, canal flooding or polluted water at a point, with a short text and an optional photo; no
 * account. Staff approve, reject or merge; approved reports are open data (GeoJSON, the bus event
 * `cnx/v1/{city}/reports/{id}`, the live stream's `event: report`), with no personal data.
 */
import Type, { type Static, type TSchema } from 'typebox';

const Nullable = <T extends TSchema>(t: T) => Type.Union([t, Type.Null()]);
const Text = Type.Object({ th: Type.String(), en: Type.String() });
const Rfc3339 = Type.String({ format: 'date-time', description: 'RFC 3339, UTC' });

export const REPORT_CATEGORIES = ['smoke', 'open_burning', 'canal_flooding', 'polluted_water'] as const;
export type ReportCategory = (typeof REPORT_CATEGORIES)[number];
export const REPORT_STATUSES = ['pending', 'approved', 'rejected', 'merged'] as const;
export type ReportStatus = (typeof REPORT_STATUSES)[number];

/** Longest report text: a short description, not an essay (characters). */
export const MAX_REPORT_TEXT = 500;
/** Largest photo accepted, decoded bytes (a phone JPEG at full size is 2-4 MB). */
export const MAX_PHOTO_BYTES = 4 * 1024 * 1024;
/** Base64 of MAX_PHOTO_BYTES, plus slack so that a slightly larger photo gets a clear 413, not a schema 400. */
export const MAX_PHOTO_BASE64 = Math.ceil((MAX_PHOTO_BYTES * 1.25) / 3) * 4;
/** Longest moderation reason or note (characters). */
export const MAX_MODERATION_NOTE = 500;

const Category = Type.Enum([...REPORT_CATEGORIES], {
  description: 'smoke, open_burning (fields, rubbish), canal_flooding, polluted_water',
});
const Lat = Type.Number({ minimum: -90, maximum: 90, description: 'WGS 84 latitude, degrees' });
const Lon = Type.Number({ minimum: -180, maximum: 180, description: 'WGS 84 longitude, degrees' });

export const ReportRequest = Type.Object(
  {
    lat: Lat,
    lon: Lon,
    category: Category,
    text: Type.String({ minLength: 1, maxLength: MAX_REPORT_TEXT, description: 'What you see (1-500 characters)' }),
    photo: Type.Optional(
      Type.String({
        minLength: 4,
        maxLength: MAX_PHOTO_BASE64,
        description:
          'A JPEG, PNG or WebP photo as base64 (no data: prefix), at most 4 MiB decoded. The type is read from the ' +
          'bytes; the photo is re-encoded as JPEG (at most 1600 px on its longer side) and its metadata, location ' +
          'included, is dropped.',
      }),
    ),
  },
  { additionalProperties: false },
);
export type ReportRequest = Static<typeof ReportRequest>;

export const ReportAccepted = Type.Object({
  id: Type.Integer({ minimum: 1, description: 'The report number' }),
  status: Type.Literal('pending'),
  message: Type.String(),
});

/** The properties of an approved report in the open data (no personal data, no client address). */
export const PublicReportProperties = Type.Object({
  id: Type.Integer({ minimum: 1 }),
  category: Category,
  categoryName: Text,
  text: Type.String({ description: "The resident's text, as approved by staff" }),
  reportedAt: Rfc3339,
  approvedAt: Rfc3339,
  photoUrl: Nullable(Type.String({ description: 'The re-encoded photo (JPEG), relative to the API' })),
  duplicates: Type.Integer({ minimum: 0, description: 'Reports of the same thing merged into this one' }),
});
export type PublicReportProperties = Static<typeof PublicReportProperties>;

export const ReportFeature = Type.Object(
  {
    type: Type.Literal('Feature'),
    id: Type.Integer({ minimum: 1 }),
    geometry: Type.Object({
      type: Type.Literal('Point'),
      coordinates: Type.Array(Type.Number(), {
        minItems: 2,
        maxItems: 2,
        description: '[lon, lat], rounded to 4 decimals (~11 m)',
      }),
    }),
    properties: PublicReportProperties,
  },
  { title: 'ReportFeature' },
);
export type ReportFeature = Static<typeof ReportFeature>;

/** The page of a paged list (`meta` of the API's lists and of the reports GeoJSON). */
export const PageMeta = {
  found: Type.Integer({ description: 'Items matching the filters, on all pages' }),
  limit: Type.Integer({ description: 'Items per page' }),
  page: Type.Integer({ description: 'This page, from 1' }),
  count: Type.Integer({ description: 'Items on this page' }),
};

/** Approved reports listed at most per page (GET /v1/reports `limit`). */
export const MAX_REPORTS_PAGE = 1000;

/** GET /v1/reports: pages count back from the newest approval. */
export const ReportListQuery = Type.Object(
  {
    limit: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: MAX_REPORTS_PAGE,
        default: MAX_REPORTS_PAGE,
        description: `Reports per page (at most ${MAX_REPORTS_PAGE})`,
      }),
    ),
    page: Type.Optional(
      Type.Integer({
        minimum: 1,
        default: 1,
        description: 'Page 1 holds the newest approvals, page 2 those before, ...',
      }),
    ),
  },
  { additionalProperties: false },
);
export type ReportListQuery = Static<typeof ReportListQuery>;

export const ReportFeatureCollection = Type.Object(
  {
    type: Type.Literal('FeatureCollection'),
    features: Type.Array(ReportFeature),
    // A foreign member (RFC 7946 6.1): GeoJSON readers ignore it.
    meta: Type.Object(PageMeta),
  },
  { title: 'ReportFeatureCollection' },
);
export type ReportFeatureCollection = Static<typeof ReportFeatureCollection>;

/** `cnx/v1/{city}/reports/{id}` (QoS 1, not retained): a report became public. */
export const ReportEventPayload = Type.Object({
  v: Type.Literal(1),
  city: Type.String(),
  type: Type.Literal('approved'),
  report: ReportFeature,
});
export type ReportEventPayload = Static<typeof ReportEventPayload>;

// --- staff -------------------------------------------------------------------------------------------

export const ReportApproveBody = Type.Object(
  { note: Type.Optional(Type.String({ maxLength: MAX_MODERATION_NOTE })) },
  { additionalProperties: false },
);
export const ReportRejectBody = Type.Object(
  {
    reason: Type.String({
      minLength: 1,
      maxLength: MAX_MODERATION_NOTE,
      description: 'Why (kept in the audit trail; never public)',
    }),
  },
  { additionalProperties: false },
);
export const ReportMergeBody = Type.Object(
  {
    into: Type.Integer({ minimum: 1, description: 'The report this one duplicates (pending or approved)' }),
    note: Type.Optional(Type.String({ maxLength: MAX_MODERATION_NOTE })),
  },
  { additionalProperties: false },
);

export const StaffReport = Type.Object({
  id: Type.Integer({ minimum: 1 }),
  status: Type.Enum([...REPORT_STATUSES]),
  category: Category,
  text: Type.String({ description: "The resident's text ('' once a rejected or merged report was purged)" }),
  lat: Type.Number(),
  lon: Type.Number(),
  reportedAt: Rfc3339,
  photo: Type.Boolean({ description: 'A photo is kept (GET /v1/staff/reports/{id}/photo)' }),
  moderatedBy: Nullable(Type.String()),
  moderatedAt: Nullable(Rfc3339),
  reason: Nullable(Type.String()),
  mergedInto: Nullable(Type.Integer()),
  duplicates: Type.Integer({ minimum: 0 }),
});
export type StaffReport = Static<typeof StaffReport>;

export const StaffReportList = Type.Object({ reports: Type.Array(StaffReport) });

export const NearbyAlert = Type.Object({
  id: Type.Integer({ minimum: 1 }),
  rule: Type.String(),
  ruleName: Text,
  subject: Type.Object({ type: Type.String(), id: Type.String(), name: Text }),
  level: Nullable(Type.String()),
  status: Type.String({ description: 'firing, acknowledged, resolved, cleared' }),
  value: Nullable(Type.Number()),
  since: Rfc3339,
  endedAt: Nullable(Rfc3339),
  distanceM: Type.Integer({
    minimum: 0,
    description: 'From the report to the nearest station the alert is about (0: city-wide)',
  }),
});

export const NearbyReport = Type.Object({
  id: Type.Integer({ minimum: 1 }),
  status: Type.Enum([...REPORT_STATUSES]),
  category: Category,
  reportedAt: Rfc3339,
  distanceM: Type.Integer({ minimum: 0 }),
});

export const ReportAuditEntry = Type.Object({
  at: Rfc3339,
  actor: Type.String({ description: "A staff id, or 'system'" }),
  actorName: Nullable(Type.String()),
  action: Type.String({ description: 'submitted, approved, rejected, merged_into, duplicate_merged, purged' }),
  detail: Nullable(Type.Record(Type.String(), Type.Unknown())),
});

export const StaffReportDetail = Type.Object({
  report: StaffReport,
  nearby: Type.Object({
    radiusM: Type.Integer({ description: 'Alerts and reports within this distance of the report' }),
    hoursBefore: Type.Integer({ description: 'Alerts active at some time from this long before the report...' }),
    hoursAfter: Type.Integer({ description: '...to this long after it (reports made in the same window)' }),
    alerts: Type.Array(NearbyAlert),
    reports: Type.Array(NearbyReport),
  }),
  audit: Type.Array(ReportAuditEntry),
});
export type StaffReportDetail = Static<typeof StaffReportDetail>;

export const ReportModerated = Type.Object({
  id: Type.Integer({ minimum: 1 }),
  status: Type.Enum(['approved', 'rejected', 'merged']),
  by: Type.String(),
  at: Rfc3339,
  mergedInto: Type.Optional(Type.Integer()),
});

/** Names of the categories, Thai first (the public data carries them so a map needs no lookup table). */
export const REPORT_CATEGORY_NAMES: Record<ReportCategory, { th: string; en: string }> = {
  smoke: { th: 'ควัน', en: 'Smoke' },
  open_burning: { th: 'การเผาในที่โล่ง', en: 'Open burning' },
  canal_flooding: { th: 'น้ำท่วม/น้ำล้นคลอง', en: 'Canal flooding' },
  polluted_water: { th: 'น้ำเสีย', en: 'Polluted water' },
};
