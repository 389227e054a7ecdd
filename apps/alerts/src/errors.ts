/**
 * The alerts service's error catalogue (docs/architecture.md house style 6): stable codes, one HTTP
 * status each. Every error answer is `{ error: { code, message, details? } }`; the API's forwarder
 * (apps/api services/alerts.client.ts) maps these codes onto its own catalogue.
 */
export const ALERTS_ERRORS = {
  invalid_request: { status: 400, message: 'The request is invalid' },
  channel_unavailable: { status: 400, message: 'This channel is not configured on this server' },
  unauthorized: { status: 401, message: 'A staff token is required' },
  staff_not_configured: { status: 401, message: 'No staff are configured (ALERTS_STAFF_FILE)' },
  not_found: { status: 404, message: 'No such route' },
  alert_not_found: { status: 404, message: 'No such alert' },
  subscription_not_found: { status: 404, message: 'No such subscription, or the link has expired' },
  report_not_found: { status: 404, message: 'No such report' },
  report_conflict: { status: 409, message: 'The report is not in a state that allows this' },
  photo_too_large: { status: 413, message: 'The photo is too large' },
  photo_unsupported: { status: 415, message: 'The photo must be a JPEG, PNG or WebP image' },
  not_firing: { status: 409, message: 'Only a firing alert can be acknowledged' },
  already_closed: { status: 409, message: 'The alert is already closed' },
  payload_too_large: { status: 413, message: 'The request body is too large' },
  unsupported_media_type: { status: 415, message: 'Unsupported content type' },
  rate_limited: { status: 429, message: 'Too many requests' },
  internal: { status: 500, message: 'Internal error' },
} as const;

export type AlertsErrorCode = keyof typeof ALERTS_ERRORS;
export const ALERTS_ERROR_CODES = Object.keys(ALERTS_ERRORS) as AlertsErrorCode[];

/** One problem with one field of a request. */
export interface ProblemDetail {
  in: 'path' | 'query' | 'header' | 'body';
  parameter: string;
  problem: string;
}

/** An expected failure; the one error handler (http/errors.plugin.ts) answers it from the catalogue. */
export class AlertsError extends Error {
  readonly statusCode: number;
  constructor(
    readonly code: AlertsErrorCode,
    message: string = ALERTS_ERRORS[code].message,
    readonly details?: ProblemDetail[],
    readonly headers?: Record<string, string>,
  ) {
    super(message);
    this.name = 'AlertsError';
    this.statusCode = ALERTS_ERRORS[code].status;
  }
}

/** A 400 about one body field, naming the bad value (shortened). */
export function badField(parameter: string, problem: string, value?: unknown): AlertsError {
  const shown = value === undefined ? '' : `, got ${JSON.stringify(value)?.slice(0, 80)}`;
  return new AlertsError('invalid_request', `${parameter} ${problem}${shown}`, [{ in: 'body', parameter, problem }]);
}
