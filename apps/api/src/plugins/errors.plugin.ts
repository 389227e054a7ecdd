import { isStoreError, STORE_ERROR_CODES } from '@cnx/store';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest, FastifySchemaCompiler } from 'fastify';
import fp from 'fastify-plugin';
import type { TSchema } from 'typebox';
import { Compile } from 'typebox/compile';
import { Value } from 'typebox/value';
import { API_ERRORS, ApiError, type ProblemDetail, showValue } from '../errors';

const INTEGER = /^[+-]?\d{1,15}$/;
const NUMBER = /^[+-]?(\d{1,15}(\.\d{1,15})?|\.\d{1,15})$/;

/**
 * Query strings, path parameters and headers arrive as strings: convert those whose schema is an
 * integer, number or boolean, strictly (`2.5` is not an integer, `1e309` not a number): a value
 * that does not convert stays a string and fails the check with a clear message. TypeBox's own
 * Value.Convert is lenient (it truncates 2.5 to 2), which would silently change a client's request.
 */
function convertStrings(schema: TSchema, input: unknown): unknown {
  const props = (schema as { properties?: Record<string, { type?: string }> }).properties;
  if (!props || !input || typeof input !== 'object') return input;
  const out = { ...(input as Record<string, unknown>) };
  for (const [k, v] of Object.entries(out)) {
    const type = props[k]?.type;
    if (typeof v !== 'string') continue;
    if (type === 'integer' && INTEGER.test(v)) out[k] = Number(v);
    else if (type === 'number' && NUMBER.test(v)) out[k] = Number(v);
    else if (type === 'boolean' && (v === 'true' || v === 'false')) out[k] = v === 'true';
  }
  return out;
}

/**
 * Request validation with TypeBox's compiled checkers (the repo's one schema library): defaults are
 * applied, strings converted (above), then checked. Every problem is reported (not only the first),
 * so a client fixes all its parameters in one go.
 */
export const typeboxValidatorCompiler: FastifySchemaCompiler<TSchema> = ({ schema, httpPart }) => {
  const check = Compile(schema);
  const withDefaults = httpPart === 'body' ? (v: unknown) => Value.Default(schema, v) : flatDefaults(schema);
  return (input: unknown) => {
    const converted = httpPart === 'body' ? input : convertStrings(schema, input);
    const value = withDefaults(converted);
    if (check.Check(value)) return { value };
    return { error: [...check.Errors(value)] as never };
  };
};

/**
 * Defaults of a query string, path or headers schema: a flat object whose properties may have a
 * `default`, applied where the client gave none. Worked out once per route, not per request (TypeBox's
 * Value.Default walks the whole schema each time: ~3 % of a cached answer's CPU). A schema with
 * defaults below its top level falls back to Value.Default.
 */
function flatDefaults(schema: TSchema): (value: unknown) => unknown {
  const props = (schema as { type?: string; properties?: Record<string, TSchema & { default?: unknown }> }).properties;
  if ((schema as { type?: string }).type !== 'object' || !props || Object.values(props).some(hasInnerDefault))
    return (v) => Value.Default(schema, v);
  const defaults = Object.entries(props)
    .filter(([, p]) => p.default !== undefined)
    .map(([k, p]) => [k, p.default] as const);
  return (v) => {
    if (v === null || typeof v !== 'object') return v;
    const out = v as Record<string, unknown>;
    for (const [k, d] of defaults) if (out[k] === undefined) out[k] = typeof d === 'object' ? structuredClone(d) : d;
    return out;
  };
}

/** A `default` anywhere below this schema (in its members, items or properties). */
function hasInnerDefault(schema: unknown): boolean {
  if (!schema || typeof schema !== 'object') return false;
  const s = schema as { anyOf?: unknown[]; allOf?: unknown[]; items?: unknown; properties?: Record<string, unknown> };
  const inner = [...(s.anyOf ?? []), ...(s.allOf ?? []), s.items, ...Object.values(s.properties ?? {})];
  return inner.some((x) => !!x && typeof x === 'object' && ('default' in x || hasInnerDefault(x)));
}

