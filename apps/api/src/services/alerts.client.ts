/**
 * The API's side of the staff routes: forwards a staff member's request, with their own Bearer
 * credential, to the alerts service (apps/alerts), which owns alert state and the audit trail and
 * checks the credential. Bounded: a timeout per request (API_ALERTS_TIMEOUT_MS) and a size limit on
 * the answer. The credential is never logged: only method, path, status and timings are.
 */
import type { FastifyBaseLogger } from 'fastify';
import { ApiError, staffUnauthorized } from '../errors';

/** Largest answer accepted from the alerts service (an audit lists at most 500 deliveries). */
export const MAX_ALERTS_ANSWER_BYTES = 2 * 1024 * 1024;

export interface ForwardRequest {
  method: 'GET' | 'POST';
  /** Path on the alerts service, e.g. /v1/staff/alerts/12/ack. */
  path: string;
  /** The client's Authorization header, passed through unchanged. */
  authorization: string;
  body?: unknown;
  requestId: string;
  /** The alert the request is about (for the 404/409 messages). */
  alertId?: number;
}

export class AlertsForwarder {
  constructor(
    readonly baseUrl: string,
    private readonly timeoutMs: number,
  ) {}

  /** The alerts service's 2xx JSON answer, or an ApiError from the catalogue. */
  async forward(req: ForwardRequest, log: FastifyBaseLogger): Promise<unknown> {
    const started = Date.now();
    let res: Response;
    try {
      res = await fetch(`${this.baseUrl}${req.path}`, {
        method: req.method,
        headers: {
          accept: 'application/json',
          authorization: req.authorization,
          'x-request-id': req.requestId,
          ...(req.method === 'POST' ? { 'content-type': 'application/json' } : {}),
        },
        ...(req.method === 'POST' ? { body: JSON.stringify(req.body ?? {}) } : {}),
        redirect: 'error',
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (err) {
      const timedOut = (err as Error).name === 'TimeoutError';
      log.warn({ alerts: req.path, ms: Date.now() - started, err: (err as Error).message }, 'alerts service failed');
      if (timedOut)
        throw new ApiError('alerts_timeout', `the alerts service did not answer within ${this.timeoutMs} ms`);
      throw new ApiError('alerts_unavailable', 'the alerts service cannot be reached', undefined, {
        'retry-after': '5',
      });
    }
    let body: unknown;
    try {
      body = JSON.parse(await readLimited(res, MAX_ALERTS_ANSWER_BYTES));
    } catch (err) {
      log.warn({ alerts: req.path, status: res.status, err: (err as Error).message }, 'alerts service answer unusable');
      if ((err as Error).name === 'TimeoutError')
        throw new ApiError('alerts_timeout', `the alerts service did not answer within ${this.timeoutMs} ms`);
      throw new ApiError('alerts_unavailable', 'the alerts service gave an unusable answer');
    }
    log.debug({ alerts: req.path, status: res.status, ms: Date.now() - started }, 'alerts service answered');
    if (res.ok) return body;
    const b = (body ?? {}) as {
      error?: unknown;
      status?: unknown;
      problems?: unknown;
      message?: unknown;
      staffConfigured?: unknown;
    };
    const what = req.alertId === undefined ? 'the alert' : `alert ${req.alertId}`;
    if (res.status === 401 || res.status === 403)
      throw staffUnauthorized(b.staffConfigured === false ? 'no_staff_configured' : 'unknown_token');
    if (res.status === 404 && b.error === 'not_found') throw new ApiError('alert_not_found', `no ${what}`);
    if (res.status === 409) {
      const status = typeof b.status === 'string' ? b.status : 'not open';
      const why =
        b.error === 'not_firing'
          ? `${what} is ${status}: only a firing alert can be acknowledged`
          : `${what} is already ${status}`;
      throw new ApiError('alert_conflict', why);
    }
    if (res.status === 400 && Array.isArray(b.problems))
      throw new ApiError('invalid_request', b.problems.map(String).join('; ').slice(0, 300));
    log.warn({ alerts: req.path, status: res.status }, 'alerts service error');
    throw new ApiError('alerts_unavailable', `the alerts service answered ${res.status}`, undefined, {
      'retry-after': '5',
    });
  }
}

/** The body as text, refusing more than `max` bytes (the timeout signal still bounds the time). */
async function readLimited(res: Response, max: number): Promise<string> {
  const declared = Number(res.headers.get('content-length') ?? 0);
  if (declared > max) {
    await res.body?.cancel();
    throw new Error(`answer of ${declared} bytes is over ${max}`);
  }
  if (!res.body) return '';
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
    size += chunk.byteLength;
    if (size > max) throw new Error(`answer over ${max} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}
