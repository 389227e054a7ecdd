/**
 * The API's error catalogue (docs/architecture.md house style 6): stable codes, each with its HTTP status and a
 * safe default message. Every error response is `{ error: { code, message, details? } }`; the code
 * never changes meaning, the message is for people and may improve.
 */
export const API_ERRORS = {
  invalid_request: { status: 400, message: 'The request is invalid' },
  invalid_time: { status: 400, message: 'A time is not a valid RFC 3339 date-time or date' },
  range_too_large: { status: 400, message: 'The time range is larger than allowed' },
  invalid_cursor: { status: 400, message: 'The cursor is not one this API issued' },
  unauthorized: { status: 401, message: 'A valid API key is required' },
  not_found: { status: 404, message: 'No such route' },
  station_not_found: { status: 404, message: 'No such station in this city' },
  district_not_found: { status: 404, message: 'No such district in this city' },
  alert_not_found: { status: 404, message: 'No such alert' },
  alert_conflict: { status: 409, message: 'The alert is not in a state that allows this' },
  subscription_not_found: { status: 404, message: 'No such subscription, or the link has expired' },
  report_not_found: { status: 404, message: 'No such report' },
  report_conflict: { status: 409, message: 'The report is not in a state that allows this' },
  photo_too_large: { status: 413, message: 'The photo is too large' },
  photo_unsupported: { status: 415, message: 'The photo must be a JPEG, PNG or WebP image' },
  channel_unavailable: { status: 400, message: 'This alert channel is not configured on this server' },
  payload_too_large: { status: 413, message: 'The request body is too large' },
  uri_too_long: { status: 414, message: 'The URL is too long' },
  unsupported_media_type: { status: 415, message: 'Unsupported content type' },
  rate_limited: { status: 429, message: 'Too many requests' },
  too_many_streams: { status: 429, message: 'Too many live streams from this client' },
  internal: { status: 500, message: 'Internal error' },
  store_unavailable: { status: 503, message: 'The data store is unavailable' },
  stream_unavailable: { status: 503, message: 'The live stream is unavailable' },
  overloaded: { status: 503, message: 'The server is overloaded' },
  alerts_unavailable: { status: 503, message: 'The alerts service is unavailable' },
  store_timeout: { status: 504, message: 'The data store did not answer in time' },
  alerts_timeout: { status: 504, message: 'The alerts service did not answer in time' },
} as const;

export type ApiErrorCode = keyof typeof API_ERRORS;
export const API_ERROR_CODES = Object.keys(API_ERRORS) as ApiErrorCode[];

/** One problem with one parameter: which one, what is wrong with it, and what is allowed. */
export interface ProblemDetail {
  in: 'path' | 'query' | 'header' | 'body';
  parameter: string;
  problem: string;
  allowed?: string;
  /** The offending value, shortened. */
  value?: string;
}

/** An expected failure; the global error handler turns it into the catalogue's response. */
export class ApiError extends Error {
  readonly statusCode: number;

  constructor(
    readonly code: ApiErrorCode,
    message: string = API_ERRORS[code].message,
    readonly details?: ProblemDetail[],
    /** Extra response headers (Retry-After, WWW-Authenticate). */
    readonly headers?: Record<string, string>,
  ) {
    super(message);
    this.name = 'ApiError';
    this.statusCode = API_ERRORS[code].status;
  }
}

/**
 * A 401 of the staff routes (/v1/staff/...). It names the setting that configures staff tokens and how
 * to send one (issue 11: a new operator must find their way in from the error alone). The credential
 * itself is never echoed.
 */
export function staffUnauthorized(
  problem: 'missing' | 'not_bearer' | 'unknown_token' | 'no_staff_configured',
): ApiError {
  const how = "send it as 'Authorization: Bearer <token>'";
  const where =
    "staff tokens are the `token` of each member in the alerts service's ALERTS_STAFF_FILE " +
    '(docs/operations.md#staff-tokens; npm start creates a demo one in CNX_DATA_DIR/staff.json)';
  const texts: Record<typeof problem, [message: string, detail: string]> = {
    missing: [`a staff token is required: ${how}; ${where}`, 'is required'],
    not_bearer: [`the Authorization header is not a Bearer token: ${how}; ${where}`, 'is not a Bearer token'],
    unknown_token: [
      `the staff token is not valid: use a member's token from ALERTS_STAFF_FILE and ${how} ` +
        '(docs/operations.md#staff-tokens)',
      'is not a token of a staff member',
    ],
    no_staff_configured: [
      'no staff tokens are configured: ALERTS_STAFF_FILE of the alerts service names no staff members ' +
        '(docs/operations.md#staff-tokens)',
      'cannot be checked: no staff are configured',
    ],
  };
  const [message, detail] = texts[problem];
  return new ApiError(
    'unauthorized',
    message,
    [
      {
        in: 'header',
        parameter: 'authorization',
        problem: detail,
        allowed: 'Bearer <staff token from ALERTS_STAFF_FILE>',
      },
    ],
    { 'www-authenticate': 'Bearer realm="cnx-staff"' },
  );
}

/** A value shown back to the client: JSON-quoted for strings, at most 80 characters. */
export function showValue(value: unknown): string {
  const s = typeof value === 'string' ? JSON.stringify(value) : String(value);
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}

/** A 400 about one parameter. */
export function badParameter(
  where: ProblemDetail['in'],
  parameter: string,
  problem: string,
  allowed?: string,
  value?: unknown,
  code: ApiErrorCode = 'invalid_request',
): ApiError {
  const detail: ProblemDetail = { in: where, parameter, problem };
  if (allowed !== undefined) detail.allowed = allowed;
  if (value !== undefined) detail.value = showValue(value);
  const msg = `${parameter} ${problem}${allowed ? ` (allowed: ${allowed})` : ''}`;
  return new ApiError(code, msg, [detail]);
}