/**
 * Errors the router raises before any route or hook runs (fastify's `frameworkErrors`): an
 * over-long path parameter (414) and a malformed URL (400), answered in the catalogue's shape.
 */
export function frameworkErrors(err: FastifyError, _req: FastifyRequest, reply: FastifyReply): void {
  const error =
    err.code === 'FST_ERR_MAX_PARAM_LENGTH'
      ? new ApiError('uri_too_long', 'a path parameter is too long (ids are at most 63 characters)')
      : new ApiError('invalid_request', 'the URL is malformed (bad percent-encoding?)');
  void reply
    .code(error.statusCode)
    .type('application/json; charset=utf-8')
    .send({ error: { code: error.code, message: error.message } });
}

const PART: Record<string, ProblemDetail['in']> = {
  querystring: 'query',
  params: 'path',
  headers: 'header',
  body: 'body',
};

interface SchemaError {
  keyword: string;
  instancePath: string;
  params: Record<string, unknown>;
  message: string;
}

type JsonSchema = {
  enum?: unknown[];
  anyOf?: JsonSchema[];
  const?: unknown;
  type?: string;
  minimum?: number;
  maximum?: number;
  maxLength?: number;
  pattern?: string;
  description?: string;
  properties?: Record<string, JsonSchema>;
};

/** What a parameter's schema allows, in words. */
export function describeAllowed(s: JsonSchema | undefined): string | undefined {
  if (!s) return undefined;
  if (s.enum) return `one of ${s.enum.join(', ')}`;
  if (s.anyOf?.every((x) => x.const !== undefined)) return `one of ${s.anyOf.map((x) => x.const).join(', ')}`;
  if (s.type === 'integer' || s.type === 'number') {
    const kind = s.type === 'integer' ? 'an integer' : 'a number';
    if (s.minimum !== undefined && s.maximum !== undefined) return `${kind} from ${s.minimum} to ${s.maximum}`;
    if (s.minimum !== undefined) return `${kind} >= ${s.minimum}`;
    return kind;
  }
  if (s.type === 'string') {
    const max = s.maxLength !== undefined ? ` (at most ${s.maxLength} characters)` : '';
    return `${s.description ?? 'a string'}${max}`;
  }
  return s.description;
}

const PROBLEMS: Record<string, (e: SchemaError) => string> = {
  required: () => 'is required',
  additionalProperties: () => 'is not a known parameter',
  pattern: () => 'has an invalid format',
  maxLength: (e) => `is longer than ${e.params.limit ?? 'allowed'} characters`,
  minLength: () => 'is too short',
  enum: () => 'is not an allowed value',
  const: () => 'is not an allowed value',
  anyOf: () => 'is not an allowed value',
  type: (e) => `must be ${e.params.type === 'integer' ? 'an integer' : `of type ${e.params.type}`}`,
  minimum: (e) => `must be >= ${e.params.limit}`,
  maximum: (e) => `must be <= ${e.params.limit}`,
};

