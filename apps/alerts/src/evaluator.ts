/**
 * Readings → samples → signals → rule engine (@cnx/domain) → alerts, events and outbox rows, all
 * in one SQLite transaction per bus message, so a crash never loses or doubles an alert event.
 */
import { randomUUID } from 'node:crypto';
import {
  type AlertRule,
  type AlertTransition,
  addSample,
  aggregateSignal,
  initialRuleState,
  isDeviceSignal,
  isLive,
  LIVE_MAX_FUTURE_MS,
  type LocalizedText,
  localDayStart,
  type MetricId,
  type RuleState,
  resolveThresholds,
  type StationSeries,
  signalBasis,
  signalMetric,
  signalSamples,
  stationSignal,
  stepRule,
  usableFor,
} from '@cnx/domain';
import type { BusReading } from '@cnx/protocol';
import type { Logger } from '@cnx/runtime';
import { metricValues } from './bus';
import type { AlertsConfig } from './config';
import type { AlertStore, SubscriptionRow } from './store';

const KEEP_MS = 25 * 3_600_000;
const PM25_SIGNALS: ReadonlySet<string> = new Set(['pm25_1h', 'pm25_24h']);

export interface StationInfo {
  id: string;
  kind: 'air' | 'canal';
  district: string;
  name: LocalizedText;
  canal?: { warningLevelM: number; criticalLevelM: number; bankHeightM: number };
}

export interface CityInfo {
  id: string;
  name: LocalizedText;
  /** IANA time zone of the city (city.json): quiet hours and daily caps follow its clock. */
  timeZone: string;
  stations: Map<string, StationInfo>;
  districts: Map<string, LocalizedText>;
}

export interface EvalStats {
  readings: number;
  duplicates: number;
  events: number;
  /** Readings the quality policy keeps out of air and water signals (QC_POLICY.alert). */
  suspect: number;
  /** Readings not live by their own time (history, replays, stale): kept as samples, never evaluated. */
  notLive: number;
}

export class Evaluator {
  private readonly series = new Map<string, StationSeries>();
  private readonly states = new Map<string, RuleState>();
  readonly stats: EvalStats = { readings: 0, duplicates: 0, events: 0, suspect: 0, notLive: 0 };

  constructor(
    private readonly store: AlertStore,
    readonly city: CityInfo,
    readonly rules: readonly AlertRule[],
    private readonly cfg: Pick<AlertsConfig, 'staff' | 'escalateAfterMin' | 'defaultDailyCap' | 'liveWindowMs'>,
    readonly logger: Logger,
  ) {}

  /** Restore samples and rule states after a restart, or when this process takes over as the sender. */
  restore(now = Date.now()): void {
    this.series.clear();
    this.states.clear();
    for (const s of this.store.allSamples())
      if (s.ts <= now + LIVE_MAX_FUTURE_MS) this.addToSeries(s.station, s.metric, s.ts, s.value, s.suspect === 1);
    for (const r of this.store.allRuleStates()) this.states.set(`${r.rule_id}|${r.subject}`, JSON.parse(r.state));
  }

  rule(id: string): AlertRule | undefined {
    return this.rules.find((r) => r.id === id);
  }

  subjectName(type: string, id: string): LocalizedText {
    if (type === 'station') return this.city.stations.get(id)?.name ?? { th: id, en: id };
    if (type === 'district') return this.city.districts.get(id) ?? { th: id, en: id };
    return this.city.name;
  }

  private addToSeries(station: string, metric: string, ts: number, value: number, suspect: boolean): void {
    let st = this.series.get(station);
    if (!st) {
      st = { metrics: {}, lastSeen: undefined };
      this.series.set(station, st);
    }
    let ser = st.metrics[metric];
    if (!ser) {
      ser = [];
      st.metrics[metric] = ser;
    }
    addSample(ser, suspect ? { ts, value, suspect } : { ts, value }, KEEP_MS);
    if (st.lastSeen === undefined || ts > st.lastSeen) st.lastSeen = ts;
  }

