import { ApiError } from './errors';
import { operationRoutes, type operations } from './generated/openapi';
import { queryString } from './request';
import type { ApiResponse, CallOptions, ClientOptions, OperationId, QueryInput, RequestOptions } from './types';

export interface Params {
  path?: Record<string, string>;
  query?: object | undefined;
  /** A JSON request body (POST operations). */
  body?: unknown;
}

export type JsonOf<K extends OperationId> = operations[K]['responses'] extends {
  200: { content: { 'application/json': infer T } };
}
  ? T
  : never;

/**
 * What every part of the client (CnxApiClient, client.ts) stands on: the base URL, fetch, the
 * credentials each path needs (`apiKey` for /admin/, `staffToken` for /v1/staff/), the ETag cache,
 * operation URLs, the generic `call`, and the error mapping (every non-2xx answer throws an ApiError).
 */
export class ClientTransport {
  readonly baseUrl: string;
  protected readonly fetchFn: typeof fetch;
  protected readonly options: ClientOptions;
  private readonly etags = new Map<string, { etag: string; data: unknown }>();

  constructor(options: ClientOptions = {}) {
    this.options = options;
    this.baseUrl = (options.baseUrl ?? '').replace(/\/+$/, '');
    if (!options.fetch && typeof globalThis.fetch !== 'function') throw new Error('no fetch here: pass options.fetch');
    // The global fetch is called through globalThis (browsers throw on a detached `this`).
    this.fetchFn = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
  }

  /**
   * Any JSON operation with the full answer: status, ETag, `notModified` (with `ifNoneMatch`), and the
   * Response (headers such as `x-ratelimit-remaining`). Throws ApiError on error statuses.
   */
  async call<K extends OperationId>(
    operation: K,
    params: { path?: Record<string, string>; query?: QueryInput<K> } = {},
    options: CallOptions = {},
  ): Promise<ApiResponse<JsonOf<K>>> {
    const headers = options.ifNoneMatch
      ? { ...options.headers, 'if-none-match': options.ifNoneMatch }
      : options.headers;
    const res = await this.send(operation, params, { ...options, headers }, 'application/json');
    const etag = res.headers.get('etag') ?? undefined;
    if (res.status === 304) return { data: undefined, status: 304, notModified: true, etag, response: res };
    if (!res.ok) throw await ApiError.fromResponse(res, operation, this.url(operation, params));
    const data = (await this.parseJson(res, operation)) as JsonOf<K>;
    return { data, status: res.status, notModified: false, etag, response: res };
  }

  /** The URL of an operation with its path and query parameters. */
  url(operation: OperationId, params: Params = {}): string {
    const route = operationRoutes[operation];
    const path = route.path.replace(/\{(\w+)\}/g, (_, name: string) => {
      const value = params.path?.[name];
      if (value === undefined || value === '') throw new TypeError(`${operation}: path parameter ${name} is missing`);
      return encodeURIComponent(value);
    });
    const qs = queryString(params.query);
    return `${this.baseUrl}${path}${qs ? `?${qs}` : ''}`;
  }

  /** Forgets the remembered ETags (etagCache). */
  clearEtagCache(): void {
    this.etags.clear();
  }

  // --- internals ----------------------------------------------------------------------------------

  protected async json<K extends OperationId>(
    operation: K,
    params: Params,
    options?: RequestOptions,
  ): Promise<JsonOf<K>> {
    const url = this.url(operation, params);
    const cached =
      this.options.etagCache && operationRoutes[operation].method === 'GET' ? this.etags.get(url) : undefined;
    const headers = cached ? { ...options?.headers, 'if-none-match': cached.etag } : options?.headers;
    const res = await this.send(operation, params, { ...options, headers }, 'application/json', url);
    if (res.status === 304 && cached) {
      this.remember(url, cached.etag, cached.data);
      return cached.data as JsonOf<K>;
    }
    if (!res.ok) throw await ApiError.fromResponse(res, operation, url);
    const data = await this.parseJson(res, operation);
    const etag = res.headers.get('etag');
    if (this.options.etagCache && etag && operationRoutes[operation].method === 'GET') this.remember(url, etag, data);
    return data as JsonOf<K>;
  }

  private remember(url: string, etag: string, data: unknown): void {
    this.etags.delete(url);
    this.etags.set(url, { etag, data });
    const max = this.options.etagCache ?? 0;
    while (this.etags.size > max) this.etags.delete(this.etags.keys().next().value as string);
  }

  protected async parseJson(res: Response, operation: string): Promise<unknown> {
    const text = await res.text();
    try {
      return JSON.parse(text);
    } catch {
      throw new ApiError({
        status: res.status,
        code: 'unexpected_response',
        message: `${operation}: the answer is not JSON (${res.headers.get('content-type') ?? 'no content type'}): ${text.slice(0, 200)}`,
        operation,
        url: res.url,
        requestId: res.headers.get('x-request-id') ?? undefined,
      });
    }
  }

  /** send + throw ApiError unless 2xx. */
  protected async ok(operation: OperationId, params: Params, options: RequestOptions | undefined, accept: string) {
    const res = await this.send(operation, params, options, accept);
    if (!res.ok) throw await ApiError.fromResponse(res, operation, this.url(operation, params));
    return res;
  }

  protected send(
    operation: OperationId,
    params: Params,
    options: RequestOptions | undefined,
    accept: string,
    url = this.url(operation, params),
  ): Promise<Response> {
    const headers: Record<string, string> = { accept, ...this.options.headers, ...options?.headers };
    const path = operationRoutes[operation].path;
    if (this.options.apiKey && path.startsWith('/admin/')) headers.authorization = `Bearer ${this.options.apiKey}`;
    if (this.options.staffToken && path.startsWith('/v1/staff/'))
      headers.authorization = `Bearer ${this.options.staffToken}`;
    const init: RequestInit = { method: operationRoutes[operation].method, headers };
    if (params.body !== undefined) {
      headers['content-type'] = 'application/json';
      init.body = JSON.stringify(params.body);
    }
    if (options?.signal) init.signal = options.signal;
    return this.fetchFn(url, init);
  }
}
