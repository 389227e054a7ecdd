/**
 * Shared schemas (docs/architecture.md house style 5): every route builds its schemas from these. A schema with a
 * `title` becomes a named component of the OpenAPI document (plugins/swagger.plugin.ts hoists it),
 * so a generated client gets named types (Station, ErrorResponse...).
 */
import { METRIC_IDS, QC_FLAG_LIST } from '@cnx/domain';
import Type, { type TSchema } from 'typebox';
import { API_ERROR_CODES } from '../errors';
import { TIME_PATTERN } from '../util/time';

/** City-pack ids: lowercase, digits and '-', 1-63 characters (packages/city-pack ID_PATTERN). */
export const ID_PATTERN = '^[a-z0-9][a-z0-9-]{0,62}$';
/** A comma-separated list of 1..100 ids. */
export const ID_LIST_PATTERN = '^[a-z0-9][a-z0-9-]{0,62}(,[a-z0-9][a-z0-9-]{0,62}){0,99}$';

export const StationId = Type.String({
  pattern: ID_PATTERN,
  maxLength: 63,
  description: 'A station id of the city pack (lowercase letters, digits and -)',
  examples: ['xx-air-01'],
});

export const CanalStationId = Type.String({
  pattern: ID_PATTERN,
  maxLength: 63,
  description: 'The id of a canal station of the city pack',
  examples: ['xx-canal-01'],
});

export const DistrictId = Type.String({
  pattern: ID_PATTERN,
  maxLength: 63,
  description: 'A district id of the city pack',
  examples: ['xx-centre'],
});

export const StationParams = Type.Object({ stationId: StationId }, { additionalProperties: false });
export const CanalParams = Type.Object({ stationId: CanalStationId }, { additionalProperties: false });
export const DistrictParams = Type.Object({ districtId: DistrictId }, { additionalProperties: false });

export const Time = (description: string) =>
  Type.String({ pattern: TIME_PATTERN, maxLength: 40, description, examples: ['2025-03-01T13:00:00+07:00'] });

/** An RFC 3339 UTC time in a response. */
export const Timestamp = Type.String({ format: 'date-time', description: 'RFC 3339, UTC' });

export const StationKind = Type.Enum(['air', 'canal'], {
  description: 'air: PM stations; canal: level/quality stations',
});
export const MetricId = Type.Enum([...METRIC_IDS], { description: 'A metric of the registry (GET /v1/meta)' });
export const QcFlag = Type.Enum([...QC_FLAG_LIST], { description: 'A quality-control flag (docs/qc.md)' });

const QC_MODES = ['usable', 'include', 'exclude-flagged', 'only-flagged'] as const;
const QC_MODE_DESCRIPTION =
  'usable: the readings the quality policy lets into figures (no range, spike, stuck, seq_duplicate, future or ' +
  'stale flag on the metric asked for or on the whole reading; humidity only annotates: docs/qc.md); include: all ' +
  'readings; exclude-flagged: only readings without a QC flag (for a series: on its metric or the whole reading); ' +
  'only-flagged: only flagged ones';
export const QcMode = Type.Enum([...QC_MODES], { description: QC_MODE_DESCRIPTION });
/** The qc query parameter with its default. */
export const qcParam = (fallback: (typeof QC_MODES)[number]) =>
  Type.Enum([...QC_MODES], { description: QC_MODE_DESCRIPTION, default: fallback });

export const IdList = (what: string) =>
  Type.String({
    pattern: ID_LIST_PATTERN,
    maxLength: 6400,
    description: `Comma-separated ${what} ids (at most 100)`,
  });

export const BBox = Type.String({
  pattern: '^-?\\d{1,3}(\\.\\d{1,10})?(,-?\\d{1,3}(\\.\\d{1,10})?){3}$',
  maxLength: 80,
  description: 'west,south,east,north in degrees (WGS 84), as GeoJSON bbox',
  examples: ['98.95,18.77,99.01,18.81'],
});

/** Largest radius of a radius search, metres (as OpenAQ v3: 25 km, a city and its surroundings). */
export const MAX_RADIUS_M = 25_000;

export const Coordinates = Type.String({
  pattern: '^-?\\d{1,2}(\\.\\d{1,10})?,-?\\d{1,3}(\\.\\d{1,10})?$',
  maxLength: 40,
  description: 'latitude,longitude in degrees (WGS 84): the centre of a radius search (with `radius`)',
  examples: ['18.7883,98.9853'],
});

