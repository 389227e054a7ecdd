/**
 * The alert state machine for one (rule, subject). Pure and deterministic: the clock is the
 * observation's own timestamp, the state is plain JSON (it is stored as is and survives restarts).
 *
 * - A level is RAISED (or ESCALATED to) when its threshold has been crossed continuously for
 *   `durationMin`, measured on observation times; a gap longer than `maxGapMin` restarts the count
 *   (missing data never counts as "still above").
 * - HYSTERESIS: a level that is firing stays while the value is within `hysteresis` of its
 *   threshold; only below threshold − hysteresis (above + for 'below' rules) does it drop, after
 *   `clearDurationMin`. It drops to the highest lower level still held (DEESCALATED), or CLEARS.
 * - RENOTIFY every `renotifyMin` while firing, when nothing else was said.
 * - Observations not newer than the last one are ignored (the bus is at-least-once).
 * - Flapping around a threshold therefore gives at most one raise and one clear per excursion
 *   beyond the hysteresis band, never an alert per sample.
 */
import { RISE_DEFAULTS } from '../canal-rise';
import type { AlertRule, AlertTransition } from './types';

const MIN_MS = 60_000;
export const DEFAULT_MAX_GAP_MIN = 30;

export interface RuleState {
  v: 1;
  /** Firing level index, -1 when not firing. */
  level: number;
  /** Start of the firing episode. */
  since: number | null;
  /** Per level: since when its condition has held continuously (null = not holding). */
  onSince: (number | null)[];
  /** Since when the firing level is no longer held (null = still held). */
  offSince: number | null;
  lastNotifiedAt: number | null;
  lastTs: number | null;
  lastValue: number | null;
}

export function initialRuleState(levelCount: number): RuleState {
  return {
    v: 1,
    level: -1,
    since: null,
    onSince: new Array<number | null>(levelCount).fill(null),
    offSince: null,
    lastNotifiedAt: null,
    lastTs: null,
    lastValue: null,
  };
}

export interface Observation {
  ts: number;
  /** Undefined = no data this time (only re-notification can happen). */
  value: number | undefined;
}

export interface StepResult {
  state: RuleState;
  events: AlertTransition[];
}

/**
 * One evaluation step. `thresholds` are the rule's level thresholds resolved for this subject
 * (resolveThresholds), least severe first.
 */
export function stepRule(
  rule: AlertRule,
  thresholds: readonly number[],
  prev: RuleState,
  obs: Observation,
): StepResult {
  const s: RuleState = { ...prev, onSince: [...prev.onSince] };
  while (s.onSince.length < thresholds.length) s.onSince.push(null);
  const events: AlertTransition[] = [];
  const above = rule.direction === 'above';
  const h = rule.hysteresis;
  const emit = (type: AlertTransition['type'], previousLevel: number) =>
    events.push({
      type,
      ruleId: rule.id,
      level: s.level,
      previousLevel,
      ts: obs.ts,
      value: obs.value,
      since: s.since ?? undefined,
    });

  if (obs.value === undefined || !Number.isFinite(obs.value)) {
    renotify(rule, s, obs.ts, emit);
    return { state: s, events };
  }
  if (s.lastTs !== null && obs.ts <= s.lastTs) return { state: prev, events };

  const v = obs.value;
  const gapMs = (rule.maxGapMin ?? DEFAULT_MAX_GAP_MIN) * MIN_MS;
  const gap = s.lastTs !== null && obs.ts - s.lastTs > gapMs;
  s.lastTs = obs.ts;
  s.lastValue = v;

  const crossed = (i: number) => (above ? v >= thresholds[i]! : v <= thresholds[i]!);
  const held = (i: number) => (above ? v >= thresholds[i]! - h : v <= thresholds[i]! + h);

  for (let i = 0; i < thresholds.length; i++) {
    const active = i <= s.level ? held(i) : crossed(i);
    if (!active) s.onSince[i] = null;
    else if (s.onSince[i] === null || gap) s.onSince[i] = obs.ts;
  }

  const durationMs = rule.durationMin * MIN_MS;
  let up = -1;
  for (let i = thresholds.length - 1; i > s.level; i--) {
    const since = s.onSince[i];
    if (since !== null && since !== undefined && obs.ts - since >= durationMs) {
      up = i;
      break;
    }
  }

  const before = s.level;
  if (up > s.level) {
    s.level = up;
    s.offSince = null;
    s.lastNotifiedAt = obs.ts;
    if (before < 0) {
      s.since = obs.ts;
      emit('raised', before);
    } else emit('escalated', before);
    return { state: s, events };
  }

  if (s.level >= 0 && !held(s.level)) {
    if (s.offSince === null || gap) s.offSince = obs.ts;
    if (obs.ts - s.offSince >= (rule.clearDurationMin ?? 0) * MIN_MS) {
      let down = -1;
      for (let i = s.level - 1; i >= 0; i--)
        if (held(i)) {
          down = i;
          break;
        }
      s.level = down;
      s.offSince = null;
      if (down >= 0) {
        emit('deescalated', before);
      } else {
        emit('cleared', before);
        s.since = null;
        s.lastNotifiedAt = null;
        // A new episode must again hold for the full duration.
        s.onSince = s.onSince.map(() => null);
      }
      return { state: s, events };
    }
  } else if (s.level >= 0) s.offSince = null;

  renotify(rule, s, obs.ts, emit);
  return { state: s, events };
}

