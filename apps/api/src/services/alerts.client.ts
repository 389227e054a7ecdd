/**
 * The API's side of the routes the alerts service (apps/alerts) owns: staff actions (with the staff
 * member's own Bearer credential), citizen subscriptions (with the subscription's token) and the
 * public alert list. Requests are forwarded with the client's address (X-Forwarded-For, for the alerts
 * service's own per-client limit); answers come back in the API's error catalogue. Bounded: a timeout
 * per request (API_ALERTS_TIMEOUT_MS) and a size limit on the answer. Credentials and tokens are never
 * logged: only method, path, status and timings are.
 */
import type { FastifyBaseLogger } from 'fastify';
import { ApiError, staffUnauthorized } from '../errors';

/** Largest answer accepted from the alerts service (an audit lists 500 deliveries; the reports GeoJSON at most 1000 reports of <= 500 characters). */
export const MAX_ALERTS_ANSWER_BYTES = 4 * 1024 * 1024;

export interface ForwardRequest {
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  /** Path (and query) on the alerts service, e.g. /v1/staff/alerts/12/ack. */
  path: string;
  /** The client's Authorization header (staff token, subscription token), passed through unchanged. */
  authorization?: string;
  body?: unknown;
  requestId: string;
  /** The client's address, as X-Forwarded-For. */
  clientIp?: string;
  /** What the request is about: staff routes name the alert in their 404/409 messages. */
  staff?: boolean;
}

interface AlertsErrorBody {
  error?: { code?: unknown; message?: unknown; details?: unknown };
}

export class AlertsForwarder {
  constructor(
    readonly baseUrl: string,
    private readonly timeoutMs: number,
  ) {}

  /** The alerts service's 2xx JSON answer, or an ApiError from the catalogue. */
  async forward(req: ForwardRequest, log: FastifyBaseLogger): Promise<unknown> {
    const started = Date.now();
    const route = req.path.split('?')[0];
    const hasBody = req.method === 'POST' || req.method === 'PATCH';
    let res: Response;
    try {
      res = await fetch(`${this.baseUrl}${req.path}`, {
        method: req.method,
        headers: {
          accept: 'application/json',
          ...(req.authorization ? { authorization: req.authorization } : {}),
          ...(req.clientIp ? { 'x-forwarded-for': req.clientIp } : {}),
          'x-request-id': req.requestId,
          ...(hasBody ? { 'content-type': 'application/json' } : {}),
        },
        ...(hasBody ? { body: JSON.stringify(req.body ?? {}) } : {}),
        redirect: 'error',
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (err) {
      const timedOut = (err as Error).name === 'TimeoutError';
      log.warn({ alerts: route, ms: Date.now() - started, err: (err as Error).message }, 'alerts service failed');
      if (timedOut)
        throw new ApiError('alerts_timeout', `the alerts service did not answer within ${this.timeoutMs} ms`);
      throw new ApiError('alerts_unavailable', 'the alerts service cannot be reached', undefined, {
        'retry-after': '5',
      });
    }
    let body: unknown;
    try {
      body = JSON.parse((await readLimited(res, MAX_ALERTS_ANSWER_BYTES)).toString('utf8'));
    } catch (err) {
      log.warn({ alerts: route, status: res.status, err: (err as Error).message }, 'alerts service answer unusable');
      if ((err as Error).name === 'TimeoutError')
        throw new ApiError('alerts_timeout', `the alerts service did not answer within ${this.timeoutMs} ms`);
      throw new ApiError('alerts_unavailable', 'the alerts service gave an unusable answer');
    }
    log.debug({ alerts: route, status: res.status, ms: Date.now() - started }, 'alerts service answered');
    if (res.ok) return body;
    throw this.toApiError(res, (body ?? {}) as AlertsErrorBody, log, route ?? '');
  }

  /** A JPEG the alerts service serves (a report's photo): the bytes, or an ApiError from the catalogue. */
  async forwardJpeg(req: ForwardRequest, log: FastifyBaseLogger): Promise<Buffer> {
    const route = req.path.split('?')[0] ?? '';
    let res: Response;
    try {
      res = await fetch(`${this.baseUrl}${req.path}`, {
        headers: {
          ...(req.authorization ? { authorization: req.authorization } : {}),
          ...(req.clientIp ? { 'x-forwarded-for': req.clientIp } : {}),
          'x-request-id': req.requestId,
        },
        redirect: 'error',
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (err) {
      log.warn({ alerts: route, err: (err as Error).message }, 'alerts service failed');
      if ((err as Error).name === 'TimeoutError')
        throw new ApiError('alerts_timeout', `the alerts service did not answer within ${this.timeoutMs} ms`);
      throw new ApiError('alerts_unavailable', 'the alerts service cannot be reached', undefined, {
        'retry-after': '5',
      });
    }
    let bytes: Buffer;
    try {
      bytes = await readLimited(res, MAX_ALERTS_ANSWER_BYTES);
    } catch (err) {
      log.warn({ alerts: route, status: res.status, err: (err as Error).message }, 'alerts service answer unusable');
      throw new ApiError('alerts_unavailable', 'the alerts service gave an unusable answer');
    }
    if (res.ok && res.headers.get('content-type') === 'image/jpeg') return bytes;
    let body: AlertsErrorBody = {};
    try {
      body = JSON.parse(bytes.toString('utf8')) as AlertsErrorBody;
    } catch {
      // not JSON: reported as unavailable below
    }
    throw this.toApiError(res, body, log, route);
  }

  private toApiError(res: Response, b: AlertsErrorBody, log: FastifyBaseLogger, route: string): ApiError {
    const code = typeof b.error?.code === 'string' ? b.error.code : '';
    const message = typeof b.error?.message === 'string' ? b.error.message.slice(0, 500) : undefined;
    switch (code) {
      case 'unauthorized':
        return staffUnauthorized('unknown_token');
      case 'staff_not_configured':
        return staffUnauthorized('no_staff_configured');
      case 'alert_not_found':
        return new ApiError('alert_not_found', message);
      case 'not_firing':
      case 'already_closed':
        return new ApiError('alert_conflict', message);
      case 'subscription_not_found':
        return new ApiError('subscription_not_found');
      case 'report_not_found':
      case 'report_conflict':
      case 'photo_too_large':
      case 'photo_unsupported':
        return new ApiError(code, message);
      case 'channel_unavailable':
        return new ApiError('channel_unavailable', message);
      case 'invalid_request':
        return new ApiError('invalid_request', message);
      case 'rate_limited':
        return new ApiError('rate_limited', message, undefined, {
          'retry-after': res.headers.get('retry-after') ?? '60',
        });
      default:
        log.warn({ alerts: route, status: res.status, code }, 'alerts service error');
        return new ApiError('alerts_unavailable', `the alerts service answered ${res.status}`, undefined, {
          'retry-after': '5',
        });
    }
  }
}

/** The body's bytes, refusing more than `max` bytes (the timeout signal still bounds the time). */
async function readLimited(res: Response, max: number): Promise<Buffer> {
  const declared = Number(res.headers.get('content-length') ?? 0);
  if (declared > max) {
    await res.body?.cancel();
    throw new Error(`answer of ${declared} bytes is over ${max}`);
  }
  if (!res.body) return Buffer.alloc(0);
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
    size += chunk.byteLength;
    if (size > max) throw new Error(`answer over ${max} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}
