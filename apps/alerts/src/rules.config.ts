/**
 * Loads and validates cities/<city>/alert-rules.json at start-up (this app owns the schema, not
 * @cnx/city-pack). Every problem is listed at once.
 */
import { readFileSync } from 'node:fs';
import { ALERT_SIGNALS, type AlertRuleSet, ruleProblems } from '@cnx/domain';
import Type from 'typebox';
import { Compile } from 'typebox/compile';

const Text = Type.Object({ th: Type.String({ minLength: 1 }), en: Type.String({ minLength: 1 }) });
const Id = Type.String({ pattern: '^[a-z0-9][a-z0-9-]{0,62}$' });
const Threshold = Type.Union([
  Type.Number(),
  Type.Object(
    {
      station: Type.Union([Type.Literal('warningLevelM'), Type.Literal('criticalLevelM'), Type.Literal('bankHeightM')]),
    },
    { additionalProperties: false },
  ),
]);
const Level = Type.Object(
  {
    id: Id,
    severity: Type.Union([Type.Literal('info'), Type.Literal('warning'), Type.Literal('critical')]),
    threshold: Threshold,
    label: Text,
  },
  { additionalProperties: false },
);
const NonNeg = Type.Number({ minimum: 0 });
const Rule = Type.Object(
  {
    id: Id,
    name: Text,
    signal: Type.Union(ALERT_SIGNALS.map((s) => Type.Literal(s))),
    stationKind: Type.Union([Type.Literal('air'), Type.Literal('canal')]),
    direction: Type.Union([Type.Literal('above'), Type.Literal('below')]),
    scope: Type.Union([Type.Literal('station'), Type.Literal('district'), Type.Literal('city')]),
    levels: Type.Array(Level, { minItems: 1 }),
    durationMin: NonNeg,
    hysteresis: NonNeg,
    clearDurationMin: Type.Optional(NonNeg),
    renotifyMin: NonNeg,
    maxGapMin: Type.Optional(Type.Number({ exclusiveMinimum: 0 })),
    windowMin: Type.Optional(Type.Number({ exclusiveMinimum: 0 })),
    metric: Type.Optional(Type.String()),
    epsilon: Type.Optional(NonNeg),
    note: Type.Optional(Type.String()),
  },
  { additionalProperties: false },
);
export const RuleSetSchema = Type.Object(
  {
    $schema: Type.Optional(Type.String()),
    v: Type.Literal(1),
    city: Id,
    note: Type.Optional(Type.String()),
    rules: Type.Array(Rule),
  },
  { additionalProperties: false },
);
const validator = Compile(RuleSetSchema);

export type RuleSetResult = { ok: true; value: AlertRuleSet } | { ok: false; problems: string[] };

export function validateRuleSet(doc: unknown, city: string, stationIds?: ReadonlySet<string>): RuleSetResult {
  const problems: string[] = [];
  for (const e of validator.Errors(doc)) problems.push(`${e.instancePath || '/'} ${e.message}`);
  if (problems.length) return { ok: false, problems };
  const set = doc as AlertRuleSet;
  if (set.city !== city) problems.push(`city is "${set.city}", expected "${city}"`);
  const ids = new Set<string>();
  for (const r of set.rules) {
    if (ids.has(r.id)) problems.push(`duplicate rule id ${r.id}`);
    ids.add(r.id);
    problems.push(...ruleProblems(r));
  }
  void stationIds;
  return problems.length ? { ok: false, problems } : { ok: true, value: set };
}

export function loadRuleSet(file: string, city: string): RuleSetResult {
  let doc: unknown;
  try {
    doc = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    return { ok: false, problems: [`${file}: ${(e as Error).message}`] };
  }
  const r = validateRuleSet(doc, city);
  return r.ok ? r : { ok: false, problems: r.problems.map((p) => `${file}: ${p}`) };
}
