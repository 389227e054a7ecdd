import { invalidQuery, show } from './errors';

/*
 * Safe InfluxQL building. A query is an `InfluxQL` value built only by the tagged template `iql`,
 * whose literal parts are source code and whose interpolations must themselves be `InfluxQL` values
 * made by the helpers below (quoted identifier, quoted string, integer, epoch time). A plain string
 * cannot be interpolated: the types forbid it and `iql` throws at run time too.
 *
 * Quoting (InfluxQL spec, "Identifiers" and "Strings"): identifiers in double quotes with `\"` and
 * `\\` escaped; string literals in single quotes with `\'` and `\\` escaped. The scanner refuses raw
 * newlines inside either, so control characters are rejected rather than escaped.
 */
const TRUSTED: unique symbol = Symbol('InfluxQL');

export class InfluxQL {
  /** Only this module can create instances (it alone holds the token); everything else composes them. */
  constructor(
    token: typeof TRUSTED,
    readonly text: string,
  ) {
    if (token !== TRUSTED) throw invalidQuery('InfluxQL fragments are made by ident(), str(), iql`...` only');
  }

  toString(): string {
    return this.text;
  }
}

const trusted = (text: string): InfluxQL => new InfluxQL(TRUSTED, text);

function checkText(kind: string, value: unknown): string {
  if (typeof value !== 'string') throw invalidQuery(`InfluxQL ${kind} must be a string, got ${show(value)}`);
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) throw invalidQuery(`InfluxQL ${kind} ${show(value)} contains a control character`);
  }
  return value;
}

/** A double-quoted identifier (database, retention policy, measurement, tag or field key). */
export function ident(name: string): InfluxQL {
  if (checkText('identifier', name) === '') throw invalidQuery('InfluxQL identifier must not be empty');
  return trusted(`"${name.replace(/[\\"]/g, '\\$&')}"`);
}

/** A single-quoted string literal. */
export function str(value: string): InfluxQL {
  checkText('string literal', value);
  return trusted(`'${value.replace(/[\\']/g, '\\$&')}'`);
}

/** An integer literal (LIMIT, OFFSET...). */
export function int(n: number): InfluxQL {
  if (!Number.isSafeInteger(n)) throw invalidQuery(`InfluxQL integer ${show(n)} must be a safe integer`);
  return trusted(String(n));
}

/** An absolute time as an epoch literal with a unit suffix: `1700000000000ms`. */
export function timeMs(ms: number): InfluxQL {
  if (!Number.isSafeInteger(ms)) throw invalidQuery(`InfluxQL time ${show(ms)} must be integer epoch ms`);
  return trusted(`${ms}ms`);
}

/** An absolute time in epoch nanoseconds (a bare integer in InfluxQL; bigint since ns exceed 2^53). */
export function timeNs(ns: bigint): InfluxQL {
  if (typeof ns !== 'bigint') throw invalidQuery(`InfluxQL time ${show(ns)} must be a bigint of epoch ns`);
  return trusted(String(ns));
}

/** Composes a query: `iql\`SELECT ${ident(f)} FROM ${ident(m)} WHERE ${cond}\``. */
export function iql(strings: TemplateStringsArray, ...parts: InfluxQL[]): InfluxQL {
  if (!Array.isArray(strings) || !Array.isArray((strings as TemplateStringsArray).raw)) {
    throw invalidQuery('iql must be used as a tagged template');
  }
  let text = strings[0] ?? '';
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i];
    if (!(part instanceof InfluxQL)) {
      throw invalidQuery(`iql: interpolated ${show(part)} is not an InfluxQL fragment (use ident() or str())`);
    }
    text += part.text + (strings[i + 1] ?? '');
  }
  return trusted(text);
}

/** Joins fragments with a fixed separator. */
export function join(parts: readonly InfluxQL[], separator: ', ' | ' AND ' | ' OR '): InfluxQL {
  for (const p of parts)
    if (!(p instanceof InfluxQL)) throw invalidQuery(`join: ${show(p)} is not an InfluxQL fragment`);
  return trusted(parts.map((p) => p.text).join(separator));
}

