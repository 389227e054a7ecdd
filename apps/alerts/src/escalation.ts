/**
 * Staff escalation (run by the sender's tick): an alert still firing when its escalation time comes
 * is told to the next on-call tier that has someone in it, with the newest raise or escalation.
 */
import type { AlertsConfig } from './config';
import type { AlertStore } from './store';

/** Returns the number of deliveries queued. */
export function escalate(
  store: AlertStore,
  cfg: Pick<AlertsConfig, 'staff' | 'escalateAfterMin'>,
  now: number,
): number {
  let queued = 0;
  store.tx(() => {
    for (const a of store.dueEscalations(now)) {
      // The next tier that has someone in it (tiers may have gaps).
      const tier = Math.min(...cfg.staff.filter((s) => s.tier > a.escalation_tier).map((s) => s.tier));
      if (!Number.isFinite(tier)) {
        store.updateAlert(a.id, { next_escalation_at: null });
        continue;
      }
      store.updateAlert(a.id, {
        escalation_tier: tier,
        next_escalation_at: now + cfg.escalateAfterMin * 60_000,
      });
      store.audit(now, 'system', 'escalated_to_tier', a.id, { tier });
      // The newest raise/escalation: the next tier hears the alert as it stands now.
      const ev = store
        .eventsOfAlert(a.id)
        .filter((e) => e.type === 'raised' || e.type === 'escalated')
        .at(-1);
      if (!ev) continue;
      for (const s of cfg.staff.filter((x) => x.tier === tier)) {
        store.enqueue({
          event_id: ev.id,
          kind: 'alert',
          channel: s.channel,
          target_kind: 'staff',
          target_id: s.id,
          retry_key: crypto.randomUUID(),
          status: 'pending',
          next_attempt_at: now,
          created_at: now,
        });
        queued++;
      }
    }
  });
  return queued;
}