export const Radius = Type.Integer({
  minimum: 1,
  maximum: MAX_RADIUS_M,
  description: `Metres around \`coordinates\` (great-circle distance), 1 to ${MAX_RADIUS_M}`,
  examples: [2000],
});

/** Largest page of a list (OpenAQ v3's limit is 1000 too). */
export const MAX_PAGE_LIMIT = 1000;

export const PageLimit = Type.Integer({
  minimum: 1,
  maximum: MAX_PAGE_LIMIT,
  default: 100,
  description: `Items per page, 1 to ${MAX_PAGE_LIMIT} (default 100)`,
});

export const PageNumber = Type.Integer({ minimum: 1, maximum: 100_000, default: 1, description: 'Page, from 1' });

/** The paging members of a list's `meta`, as OpenAQ v3 names them. */
export { PageMeta } from '@cnx/protocol';

export const LocalizedText = Type.Object({ th: Type.String(), en: Type.String() }, { title: 'LocalizedText' });

export const GeoPoint = Type.Object({ lat: Type.Number(), lon: Type.Number() }, { title: 'GeoPoint' });

export const ProblemDetail = Type.Object(
  {
    in: Type.Enum(['path', 'query', 'header', 'body']),
    parameter: Type.String(),
    problem: Type.String(),
    allowed: Type.Optional(Type.String()),
    value: Type.Optional(Type.String()),
  },
  { title: 'ProblemDetail' },
);

export const ErrorResponse = Type.Object(
  {
    error: Type.Object({
      code: Type.Enum([...API_ERROR_CODES], { description: 'Stable error code (docs/api.md, Errors)' }),
      message: Type.String(),
      details: Type.Optional(Type.Array(ProblemDetail)),
    }),
  },
  { title: 'ErrorResponse' },
);

const ERROR_DESCRIPTIONS: Record<number, string> = {
  400: 'Invalid request: `details` names each bad parameter and what is allowed',
  401: 'Missing or wrong API key (admin) or staff credential (staff)',
  413: 'The body or the photo is too large',
  414: 'A path parameter is too long',
  415: 'The photo is not a JPEG, PNG or WebP image (judged by its bytes)',
  404: 'Unknown station, district, alert, report or route',
  409: 'The alert or report is not in a state that allows this (e.g. already acknowledged or moderated)',
  429: 'Rate limit exceeded: retry after `Retry-After` seconds',
  500: 'Internal error',
  503: 'Store, bus or alerts service unavailable, or the server is overloaded',
  504: 'The store (or, for staff routes, the alerts service) did not answer in time',
};

const described = <T extends TSchema>(schema: T, description: string): T =>
  ({ ...schema, 'x-response-description': description }) as T;

/** Error responses of a route: always 400, 429, 500, 503 and 504, plus the given statuses. */
export function errorResponses(...extra: (401 | 404 | 409 | 413 | 415)[]): Record<number, typeof ErrorResponse> {
  const out: Record<number, typeof ErrorResponse> = {};
  for (const status of [400, ...extra, 414, 429, 500, 503, 504].sort()) {
    out[status] = described(ErrorResponse, ERROR_DESCRIPTIONS[status]!);
  }
  return out;
}

/** A successful JSON response with its description. */
export const ok = <T extends TSchema>(schema: T, description: string): T => described(schema, description);

/** 304 for conditional GETs (ETag / If-None-Match). */
export const NotModified = { 304: Type.Null({ 'x-response-description': 'Not modified (ETag matched)' }) };

export const Licence = Type.Object(
  {
    id: Type.String({ description: 'SPDX id, e.g. CC-BY-4.0' }),
    url: Type.String(),
    attribution: Type.String({ description: 'Credit line to show with the data' }),
  },
  { title: 'Licence' },
);

/** For routes without query parameters: an unknown one (a typo) is a clear 400, not silently ignored. */
export const NoQuery = Type.Object({}, { additionalProperties: false });

/** The query of a list without filters: only its page (`limit`, `page`; `meta.found` counts every item). */
export const PageQuery = Type.Object(
  { limit: Type.Optional(PageLimit), page: Type.Optional(PageNumber) },
  { additionalProperties: false },
);