/** `time >= <from>ms AND time < <to>ms` (from inclusive, to exclusive; `toInclusive` makes it `<=`). */
export function timeRange(fromMs: number, toMs: number, opts: { toInclusive?: boolean } = {}): InfluxQL {
  const upper = trusted(opts.toInclusive ? '<=' : '<');
  return iql`time >= ${timeMs(fromMs)} AND time ${upper} ${timeMs(toMs)}`;
}

/** `("tag" = 'a' OR "tag" = 'b')`; callers handle the empty list (it matches nothing). */
export function tagIn(tag: string, values: readonly string[]): InfluxQL {
  if (values.length === 0) throw invalidQuery(`tagIn(${show(tag)}): empty value list`);
  const key = ident(tag);
  return iql`(${join(
    values.map((v) => iql`${key} = ${str(v)}`),
    ' OR ',
  )})`;
}

/** `"measurement"` or `"rp"."measurement"`. */
export function measurementRef(measurement: string, retentionPolicy?: string): InfluxQL {
  return retentionPolicy ? iql`${ident(retentionPolicy)}.${ident(measurement)}` : ident(measurement);
}

/** A duration literal in milliseconds (`GROUP BY time(3600000ms)`); a positive safe integer. */
export function durationMs(ms: number): InfluxQL {
  if (!Number.isSafeInteger(ms) || ms < 1)
    throw invalidQuery(`InfluxQL duration ${show(ms)} must be a positive integer (ms)`);
  return trusted(`${ms}ms`);
}

const CODE = /^[A-Za-z0-9_.-]{1,64}$/;

/** `range|spike`: codes checked against [A-Za-z0-9_.-] with dots escaped, so none can change a pattern. */
function codeAlternation(what: string, codes: readonly string[]): string {
  if (codes.length === 0) throw invalidQuery(`${what}: empty code list`);
  for (const c of codes) {
    if (typeof c !== 'string' || !CODE.test(c)) throw invalidQuery(`InfluxQL code ${show(c)} must match ${CODE}`);
  }
  return codes.map((c) => c.replace(/\./g, '\\.')).join('|');
}

/**
 * A regex literal matching a comma-joined code list (the stored `qc` field) that contains any of
 * `codes`: `/(^|,)(range|spike)(,|$)/`. Codes are restricted to [A-Za-z0-9_.-] (the QC code rule);
 * dots are escaped, so nothing in a code can change the pattern.
 */
export function codeListRegex(codes: readonly string[]): InfluxQL {
  return trusted(`/(^|,)(${codeAlternation('codeListRegex', codes)})(,|$)/`);
}

/**
 * A regex literal matching a comma-joined code list made only of `codes` (the empty list
 * included): `/^((range|spike|stuck)(,|$))*$/`. Its negation is "carries a code not in `codes`".
 */
export function codeListOnlyRegex(codes: readonly string[]): InfluxQL {
  return trusted(`/^((${codeAlternation('codeListOnlyRegex', codes)})(,|$))*$/`);
}

/** A regex literal matching a comma-joined code list that is empty or contains `code`: `/^$|(^|,)(do)(,|$)/`. */
export function emptyOrListsRegex(code: string): InfluxQL {
  return trusted(`/^$|(^|,)(${codeAlternation('emptyOrListsRegex', [code])})(,|$)/`);
}

/**
 * True for a point that lacks the (string) field `name`: `("name" =~ /^/) = false`. InfluxQL has
 * no IS NULL or NOT; a condition on a missing field evaluates to nil, and InfluxDB 1.x (also the
 * v1 engine of 2.x) casts nil compared with a boolean to false, so this is true exactly when the
 * field is missing. Checked against influxd 1.6.7 by the contract suite (test/contract-qc-metrics.ts).
 */
export function fieldAbsent(name: string): InfluxQL {
  return iql`(${ident(name)} =~ ${trusted('/^/')}) = false`;
}
