/** How alerts are shown: to anyone (no personal data) and to staff (who acknowledged, the on-call tier). */
import { type AlertTransitionType, alertText, formatAlertValue } from '@cnx/domain';
import type { PublicAlertCore } from '@cnx/protocol';
import type { Evaluator } from '../evaluator';
import type { AlertRow, AlertStore } from '../store';

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/** An alert as the public sees it (GET /v1/alerts): the text of its last transition, no personal data. */
export function publicAlert(a: AlertRow, ev: Evaluator, store: AlertStore): PublicAlertCore | undefined {
  const rule = ev.rule(a.rule_id);
  if (!rule) return undefined;
  const last = store.eventsOfAlert(a.id).at(-1);
  const ended = a.status === 'cleared' || a.status === 'resolved';
  const lvl = ended ? undefined : rule.levels[a.level];
  const subjectName = ev.subjectName(a.subject_type, a.subject_id);
  const input = {
    rule,
    type: (last?.type ?? 'raised') as AlertTransitionType,
    level: last?.level ?? a.level,
    previousLevel: last?.previous_level ?? -1,
    value: last?.value ?? a.value ?? undefined,
    subjectName,
    ts: last?.ts ?? a.since,
    city: { name: ev.city.name, timeZone: ev.city.timeZone },
  };
  const th = alertText(input, 'th');
  const en = alertText(input, 'en');
  const endedAt = a.status === 'resolved' ? a.resolved_at : a.status === 'cleared' ? (last?.ts ?? a.updated_at) : null;
  return {
    id: a.id,
    rule: a.rule_id,
    ruleName: rule.name,
    signal: rule.signal,
    subject: { type: a.subject_type as 'station', id: a.subject_id, name: subjectName },
    status: ended ? 'ended' : 'active',
    level: lvl?.id ?? null,
    severity: lvl?.severity ?? null,
    levelLabel: lvl?.label ?? null,
    value: a.value,
    valueText: formatAlertValue(rule, a.value ?? undefined),
    since: iso(a.since)!,
    updatedAt: iso(last?.ts ?? a.updated_at)!,
    endedAt: iso(endedAt),
    text: { th: { title: th.subject, body: th.body }, en: { title: en.subject, body: en.body } },
  };
}

/** Current alerts and those that ended within `hours` (at most 100), newest first. */
export function publicAlertList(store: AlertStore, ev: Evaluator, now: number, hours: number) {
  const view = (rows: AlertRow[]) =>
    rows.map((a) => publicAlert(a, ev, store)).filter((a): a is PublicAlertCore => a !== undefined);
  return {
    current: view(store.activeAlerts().reverse()),
    recent: view(store.endedAlertsSince(now - hours * 3_600_000, 100)),
    recentHours: hours,
  };
}

/** An alert as staff see it: who acknowledged or resolved it, and which on-call tier has been told. */
export const staffAlert = (a: AlertRow, ev: Evaluator) => {
  const rule = ev.rule(a.rule_id);
  const lvl = rule?.levels[a.level];
  return {
    id: a.id,
    rule: a.rule_id,
    ruleName: rule?.name ?? null,
    subject: { type: a.subject_type, id: a.subject_id, name: ev.subjectName(a.subject_type, a.subject_id) },
    level: lvl?.id ?? null,
    severity: lvl?.severity ?? null,
    status: a.status,
    since: iso(a.since)!,
    updatedAt: iso(a.updated_at)!,
    value: a.value,
    ackedBy: a.acked_by,
    ackedAt: iso(a.acked_at),
    resolvedBy: a.resolved_by,
    resolvedAt: iso(a.resolved_at),
    escalationTier: a.escalation_tier,
  };
};
