import type { ErrorResponse, ProblemDetail } from './generated/openapi';

/** The API's stable error codes (docs/api.md, Errors), as its OpenAPI document lists them. */
export type ApiErrorCode = ErrorResponse['error']['code'];

/**
 * Codes the client itself uses when the answer is not the API's error shape: `unexpected_response`
 * (a body that is not what the document promises, e.g. a proxy's HTML page) and `http_error` (an
 * error status without the API's JSON body).
 */
export type ClientErrorCode = 'unexpected_response' | 'http_error';

/**
 * An HTTP answer other than success: carries the API's `{error: {code, message, details}}` plus the
 * status, the request id (`x-request-id`, for the server log) and `Retry-After` when given.
 * Network failures and aborts are not ApiErrors: they are fetch's own errors (TypeError, AbortError).
 */
export class ApiError extends Error {
  override readonly name = 'ApiError';
  readonly status: number;
  readonly code: ApiErrorCode | ClientErrorCode;
  /** Each bad parameter and what is allowed (400s); empty otherwise. */
  readonly details: readonly ProblemDetail[];
  /** The operation that failed (its OpenAPI operationId). */
  readonly operation: string;
  readonly url: string;
  readonly requestId: string | undefined;
  /** Seconds, from `Retry-After` (429, 503). */
  readonly retryAfterSeconds: number | undefined;

  constructor(init: {
    status: number;
    code: ApiErrorCode | ClientErrorCode;
    message: string;
    details?: readonly ProblemDetail[];
    operation: string;
    url: string;
    requestId?: string | undefined;
    retryAfterSeconds?: number | undefined;
  }) {
    super(init.message);
    this.status = init.status;
    this.code = init.code;
    this.details = init.details ?? [];
    this.operation = init.operation;
    this.url = init.url;
    this.requestId = init.requestId;
    this.retryAfterSeconds = init.retryAfterSeconds;
  }

  /** Reads an error answer (consumes its body). */
  static async fromResponse(res: Response, operation: string, url: string): Promise<ApiError> {
    const common = {
      status: res.status,
      operation,
      url,
      requestId: res.headers.get('x-request-id') ?? undefined,
      retryAfterSeconds: retryAfter(res.headers.get('retry-after')),
    };
    const text = await res.text().catch(() => '');
    const body = parseErrorBody(text);
    if (body) return new ApiError({ ...common, ...body.error });
    const snippet = text.trim().slice(0, 200);
    return new ApiError({
      ...common,
      code: 'http_error',
      message: `${operation}: HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ''}${snippet ? `: ${snippet}` : ''}`,
    });
  }
}

/** True when `err` is an ApiError (with the given code, if any). */
export function isApiError(err: unknown, code?: ApiErrorCode | ClientErrorCode): err is ApiError {
  return err instanceof ApiError && (code === undefined || err.code === code);
}

function parseErrorBody(text: string): ErrorResponse | undefined {
  try {
    const body = JSON.parse(text) as unknown;
    const error = (body as { error?: unknown } | null)?.error as Record<string, unknown> | undefined;
    if (error && typeof error.code === 'string' && typeof error.message === 'string') {
      return { error: { ...error, details: Array.isArray(error.details) ? error.details : [] } } as ErrorResponse;
    }
  } catch {
    // not JSON
  }
  return undefined;
}

function retryAfter(value: string | null): number | undefined {
  if (value === null) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return seconds;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, Math.ceil((date - Date.now()) / 1000));
}
