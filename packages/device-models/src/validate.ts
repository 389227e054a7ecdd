/**
 * Pure validation of a register map document: the typebox schema first, then the rules a schema
 * cannot express. Every problem is reported, each with a JSON Pointer (RFC 6901) and the bad value.
 */
import { err, isMetricId, METRICS, ok, type Result } from '@cnx/domain';
import type { TSchema } from 'typebox';
import { Compile, type Validator } from 'typebox/compile';
import { Settings } from 'typebox/system';
import { registerWidth } from './codec';
import { RegisterMapSchema } from './schema';
import type { RegisterDef, RegisterMap, RegisterMapIssue } from './types';

let compiled: Validator | undefined;
const validator = (): Validator => {
  compiled ??= Compile(RegisterMapSchema as TSchema) as unknown as Validator;
  return compiled;
};

const escapeToken = (t: string | number): string => String(t).replaceAll('~', '~0').replaceAll('/', '~1');
const valueAt = (doc: unknown, path: string): unknown => {
  let cur = doc;
  for (const raw of path.split('/').slice(1)) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[raw.replaceAll('~1', '/').replaceAll('~0', '~')];
  }
  return cur;
};

/**
 * typebox buffers at most `maxErrors` (default 8) errors, a process-wide setting. Raise it for this one
 * synchronous call (restored before returning, so no other caller sees it): a map author gets every
 * problem of the file at once, not the first eight.
 */
function allErrors(doc: unknown): ReturnType<Validator['Errors']> {
  const before = Settings.Get().maxErrors;
  Settings.Set({ maxErrors: 1000 });
  try {
    return validator().Errors(doc);
  } finally {
    Settings.Set({ maxErrors: before });
  }
}

function schemaIssues(doc: unknown): RegisterMapIssue[] {
  const issues: RegisterMapIssue[] = [];
  const push = (path: string, message: string) => {
    const value = valueAt(doc, path);
    issues.push(value === undefined || path === '' ? { path, message } : { path, message, value });
  };
  for (const e of allErrors(doc)) {
    // additionalProperties: false reports a "schema is false" per extra property and a summary: keep the summary.
    if (e.keyword === 'boolean' && e.schemaPath.endsWith('/additionalProperties')) continue;
    if (e.schemaPath.includes('/anyOf/')) continue;
    const params = e.params as Record<string, unknown>;
    switch (e.keyword) {
      case 'required':
        for (const name of params.requiredProperties as string[]) {
          push(`${e.instancePath}/${escapeToken(name)}`, `missing required property "${name}"`);
        }
        break;
      case 'additionalProperties':
        for (const name of params.additionalProperties as string[]) {
          push(`${e.instancePath}/${escapeToken(name)}`, `unknown property "${name}"`);
        }
        break;
      case 'enum':
        push(
          e.instancePath,
          `must be one of ${(params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`,
        );
        break;
      default:
        push(e.instancePath, e.message);
    }
  }
  return issues;
}

function ruleIssues(map: RegisterMap): RegisterMapIssue[] {
  const issues: RegisterMapIssue[] = [];
  const byName = new Map<string, RegisterDef>();
  const used = new Map<string, string>(); // `${fn}:${address}` -> register name
  map.registers.forEach((r, i) => {
    const at = `/registers/${i}`;
    if (byName.has(r.name))
      issues.push({ path: `${at}/name`, message: `duplicate register name "${r.name}"`, value: r.name });
    else byName.set(r.name, r);
    const width = registerWidth(r.type);
    if (r.address + width - 1 > 0xffff) {
      issues.push({
        path: `${at}/address`,
        message: `${r.type} at ${r.address} runs past address 65535`,
        value: r.address,
      });
    }
    for (let a = r.address; a < r.address + width; a++) {
      const other = used.get(`${r.fn}:${a}`);
      if (other !== undefined) {
        issues.push({
          path: `${at}/address`,
          message: `overlaps register "${other}" at fn ${r.fn} address ${a}`,
          value: r.address,
        });
        break;
      }
      used.set(`${r.fn}:${a}`, r.name);
    }
    if (r.scale === 0 || (r.scale !== undefined && !Number.isFinite(r.scale))) {
      issues.push({ path: `${at}/scale`, message: 'scale must be a finite number other than 0', value: r.scale });
    }
    if (r.wordOrder !== undefined && width !== 2) {
      issues.push({
        path: `${at}/wordOrder`,
        message: `wordOrder applies to 32-bit types only, not ${r.type}`,
        value: r.wordOrder,
      });
    }
    if (r.metric !== undefined && r.unit !== undefined && isMetricId(r.metric)) {
      const m = METRICS[r.metric];
      if (r.unit !== m.unit && !m.unitAliases.includes(r.unit)) {
        issues.push({
          path: `${at}/unit`,
          message: `unit "${r.unit}" is not the unit of metric ${r.metric} (${[m.unit, ...m.unitAliases].join(', ')})`,
          value: r.unit,
        });
      }
    }
  });
  if (map.status) {
    const reg = byName.get(map.status.register);
    if (!reg) {
      issues.push({
        path: '/status/register',
        message: `no register named "${map.status.register}"`,
        value: map.status.register,
      });
    } else if (reg.type !== 'uint16' || reg.metric !== undefined || (reg.scale ?? 1) !== 1 || (reg.offset ?? 0) !== 0) {
      issues.push({
        path: '/status/register',
        message: `status register "${reg.name}" must be an unscaled uint16 without a metric`,
        value: map.status.register,
      });
    }
    const seen = new Map<number, string>();
    for (const [flag, bit] of Object.entries(map.status.bits)) {
      const other = seen.get(bit);
      if (other !== undefined) {
        issues.push({
          path: `/status/bits/${escapeToken(flag)}`,
          message: `bit ${bit} is also "${other}"`,
          value: bit,
        });
      }
      seen.set(bit, flag);
    }
  }
  return issues;
}

/** Validate a parsed JSON document as a register map; `expectedId` (the file name) must match its id. */
export function parseRegisterMap(doc: unknown, expectedId?: string): Result<RegisterMap, RegisterMapIssue[]> {
  const issues = schemaIssues(doc);
  if (issues.length > 0) return err(issues);
  const map = doc as RegisterMap & { $schema?: string; note?: string };
  const rules = ruleIssues(map);
  if (expectedId !== undefined && map.id !== expectedId) {
    rules.unshift({
      path: '/id',
      message: `id "${map.id}" differs from the file name "${expectedId}.json"`,
      value: map.id,
    });
  }
  if (rules.length > 0) return err(rules);
  const { $schema: _s, note: _n, ...clean } = map;
  return ok(clean);
}

export const formatRegisterMapIssue = (i: RegisterMapIssue): string =>
  `${i.path || '/'}: ${i.message}${i.value === undefined ? '' : ` (got ${JSON.stringify(i.value)})`}`;
