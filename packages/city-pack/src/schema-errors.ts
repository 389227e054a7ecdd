/** Turns typebox validation errors into city-pack issues: one per problem, with path and bad value. */
import type { TSchema } from 'typebox';
import { Compile, type Validator } from 'typebox/compile';
import type { CityPackError, CityPackFileName } from './errors';
import { ID_PATTERN } from './schema';

/** Escapes one JSON Pointer reference token (RFC 6901 section 3). */
function escapeToken(token: string | number): string {
  return String(token).replaceAll('~', '~0').replaceAll('/', '~1');
}

/** Builds a JSON Pointer from reference tokens: pointer('stations', 3, 'id') === '/stations/3/id'. */
export function pointer(...tokens: (string | number)[]): string {
  return tokens.map((t) => `/${escapeToken(t)}`).join('');
}

/** Reads the value a JSON Pointer designates, or undefined if there is none. */
export function valueAt(document: unknown, path: string): unknown {
  if (path === '') return document;
  let current: unknown = document;
  for (const raw of path.slice(1).split('/')) {
    const token = raw.replaceAll('~1', '/').replaceAll('~0', '~');
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<string, unknown>)[token];
  }
  return current;
}

const cache = new WeakMap<TSchema, Validator>();

/** Compiles once per schema (typebox JIT), then reuses the validator. */
export function validatorFor(schema: TSchema): Validator {
  let validator = cache.get(schema);
  if (!validator) {
    validator = Compile(schema) as unknown as Validator;
    cache.set(schema, validator);
  }
  return validator;
}

export function matches(schema: TSchema, value: unknown): boolean {
  return validatorFor(schema).Check(value);
}

/** Every schema problem of `value`, each as an issue of `file` rooted at `basePath`. */
export function schemaIssues(file: CityPackFileName, schema: TSchema, value: unknown, basePath = ''): CityPackError[] {
  const issues: CityPackError[] = [];
  const push = (path: string, message: string, code: CityPackError['code'] = 'schema_invalid') => {
    const full = basePath + path;
    const bad = valueAt(value, path);
    issues.push(
      bad === undefined ? { code, file, path: full, message } : { code, file, path: full, message, value: bad },
    );
  };
  for (const e of validatorFor(schema).Errors(value)) {
    // additionalProperties: false is reported twice (a "schema is false" per extra property, then a
    // summary); keep the summary. anyOf branches are summarised by the anyOf error itself.
    if (e.keyword === 'boolean' && e.schemaPath.endsWith('/additionalProperties')) continue;
    if (e.schemaPath.includes('/anyOf/')) continue;
    switch (e.keyword) {
      case 'required':
        for (const name of e.params.requiredProperties) {
          push(`${e.instancePath}/${escapeToken(name)}`, `missing required property "${name}"`);
        }
        break;
      case 'additionalProperties':
        for (const name of e.params.additionalProperties) {
          push(`${e.instancePath}/${escapeToken(name)}`, `unknown property "${name}"`);
        }
        break;
      case 'pattern':
        if (String(e.params.pattern) === ID_PATTERN.source) {
          push(e.instancePath, `id must match /${ID_PATTERN.source}/ (lowercase letters, digits, '-')`, 'invalid_id');
        } else {
          push(e.instancePath, e.message);
        }
        break;
      case 'const':
        push(e.instancePath, `must be ${JSON.stringify(e.params.allowedValue)}`);
        break;
      case 'enum':
        push(e.instancePath, `must be one of ${e.params.allowedValues.map((v) => JSON.stringify(v)).join(', ')}`);
        break;
      default:
        push(e.instancePath, e.message);
    }
  }
  return issues;
}