/** Fastify's validation errors as ProblemDetails: one per parameter, naming what is allowed. */
function validationDetails(err: FastifyError, request: FastifyRequest): ProblemDetail[] {
  const context = (err as FastifyError & { validationContext?: string }).validationContext ?? 'querystring';
  const where = PART[context] ?? 'query';
  const schema = (request.routeOptions.schema as Record<string, JsonSchema> | undefined)?.[context];
  const input = (request as unknown as Record<string, unknown>)[context === 'querystring' ? 'query' : context] as
    | Record<string, unknown>
    | undefined;
  const known = Object.keys(schema?.properties ?? {});
  const byParam = new Map<string, ProblemDetail>();
  for (const e of (err.validation ?? []) as unknown as SchemaError[]) {
    const names =
      e.keyword === 'required'
        ? ((e.params.requiredProperties ?? [e.params.missingProperty]) as string[])
        : e.keyword === 'additionalProperties'
          ? ((e.params.additionalProperties ?? [e.params.additionalProperty]) as string[])
          : [e.instancePath.split('/')[1] ?? ''];
    for (const name of names.flat()) {
      if (byParam.has(name) || (e.keyword === 'boolean' && !known.includes(name))) continue;
      const problem = (PROBLEMS[e.keyword] ?? ((x: SchemaError) => x.message))(e);
      const allowed =
        e.keyword === 'additionalProperties'
          ? `one of ${known.join(', ')}`
          : describeAllowed(schema?.properties?.[name]);
      const detail: ProblemDetail = { in: where, parameter: name || '(body)', problem };
      if (allowed) detail.allowed = allowed;
      const value = input?.[name];
      if (value !== undefined && e.keyword !== 'required') detail.value = showValue(value);
      byParam.set(name, detail);
    }
  }
  return [...byParam.values()];
}

/** Any error as an ApiError plus the level to log it at. Never leaks internals for 5xx. */
export function toApiError(
  err: FastifyError,
  request: FastifyRequest,
): { error: ApiError; level: 'info' | 'warn' | 'error' } {
  if (err instanceof ApiError) return { error: err, level: err.statusCode >= 500 ? 'warn' : 'info' };
  if (err.validation) {
    const details = validationDetails(err, request);
    const msg = details.map((d) => `${d.parameter} ${d.problem}${d.allowed ? ` (allowed: ${d.allowed})` : ''}`);
    return {
      error: new ApiError('invalid_request', `invalid ${details[0]?.in ?? 'request'}: ${msg.join('; ')}`, details),
      level: 'info',
    };
  }
  if (isStoreError(err)) {
    const C = STORE_ERROR_CODES;
    if (err.code === C.timeout) return { error: new ApiError('store_timeout'), level: 'warn' };
    if (err.retryable || err.code === C.notStarted) {
      return { error: new ApiError('store_unavailable', undefined, undefined, { 'retry-after': '5' }), level: 'warn' };
    }
    return { error: new ApiError('internal'), level: 'error' };
  }
  const status = err.statusCode ?? 500;
  if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return { error: new ApiError('payload_too_large'), level: 'info' };
  if (err.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE')
    return { error: new ApiError('unsupported_media_type'), level: 'info' };
  if (status === 404) return { error: new ApiError('not_found'), level: 'info' };
  // Fastify's own 4xx messages (bad JSON, bad content length...) are about the request: safe to show.
  if (status >= 400 && status < 500) return { error: new ApiError('invalid_request', err.message), level: 'info' };
  return { error: new ApiError('internal'), level: 'error' };
}

/**
 * The one global error handler (docs/architecture.md house style 6): the full error in the log, a safe
 * `{ error: { code, message, details? } }` to the client; and the 404 handler in the same shape.
 */
export const errorsPlugin = fp(async (app: FastifyInstance) => {
  app.setValidatorCompiler(typeboxValidatorCompiler);
  app.setErrorHandler((err: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
    const { error, level } = toApiError(err, request);
    request.log[level]({ err, code: error.code, status: error.statusCode }, 'request failed');
    for (const [k, v] of Object.entries(error.headers ?? {})) reply.header(k, v);
    const body = {
      error: { code: error.code, message: error.message, ...(error.details ? { details: error.details } : {}) },
    };
    return reply.code(error.statusCode).type('application/json; charset=utf-8').send(body);
  });
  app.setNotFoundHandler((request, reply) => {
    const message = `no route ${request.method} ${request.url.split('?')[0]}; the routes are listed at /openapi.json and /docs`;
    return reply
      .code(API_ERRORS.not_found.status)
      .send({ error: { code: 'not_found', message: message.slice(0, 300) } });
  });
});
