/**
 * Alert rules as data (issue 6). A rule turns one signal per subject (a station, a district or the
 * city) into alert levels. The rule file lives in the city pack (cities/<id>/alert-rules.json) and
 * is validated by apps/alerts; this module holds the types and the pure evaluation.
 */
import type { LocalizedText } from '../types';

export type AlertDirection = 'above' | 'below';
export type AlertScope = 'station' | 'district' | 'city';
export type AlertSeverity = 'info' | 'warning' | 'critical';

/**
 * Signals a rule can watch (signals.ts computes each from a station's recent samples):
 * - pm25_1h: trailing 60-minute mean of PM2.5 (corrected value when the gateway gives one), µg/m³
 * - pm25_24h: Thai rolling 24-hour mean of hourly means (stats/rolling.ts, 18 of 24 hours), µg/m³
 * - canal_level: latest water level, m above the gauge datum
 * - canal_rise: the established rate of rise, m/h: the lower end of the 95 % interval of the
 *   least-squares slope over `windowMin` (default 60) — the upper end for 'below' rules — and no
 *   signal with fewer than 10 readings or under 15 minutes of them (signals.ts canalRiseSignal,
 *   the dashboard's estimateRise in canal-rise.ts). A rule at 0.3 m/h therefore fires only when the
 *   rise is above 0.3 m/h beyond its uncertainty, never on a few noisy polls.
 * - do_low: latest dissolved oxygen, mg/L (use direction 'below')
 * - offline: minutes since the station's last reading
 * - stuck: minutes the station's `metric` has stayed within `epsilon` of its latest value
 */
export const ALERT_SIGNALS = [
  'pm25_1h',
  'pm25_24h',
  'canal_level',
  'canal_rise',
  'do_low',
  'offline',
  'stuck',
] as const;
export type AlertSignal = (typeof ALERT_SIGNALS)[number];

/** A fixed threshold, or one taken from the station's canal levels in the city pack. */
export type ThresholdRef = number | { station: 'warningLevelM' | 'criticalLevelM' | 'bankHeightM' };

export interface AlertLevelDef {
  /** Stable id, e.g. 'orange', 'red', 'warning', 'critical'. */
  id: string;
  severity: AlertSeverity;
  threshold: ThresholdRef;
  label: LocalizedText;
}

export interface AlertRule {
  id: string;
  name: LocalizedText;
  signal: AlertSignal;
  /** Only stations of this kind feed the rule. */
  stationKind: 'air' | 'canal';
  direction: AlertDirection;
  scope: AlertScope;
  /** Levels from least to most severe; thresholds must be monotonic in the rule's direction. */
  levels: AlertLevelDef[];
  /** "For N minutes": a level is raised only after its condition held this long. */
  durationMin: number;
  /** Below (above, for 'below' rules) threshold minus this margin, in signal units, to clear. */
  hysteresis: number;
  /** The clear condition must hold this long (default 0). */
  clearDurationMin?: number;
  /** Repeat the notification this often while firing; 0 = never. */
  renotifyMin: number;
  /** A gap between observations longer than this restarts the duration count (default 30). */
  maxGapMin?: number;
  /**
   * canal_rise, stuck: look-back window in minutes (canal_rise: default 60, at least 15, the
   * minimum span of readings the rise needs; stuck: default 1440).
   */
  windowMin?: number;
  /** stuck: the metric watched. */
  metric?: string;
  /** stuck: values within this of the latest count as unchanged (default 0). */
  epsilon?: number;
}

export interface AlertRuleSet {
  v: 1;
  city: string;
  rules: AlertRule[];
}

export type AlertTransitionType = 'raised' | 'escalated' | 'deescalated' | 'renotify' | 'cleared';

/** What the engine tells the caller to record and notify. */
export interface AlertTransition {
  type: AlertTransitionType;
  ruleId: string;
  /** Level index after the transition (-1 when cleared). */
  level: number;
  /** Level index before. */
  previousLevel: number;
  /** Observation time that caused it. */
  ts: number;
  value: number | undefined;
  /** Firing since (first raise of this episode). */
  since: number | undefined;
}
