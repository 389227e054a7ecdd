/**
 * Validation with TypeBox's compiled checkers and the one error handler of the alerts service's HTTP
 * API: the full error in the log, `{ error: { code, message, details? } }` to the client.
 */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest, FastifySchemaCompiler } from 'fastify';
import fp from 'fastify-plugin';
import type { TSchema } from 'typebox';
import { Compile } from 'typebox/compile';
import { Value } from 'typebox/value';
import { ALERTS_ERRORS, AlertsError, type ProblemDetail } from '../errors';

const PART: Record<string, ProblemDetail['in']> = {
  querystring: 'query',
  params: 'path',
  headers: 'header',
  body: 'body',
};
const INTEGER = /^[+-]?\d{1,15}$/;

/** Path and query strings: integers converted strictly ("2.5" stays a string and fails the check). */
const validatorCompiler: FastifySchemaCompiler<TSchema> = ({ schema, httpPart }) => {
  const check = Compile(schema);
  const props = (schema as { properties?: Record<string, { type?: string }> }).properties ?? {};
  return (input: unknown) => {
    let value = input;
    if (httpPart !== 'body' && input && typeof input === 'object') {
      const out = { ...(input as Record<string, unknown>) };
      for (const [k, v] of Object.entries(out))
        if (props[k]?.type === 'integer' && typeof v === 'string' && INTEGER.test(v)) out[k] = Number(v);
      value = out;
    }
    value = Value.Default(schema, value);
    if (check.Check(value)) return { value };
    return { error: [...check.Errors(value)] as never };
  };
};

interface SchemaError {
  keyword: string;
  instancePath: string;
  params: Record<string, unknown>;
  message: string;
}

function toAlertsError(err: FastifyError, request: FastifyRequest): AlertsError {
  if (err instanceof AlertsError) return err;
  if (err.validation) {
    const where = PART[(err as { validationContext?: string }).validationContext ?? 'body'] ?? 'body';
    const details = (err.validation as unknown as SchemaError[]).slice(0, 20).map((e) => {
      const names =
        e.keyword === 'required'
          ? ((e.params.requiredProperties ?? [e.params.missingProperty]) as string[])
          : e.keyword === 'additionalProperties'
            ? ((e.params.additionalProperties ?? [e.params.additionalProperty]) as string[])
            : [];
      const parameter = names.length
        ? names.join(', ')
        : e.instancePath.replace(/^\//, '').replace(/\//g, '.') || '(body)';
      const problem =
        e.keyword === 'required'
          ? 'is required'
          : e.keyword === 'additionalProperties'
            ? 'is not a known field'
            : e.message;
      return { in: where, parameter, problem };
    });
    const text = details.map((d) => `${d.parameter} ${d.problem}`).join('; ');
    return new AlertsError('invalid_request', `invalid ${where}: ${text}`.slice(0, 500), details);
  }
  const status = err.statusCode ?? 500;
  if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return new AlertsError('payload_too_large');
  if (err.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') return new AlertsError('unsupported_media_type');
  if (status === 429) return new AlertsError('rate_limited', err.message);
  if (status === 404) return new AlertsError('not_found', `no route ${request.method} ${request.url.split('?')[0]}`);
  if (status >= 400 && status < 500) return new AlertsError('invalid_request', err.message);
  return new AlertsError('internal');
}

export const errorsPlugin = fp(async (app: FastifyInstance) => {
  app.setValidatorCompiler(validatorCompiler);
  app.setErrorHandler((err: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
    const error = toAlertsError(err, request);
    const level = error.statusCode >= 500 ? 'error' : 'info';
    request.log[level]({ err, code: error.code, status: error.statusCode }, 'request failed');
    for (const [k, v] of Object.entries(error.headers ?? {})) reply.header(k, v);
    return reply
      .code(error.statusCode)
      .type('application/json; charset=utf-8')
      .send({
        error: { code: error.code, message: error.message, ...(error.details ? { details: error.details } : {}) },
      });
  });
  app.setNotFoundHandler((request, reply) =>
    reply.code(ALERTS_ERRORS.not_found.status).send({
      error: { code: 'not_found', message: `no route ${request.method} ${request.url.split('?')[0]}`.slice(0, 300) },
    }),
  );
});