  /**
   * Returns the number of outbox rows created. Every reading becomes samples (its QC verdict kept:
   * suspect samples feed only device-health signals); only live readings (by their own time) step
   * the rules, so history uploads, replays and stale deliveries never raise or clear an alert, and a
   * reading the quality policy excludes (spike, range, stuck...) never moves an air or water rule.
   */
  onReadings(readings: readonly BusReading[], now: number): number {
    let queued = 0;
    this.store.tx(() => {
      for (const r of readings) {
        if (r.city && r.city !== this.city.id) continue;
        // Judged per metric: a frozen DO probe leaves the same reading's water level usable.
        const qc = r.qc ?? [];
        const suspectMetric = (metric: string) =>
          !usableFor('alert', qc, { metric: metric as MetricId, qcMetrics: r.qcMetrics });
        const suspect = !usableFor('alert', qc);
        // A time ahead of the clock (flagged future) must not pin "last seen" in the future.
        const sane = r.ts <= now + LIVE_MAX_FUTURE_MS;
        let fresh = false;
        for (const [metric, value] of Object.entries(metricValues(r))) {
          const bad = suspectMetric(metric);
          if (this.store.insertSample(r.station, metric, r.ts, value, bad)) {
            fresh = true;
            if (sane) this.addToSeries(r.station, metric, r.ts, value, bad);
          }
        }
        if (!fresh) {
          this.stats.duplicates++;
          continue;
        }
        this.stats.readings++;
        if (suspect) this.stats.suspect++;
        if (!isLive(r.ts, now, this.cfg.liveWindowMs)) {
          this.stats.notLive++;
          continue;
        }
        // Evaluate in reading order so durations see every step. A rule on air or water steps only if
        // its own metric's value in this reading is usable (signals.ts skips suspect samples anyway).
        queued += this.evaluateStation(r.station, r.ts, now, suspectMetric);
      }
      this.store.pruneSamples(now - KEEP_MS - 3_600_000);
    });
    return queued;
  }

  private evaluateStation(stationId: string, ts: number, now: number, suspect: (metric: string) => boolean): number {
    const station = this.city.stations.get(stationId);
    const st = this.series.get(stationId);
    if (!station || !st) return 0;
    let queued = 0;
    for (const rule of this.rules) {
      if (rule.stationKind !== station.kind || rule.signal === 'offline') continue;
      // A flagged value never moves an air or water rule (not even to prolong or clear it).
      const metric = signalMetric(rule);
      if (!isDeviceSignal(rule.signal) && metric !== undefined && suspect(metric)) continue;
      if (rule.scope === 'station') {
        const th = resolveThresholds(rule, station);
        if (!th) continue;
        queued += this.step(rule, 'station', stationId, th, ts, stationSignal(rule, st, ts), now);
      } else {
        const subject = rule.scope === 'district' ? station.district : this.city.id;
        const members = [...this.city.stations.values()].filter(
          (s) => s.kind === rule.stationKind && (rule.scope === 'city' || s.district === subject),
        );
        // A member counts while it is live at the reading's time: a station gone quiet during smoke
        // neither keeps a district alert firing nor raises one.
        const values = members.map((s) => {
          const ser = this.series.get(s.id);
          if (ser?.lastSeen === undefined || !isLive(ser.lastSeen, ts, this.cfg.liveWindowMs)) return undefined;
          return stationSignal(rule, ser, Math.min(ts, ser.lastSeen));
        });
        const th = resolveThresholds(rule)!;
        queued += this.step(rule, rule.scope, subject, th, ts, aggregateSignal(values, rule.direction), now);
      }
    }
    return queued;
  }