function renotify(rule: AlertRule, s: RuleState, ts: number, emit: (t: 'renotify', prev: number) => void): void {
  if (s.level < 0 || rule.renotifyMin <= 0 || s.lastNotifiedAt === null) return;
  if (ts - s.lastNotifiedAt >= rule.renotifyMin * MIN_MS) {
    s.lastNotifiedAt = ts;
    emit('renotify', s.level);
  }
}

/** Canal levels of a station, when it has them. */
export interface StationThresholdSource {
  canal?: { warningLevelM: number; criticalLevelM: number; bankHeightM: number };
}

/**
 * The rule's thresholds for one station (or for a district/city subject: fixed numbers only).
 * Undefined when a station-relative threshold cannot be resolved (e.g. a station without levels).
 */
export function resolveThresholds(rule: AlertRule, station?: StationThresholdSource): number[] | undefined {
  const out: number[] = [];
  for (const l of rule.levels) {
    if (typeof l.threshold === 'number') out.push(l.threshold);
    else {
      const v = station?.canal?.[l.threshold.station];
      if (v === undefined || !Number.isFinite(v)) return undefined;
      out.push(v);
    }
  }
  return out;
}

/** Problems with a rule's shape that a schema cannot see (monotonic thresholds, scope). */
export function ruleProblems(rule: AlertRule): string[] {
  const p: string[] = [];
  if (rule.levels.length === 0) p.push(`rule ${rule.id}: needs at least one level`);
  const fixed = rule.levels.map((l) => (typeof l.threshold === 'number' ? l.threshold : undefined));
  for (let i = 1; i < fixed.length; i++) {
    const a = fixed[i - 1];
    const b = fixed[i];
    if (a === undefined || b === undefined) continue;
    if (rule.direction === 'above' ? b <= a : b >= a)
      p.push(`rule ${rule.id}: level ${rule.levels[i]!.id} threshold ${b} is not beyond ${a} (${rule.direction})`);
  }
  if (fixed.some((t) => t === undefined) && rule.scope !== 'station')
    p.push(`rule ${rule.id}: station-relative thresholds need scope "station", not "${rule.scope}"`);
  if (rule.signal === 'stuck' && !rule.metric) p.push(`rule ${rule.id}: a stuck rule needs "metric"`);
  if (rule.signal === 'canal_rise' && rule.windowMin !== undefined && rule.windowMin < RISE_DEFAULTS.minSpanMs / MIN_MS)
    p.push(
      `rule ${rule.id}: windowMin ${rule.windowMin} is under the ${RISE_DEFAULTS.minSpanMs / MIN_MS} minutes of readings a rate of rise needs (it could never fire)`,
    );
  if (rule.hysteresis < 0) p.push(`rule ${rule.id}: hysteresis must be ≥ 0`);
  const ids = new Set<string>();
  for (const l of rule.levels) {
    if (ids.has(l.id)) p.push(`rule ${rule.id}: duplicate level id ${l.id}`);
    ids.add(l.id);
  }
  return p;
}
