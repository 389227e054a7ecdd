/**
 * The quality policy: for each use of a reading, which QC flags keep it out and which only annotate
 * it. Every app asks this module (never its own list), so the latest value, the series, the AQI, the
 * map and the alerts are computed from the same readings. Table and reasons: docs/qc.md, "Which
 * readings count where".
 *
 * Two kinds of flag:
 * - **excluding** (`range`, `spike`, `stuck`, `seq_duplicate`, `future`, `stale`): the value or its
 *   time is doubtful. `range`/`spike`/`stuck` say the value is likely not air or water;
 *   `seq_duplicate` that the device reused a counter (a reset or a firmware bug: which reading is
 *   which is unknown); `future` and `stale` that the reading's own time is doubtful on the live path
 *   (ahead of the gateway's clock, or more than an hour behind it: a late delivery or a device clock
 *   that went back; the two cannot be told apart). Such a reading never enters an AQI, a mean that
 *   drives advice, a "now" value or an alert. It is still stored, served raw and exported, with its
 *   flags.
 * - **annotating** (`humidity`): the reading is good; the flag explains something about it (optical
 *   PM sensors over-read in humid air, which the EPA correction already accounts for). It enters
 *   every figure.
 *
 * Metric flags (`range`, `spike`, `stuck`) are about one metric's value, named in the reading's
 * `qcMetrics`: asked about one metric, a reading whose DO probe is frozen still counts for its water
 * level. Asked about the whole reading, or for a reading without `qcMetrics` (stored before they
 * existed), any metric flag counts, to be safe.
 *
 * Logged history that a device (or the simulator's backfill) uploads on its `history` topic is not
 * judged for lateness: it says itself that it is old. Whether it is live is judged by its own time,
 * as for every reading (freshness.ts): an upload of last week is never "now".
 */
import type { MetricId } from '../metrics';
import { QC_METRIC_FLAGS, type QcFlag } from './flags';

/** Flags whose readings never enter an AQI, a mean that drives advice, a "now" value or an alert. */
export const QC_EXCLUDING_FLAGS: readonly QcFlag[] = Object.freeze([
  'range',
  'spike',
  'stuck',
  'seq_duplicate',
  'future',
  'stale',
]);

/** Flags that only annotate a reading: it counts everywhere. */
export const QC_ANNOTATING_FLAGS: readonly QcFlag[] = Object.freeze(['humidity']);

/** The uses a reading is put to, each with its own row in the policy. */
export const QC_USES = ['official', 'now', 'alert', 'series', 'latest', 'map', 'export', 'device'] as const;
export type QcUse = (typeof QC_USES)[number];

export interface QcUsePolicy {
  /** Readings carrying any of these are left out of this use. */
  readonly exclude: readonly QcFlag[];
  /** What the use is, for docs and API descriptions. */
  readonly what: string;
}

const NONE: readonly QcFlag[] = Object.freeze([]);

/**
 * The policy, one row per use. The figures a person reads or is alerted on share one exclusion list;
 * exports (raw data for analysts, with every flag in a column) and device health (is the device
 * sending at all?) keep every reading.
 */
export const QC_POLICY: Readonly<Record<QcUse, QcUsePolicy>> = Object.freeze({
  official: {
    exclude: QC_EXCLUDING_FLAGS,
    what: 'the official rolling 24-hour mean and the Thai AQI computed from it',
  },
  now: {
    exclude: QC_EXCLUDING_FLAGS,
    what: 'the 1-hour mean, the NowCast, the US AQI and the "now" band shown before the official mean is valid',
  },
  alert: { exclude: QC_EXCLUDING_FLAGS, what: 'alert signals on air and water (PM2.5, canal level, rise, DO)' },
  series: { exclude: QC_EXCLUDING_FLAGS, what: 'the series API by default and the trend chart' },
  latest: { exclude: QC_EXCLUDING_FLAGS, what: 'the latest value of a station and the live stream' },
  map: { exclude: QC_EXCLUDING_FLAGS, what: 'the bands on the map, in lists and in district summaries' },
  export: { exclude: NONE, what: 'raw readings and exports: every reading, with its flags' },
  device: {
    exclude: NONE,
    what: 'device health: last seen, online/offline, the offline and stuck-sensor alert rules',
  },
});

/** What a policy question is about: one metric of the reading (with its `qcMetrics`), or all of it. */
export interface QcSubject {
  metric: MetricId;
  /** The reading's `qcMetrics`: the metrics its metric flags are about (undefined: unknown). */
  qcMetrics: readonly string[] | undefined;
}

const isMetricFlag = (f: string): boolean => (QC_METRIC_FLAGS as readonly string[]).includes(f);

/**
 * Whether a reading with these flags counts for `use`; with `subject`, whether its value of that
 * metric counts (metric flags about other metrics do not keep it out).
 */
export function usableFor(use: QcUse, flags: readonly string[], subject?: QcSubject): boolean {
  return excludingFlags(use, flags, subject).length === 0;
}

/** The flags of a reading that keep it (or, with `subject`, that metric's value) out of `use`. */
export function excludingFlags(use: QcUse, flags: readonly string[], subject?: QcSubject): QcFlag[] {
  if (flags.length === 0) return [];
  const exclude = QC_POLICY[use].exclude as readonly string[];
  const aboutOther =
    subject?.qcMetrics !== undefined && !subject.qcMetrics.includes(subject.metric)
      ? (f: string) => isMetricFlag(f)
      : () => false;
  return flags.filter((f): f is QcFlag => exclude.includes(f) && !aboutOther(f));
}