  /** Wall-clock tick: offline rules and re-notification while no data arrives. */
  tick(now: number): number {
    let queued = 0;
    this.store.tx(() => {
      for (const rule of this.rules) {
        if (rule.signal === 'offline') {
          for (const station of this.city.stations.values()) {
            if (station.kind !== rule.stationKind) continue;
            const st = this.series.get(station.id);
            if (!st) continue;
            queued += this.step(
              rule,
              'station',
              station.id,
              resolveThresholds(rule)!,
              now,
              stationSignal(rule, st, now),
              now,
            );
          }
        } else {
          for (const [key, state] of this.states) {
            const [ruleId, subject] = key.split('|') as [string, string];
            if (ruleId !== rule.id || state.level < 0) continue;
            const th = resolveThresholds(rule, this.city.stations.get(subject)) ?? resolveThresholds(rule) ?? [];
            queued += this.step(rule, rule.scope, subject, th, now, undefined, now);
          }
        }
      }
    });
    return queued;
  }

  private step(
    rule: AlertRule,
    subjectType: string,
    subject: string,
    th: number[],
    ts: number,
    value: number | undefined,
    now: number,
  ): number {
    const key = `${rule.id}|${subject}`;
    const prev = this.states.get(key) ?? initialRuleState(th.length);
    const { state, events } = stepRule(rule, th, prev, { ts, value });
    if (state === prev) return 0;
    this.states.set(key, state);
    this.store.saveRuleState(rule.id, subject, state);
    let queued = 0;
    for (const e of events) {
      this.logTransition(rule, subjectType, subject, e);
      queued += this.record(rule, subjectType, subject, e, now);
    }
    return queued;
  }

  /** Every alert state change, at info: rule, subject, level, value and what the value was computed from. */
  private logTransition(rule: AlertRule, subjectType: string, subject: string, t: AlertTransition): void {
    const { basis, windowMin } = signalBasis(rule);
    const st = subjectType === 'station' ? this.series.get(subject) : undefined;
    this.logger.info(
      {
        transition: t.type,
        rule: rule.id,
        signal: rule.signal,
        subjectType,
        subject,
        ...(subjectType === 'station' ? { station: subject } : {}),
        alertLevel: rule.levels[t.level]?.id ?? null,
        previousAlertLevel: rule.levels[t.previousLevel]?.id ?? null,
        value: t.value ?? null,
        at: new Date(t.ts).toISOString(),
        basis,
        windowMin,
        ...(st ? { readings: signalSamples(rule, st, t.ts) } : {}),
      },
      'alert state change',
    );
  }

  private record(rule: AlertRule, subjectType: string, subject: string, t: AlertTransition, now: number): number {
    this.stats.events++;
    let alert = t.type === 'raised' ? undefined : this.store.openAlert(rule.id, subject);
    let alertId: number;
    if (!alert) {
      if (t.type !== 'raised') {
        // The staff resolved it by hand meanwhile: keep recording against that alert, notify nobody else.
        const last = this.store.latestAlert(rule.id, subject);
        if (!last) return 0;
        alertId = last.id;
      } else {
        const hasStaff = this.cfg.staff.length > 0;
        alertId = this.store.createAlert({
          rule_id: rule.id,
          subject_type: subjectType,
          subject_id: subject,
          level: t.level,
          status: 'firing',
          since: t.ts,
          updated_at: now,
          value: t.value ?? null,
          escalation_tier: 0,
          next_escalation_at: hasStaff ? now + this.cfg.escalateAfterMin * 60_000 : null,
        });
        this.store.audit(now, 'system', 'raised', alertId, { level: rule.levels[t.level]?.id, value: t.value });
      }
      alert = this.store.getAlert(alertId);
    } else {
      alertId = alert.id;
      const patch: Record<string, unknown> = {
        level: Math.max(t.level, 0),
        updated_at: now,
        value: t.value ?? alert.value,
      };
      if (t.type === 'cleared') Object.assign(patch, { status: 'cleared', next_escalation_at: null });
      this.store.updateAlert(alertId, patch);
      if (t.type !== 'renotify')
        this.store.audit(now, 'system', t.type, alertId, { level: rule.levels[t.level]?.id ?? null, value: t.value });
    }
    const eventId = this.store.insertEvent({
      alert_id: alertId,
      type: t.type,
      rule_id: rule.id,
      subject_type: subjectType,
      subject_id: subject,
      level: t.level,
      previous_level: t.previousLevel,
      value: t.value ?? null,
      ts: t.ts,
      created_at: now,
    });
    const humanClosed = alert?.status === 'resolved';
    let queued = 0;
    const add = (
      channel: string,
      kind: 'system' | 'staff' | 'subscriber',
      id: string,
      at = now,
      status: 'pending' | 'suppressed' = 'pending',
      why: string | null = null,
    ) => {
      this.store.enqueue({
        event_id: eventId,
        kind: 'alert',
        channel,
        target_kind: kind,
        target_id: id,
        retry_key: randomUUID(),
        status,
        next_attempt_at: at,
        created_at: now,
        last_error: why,
      });
      if (status === 'pending') queued++;
    };
    add('mqtt', 'system', 'bus');
    if (humanClosed) return queued;
    if (t.type !== 'renotify') {
      const tier = alert?.escalation_tier ?? 0;
      for (const s of this.cfg.staff) if (s.tier <= tier) add(s.channel, 'staff', s.id);
    }
    if (t.type === 'deescalated') return queued;
    const station = subjectType === 'station' ? this.city.stations.get(subject) : undefined;
    for (const sub of this.store.subs.active()) {
      if (!this.matches(sub, rule, subjectType, subject, station)) continue;
      if (t.type === 'cleared') {
        if (this.store.subscriberToldAbout(sub.id, alertId))
          add(sub.channel, 'subscriber', String(sub.id), quietEnd(sub, now, this.city.timeZone));
        continue;
      }
      // The personal threshold is PM2.5 in µg/m³: it filters the PM2.5 rules only (issue 12).
      if (sub.threshold !== null && t.value !== undefined && PM25_SIGNALS.has(rule.signal) && t.value < sub.threshold)
        continue;
      const cap = sub.daily_cap || this.cfg.defaultDailyCap;
      if (this.store.subscriberDeliveriesSince(sub.id, cityDayStart(now, this.city.timeZone)) >= cap) {
        add(sub.channel, 'subscriber', String(sub.id), now, 'suppressed', 'daily_cap');
        continue;
      }
      add(sub.channel, 'subscriber', String(sub.id), quietEnd(sub, now, this.city.timeZone));
    }
    return queued;
  }

  private matches(
    sub: SubscriptionRow,
    rule: AlertRule,
    subjectType: string,
    subject: string,
    station?: StationInfo,
  ): boolean {
    if (sub.rules) {
      const allowed = JSON.parse(sub.rules) as string[];
      if (!allowed.includes(rule.id)) return false;
    }
    if (sub.scope_type === 'city' || subjectType === 'city') return true;
    if (sub.scope_type === 'station') {
      if (subjectType === 'station') return sub.scope_id === subject;
      return this.city.stations.get(sub.scope_id)?.district === subject;
    }
    return subjectType === 'district' ? sub.scope_id === subject : station?.district === sub.scope_id;
  }
}

/** Start of the city's calendar day holding `now` (its IANA time zone, city.json). */
export function cityDayStart(now: number, timeZone: string): number {
  return localDayStart(now, timeZone);
}

/** When a delivery to `sub` may go out: now, or the end of its quiet hours (the city's local time). */
export function quietEnd(
  sub: Pick<SubscriptionRow, 'quiet_start' | 'quiet_end'>,
  now: number,
  timeZone: string,
): number {
  if (sub.quiet_start === null || sub.quiet_end === null || sub.quiet_start === sub.quiet_end) return now;
  const dayStart = cityDayStart(now, timeZone);
  const minute = Math.floor((now - dayStart) / 60_000);
  const { quiet_start: a, quiet_end: b } = sub;
  const inside = a < b ? minute >= a && minute < b : minute >= a || minute < b;
  if (!inside) return now;
  const endToday = dayStart + b * 60_000;
  return endToday > now ? endToday : endToday + 86_400_000;
}
