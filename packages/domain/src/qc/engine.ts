/**
 * Per-device quality control. Runs in the gateway's hot path for every message, so: no closures or
 * temporary objects per call (the returned flag array is the only allocation), fixed-size per-metric
 * state indexed by the metric's position in METRIC_IDS, O(1) work per metric present in the reading
 * (ranges and per-metric settings are read from typed arrays by index), and a bounded (64) window of
 * recent sequence numbers. The state is one compact Float64Array per device (see DeviceQcState for
 * why); qcStateToJson / qcStateFromJson turn it into plain JSON and back, to persist it.
 *
 * Flags (codes in ./flags.ts):
 * - range: a value outside METRICS[m].min..max (or not finite).
 * - spike: |v − baseline| > config.spike[m], where the baseline is the metric's last accepted value
 *   and the previous reading of the metric is at most spikeMaxGapMs old (after a longer gap the jump
 *   is not "between consecutive readings" and the baseline restarts). A spike value does NOT become
 *   the baseline, so an isolated outlier flags once and the return to normal is clean. It is kept
 *   as "pending": if the next reading is again far from the baseline but within the threshold of the
 *   pending value, the level really changed (smoke arrived): that reading is clean and becomes the
 *   baseline. Only the first reading of a genuine step is flagged.
 * - stuck: the same exact value for stuckCount readings in a row (the stuckCount-th and later are
 *   flagged), only for config.stuckMetrics. Values at or below config.stuckMinValue[m] never count
 *   (DO: anoxic water reads near 0 for hours). Whole-number values at or below
 *   config.stuckWholeMinValue[m] never count either: PMS sensors report whole µg/m³, so 0–10 µg/m³
 *   in clean air repeat legitimately for long spells. A fractional value (firmware that averages the
 *   1 Hz frames over its interval and reports a decimal, as the simulator and airrohr do) has the
 *   resolution to vary: 30 readings of 4.3 in a row are as implausible as 30 of 30.3, so they count.
 *   (Until issue 11 the PM floor applied to every value, and a node frozen in clean air — most of the
 *   rainy season — was never flagged. Comparing with neighbouring stations is the better tool, later.)
 * - humidity: RH > humidityFlagAbove in a reading that also carries PM (PM1/PM2.5/PM10); without
 *   PM in the same reading the flag would mean nothing.
 * - future: ts − receivedAt > maxFutureSkewMs.  stale: receivedAt − ts > maxAgeMs.
 * - seq_duplicate: the seq was seen among the device's last 64 with a different ts. The same seq
 *   with the same ts is a redelivery (MQTT QoS 1, a replay after reconnect): not flagged, and it gets
 *   back the spike/stuck flags computed the first time, so an idempotent overwrite in the store
 *   keeps the same flags.
 *
 * Ordering, per metric: only a reading newer than the metric's last one updates spike/stuck state.
 * A reading with the same ts as the metric's last one (a repeat) gets that reading's spike/stuck
 * result again; an older one (out of order, late replay) gets no spike/stuck verdict and leaves the
 * state untouched. A reading flagged `future` never enters that state either: one bad clock would
 * otherwise push the "latest ts" ahead and switch those checks off until real time caught up.
 */
import { METRIC_IDS, METRICS, type MetricId } from '../metrics';
import type { MetricValues } from '../types';
import { QC_FLAG_LIST, type QcFlag } from './flags';

/**
 * QC settings. Treat a config object as immutable: its per-metric settings are compiled once per
 * object (see `compile`), so to change settings pass a new object.
 */
export interface QcConfig {
  maxFutureSkewMs: number;
  maxAgeMs: number;
  humidityFlagAbove: number;
  /** Max absolute jump between consecutive readings, per metric; metrics absent are not checked. */
  spike: Partial<Record<MetricId, number>>;
  spikeMaxGapMs: number;
  /** Identical consecutive values to call a metric stuck. */
  stuckCount: number;
  stuckMetrics: MetricId[];
  /** Values at or below this floor are never counted as stuck (see header). */
  stuckMinValue?: Partial<Record<MetricId, number>>;
  /** Whole-number values at or below this floor are never counted as stuck; fractional ones are. */
  stuckWholeMinValue?: Partial<Record<MetricId, number>>;
}

/**
 * Defaults, each number with its reason:
 * - maxFutureSkewMs 2 min: devices set their clocks by NTP; two minutes tolerates RTC drift between
 *   syncs and a gateway clock a little off, while a device with no time at all (1970, or a fixed
 *   build date) is far outside it.
 * - maxAgeMs 1 h: readings are still useful later, but one older than the hour is no longer "now"
 *   for alerts and the live stream, and arrives after the hourly means that used its hour.
 * - humidityFlagAbove 75 %RH: Plantower sensors over-read from hygroscopic particle growth above
 *   roughly 70–80 %RH (Barkjohn et al. 2021 include RH in the correction for this reason).
 * - spike: PM 100 µg/m³ (150 for PM10) in one step: smoke raises PM by tens within minutes, a jump of
 *   a hundred between two readings minutes apart is far more often a glitch (insect, serial
 *   framing) than air; temperature 5 °C, RH 20 %RH: more than weather does between readings;
 *   water level 0.5 m: even flash floods in a city canal rise over tens of minutes, not one poll;
 *   DO 3 mg/L, pH 1.5, water temperature 3 °C, conductivity 500 µS/cm, turbidity 500 NTU: several
 *   times the change a canal shows between polls (turbidity does jump in storms: generous).
 * - spikeMaxGapMs 10 min: beyond it two readings are not "consecutive" for this purpose.
 * - stuckCount 30: 30 minutes at the one-minute rate typical of the firmware; with real noise
 *   (±1–2 µg/m³ above 10 µg/m³, ±0.01 on two-decimal probes) 30 identical values are implausible.
 * - stuckMetrics PM1/PM2.5/PM10, DO, pH: the sensors whose failure is a frozen value (a dead fan, a
 *   Modbus probe returning its last register). Air/water temperature, RH (100 % in rain), EC and
 *   level legitimately stay flat and are left out.
 * - stuckMinValue DO 0.5 mg/L: anoxic canal water (DO near 0) repeats at any resolution.
 * - stuckWholeMinValue PM 10 µg/m³: clean air repeats at the sensor's whole-µg/m³ resolution (a
 *   fractional value shows the firmware averages, and then repeats are implausible at any level).
 */
export const DEFAULT_QC_CONFIG: Readonly<QcConfig> = Object.freeze({
  maxFutureSkewMs: 2 * 60_000,
  maxAgeMs: 60 * 60_000,
  humidityFlagAbove: 75,
  spike: Object.freeze({
    pm1: 100,
    pm25: 100,
    pm10: 150,
    temperature: 5,
    humidity: 20,
    water_level: 0.5,
    do: 3,
    ph: 1.5,
    water_temperature: 3,
    conductivity: 500,
    turbidity: 500,
  }),
  spikeMaxGapMs: 10 * 60_000,
  stuckCount: 30,
  stuckMetrics: Object.freeze(['pm1', 'pm25', 'pm10', 'do', 'ph']) as unknown as MetricId[],
  stuckMinValue: Object.freeze({ do: 0.5 }),
  stuckWholeMinValue: Object.freeze({ pm1: 10, pm25: 10, pm10: 10 }),
}) as Readonly<QcConfig>;

/**
 * QC for the history topic (logged past readings uploaded later, docs/protocol.md): exactly
 * DEFAULT_QC_CONFIG except that lateness is not judged (maxAgeMs Infinity, so never `stale`): the
 * sender declared the readings past. `future` and every other check still apply. Frozen and shared,
 * so the engine compiles it once (see `compile`).
 */
export const HISTORY_QC_CONFIG: Readonly<QcConfig> = Object.freeze({
  ...DEFAULT_QC_CONFIG,
  maxAgeMs: Number.POSITIVE_INFINITY,
}) as Readonly<QcConfig>;

/**
 * The history variant of a QC config: HISTORY_QC_CONFIG for the default, else a frozen copy of
 * `config` with maxAgeMs Infinity. Call once per config (each call on a custom config is a new object).
 */
export function historyQcConfig(config: Readonly<QcConfig>): Readonly<QcConfig> {
  if (config === DEFAULT_QC_CONFIG) return HISTORY_QC_CONFIG;
  return Object.freeze({ ...config, maxAgeMs: Number.POSITIVE_INFINITY });
}

/** Recent sequence numbers remembered per device. */
export const QC_SEQ_WINDOW = 64;

/**
 * Per-device QC state: one Float64Array (`data`, layout below), NaN meaning "none".
 *
 * Why so compact: the state is read and written for every reading, but between two readings of one
 * device the gateway handles those of every other device, so the state is cold in the CPU caches by
 * then. Spread over a dozen arrays and a 64-slot scan it cost ~2 µs a reading in cache misses at
 * 10k readings/s (perf annotate, docs/performance.md); as one array with each metric's fields side
 * by side, a reading touches a handful of cache lines. Numbers in a typed array are also never heap
 * objects, so updating long-lived state creates no old-to-new pointers for the scavenger.
 */
export interface DeviceQcState {
  /** State format version. */
  readonly v: 2;
  readonly data: Float64Array;
}

const N = METRIC_IDS.length;
// Header.
/** Max sequence number ever remembered (valid when H_SEQ_ANY is 1): a higher seq cannot be in the ring. */
const H_SEQ_HI = 0;
const H_SEQ_ANY = 1;
const H_SEQ_NEXT = 2;
/** Per metric i, at M0 + i * F: its last accepted non-spike value, the value of a spike awaiting
 * confirmation, the ts of its latest reading, its spike/stuck bits then, the value and length of
 * its current run of identical values. */
const M0 = 4;
const F = 6;
const BASE = 0;
const PEND = 1;
const SEEN = 2;
const BITS = 3;
const RUNV = 4;
const RUNL = 5;
/** Ring of the last QC_SEQ_WINDOW sequence numbers: slot k at R0 + 3k holds seq, ts, spike/stuck bits. */
const R0 = M0 + N * F;
const STATE_LENGTH = R0 + 3 * QC_SEQ_WINDOW;

const bit = (f: QcFlag): number => 1 << QC_FLAG_LIST.indexOf(f);
const RANGE = bit('range');
const SPIKE = bit('spike');
const STUCK = bit('stuck');
const HUMIDITY = bit('humidity');
const FUTURE = bit('future');
const STALE = bit('stale');
const SEQ_DUPLICATE = bit('seq_duplicate');

export function createQcState(): DeviceQcState {
  const data = new Float64Array(STATE_LENGTH).fill(Number.NaN);
  data[H_SEQ_ANY] = 0;
  data[H_SEQ_NEXT] = 0;
  for (let i = 0; i < N; i++) {
    data[M0 + i * F + BITS] = 0;
    data[M0 + i * F + RUNL] = 0;
  }
  return { v: 2, data };
}

/** The state as plain JSON (NaN as null), e.g. to persist it; `qcStateFromJson` restores it. */
export function qcStateToJson(s: DeviceQcState): QcStateJson {
  return { v: 2, data: Array.from(s.data, (x) => (Number.isNaN(x) ? null : x)) };
}

/** Plain-JSON form of DeviceQcState (null for NaN). */
export interface QcStateJson {
  v: 2;
  data: (number | null)[];
}

/** Restores a state saved with `qcStateToJson`; throws on another format. */
export function qcStateFromJson(j: QcStateJson): DeviceQcState {
  if (j?.v !== 2) throw new Error(`QC state: unknown format ${JSON.stringify(j?.v)}`);
  if (!Array.isArray(j.data) || j.data.length !== STATE_LENGTH)
    throw new Error(`QC state: data of the wrong length (${j.data?.length}, expected ${STATE_LENGTH})`);
  const data = Float64Array.from(j.data, (x) => (typeof x === 'number' ? x : Number.NaN));
  return { v: 2, data };
}

/** Flags of a bit mask, in QC_FLAG_LIST order. */
export function qcFlagsFromMask(mask: number): QcFlag[] {
  const out: QcFlag[] = [];
  for (let i = 0; i < QC_FLAG_LIST.length; i++) if (mask & (1 << i)) out.push(QC_FLAG_LIST[i]!);
  return out;
}

/** Metric id -> index in METRIC_IDS. Null prototype: keys like 'constructor' are not metrics. */
const METRIC_INDEX: Readonly<Record<string, number | undefined>> = Object.assign(
  Object.create(null) as Record<string, number>,
  Object.fromEntries(METRIC_IDS.map((id, i) => [id, i])),
);
// The registry's ranges as typed arrays, so the hot loop reads numbers by index, not by key.
const MIN = Float64Array.from(METRIC_IDS, (id) => METRICS[id].min);
const MAX = Float64Array.from(METRIC_IDS, (id) => METRICS[id].max);
const IS_PM = Uint8Array.from(METRIC_IDS, (id) => (id === 'pm1' || id === 'pm25' || id === 'pm10' ? 1 : 0));

/** A config's per-metric settings by metric index: NaN / -Infinity / 0 when not set. */
interface CompiledQcConfig {
  spike: Float64Array;
  stuck: Uint8Array;
  stuckFloor: Float64Array;
  stuckWholeFloor: Float64Array;
}

/**
 * Compiled once per config object (keyed look-ups with missing keys are slow in V8, ~50–100 ns
 * each). Config objects are therefore treated as immutable: to change settings, pass a new object.
 */
const compiled = new WeakMap<QcConfig, CompiledQcConfig>();

function compile(config: QcConfig): CompiledQcConfig {
  let c = compiled.get(config);
  if (!c) {
    c = {
      spike: Float64Array.from(METRIC_IDS, (id) => config.spike[id] ?? Number.NaN),
      stuck: Uint8Array.from(METRIC_IDS, (id) => (config.stuckMetrics.includes(id) ? 1 : 0)),
      stuckFloor: Float64Array.from(METRIC_IDS, (id) => config.stuckMinValue?.[id] ?? Number.NEGATIVE_INFINITY),
      stuckWholeFloor: Float64Array.from(
        METRIC_IDS,
        (id) => config.stuckWholeMinValue?.[id] ?? Number.NEGATIVE_INFINITY,
      ),
    };
    compiled.set(config, c);
  }
  return c;
}

/**
 * Spike and stuck checks for one metric; `m` is its offset in the state (M0 + i * F). Mutates the
 * state; returns the bits. `v` and `ts` are finite.
 */
function evaluate(
  d: Float64Array,
  m: number,
  i: number,
  v: number,
  ts: number,
  config: QcConfig,
  cc: CompiledQcConfig,
): number {
  let out = 0;
  const limit = cc.spike[i]!;
  if (!Number.isNaN(limit)) {
    // the metric has a spike threshold (NaN state: none yet, so every comparison with it is false)
    if (!(ts - d[m + SEEN]! <= config.spikeMaxGapMs) || !(Math.abs(v - d[m + BASE]!) > limit)) {
      d[m + BASE] = v;
      d[m + PEND] = Number.NaN;
    } else if (Math.abs(v - d[m + PEND]!) <= limit) {
      d[m + BASE] = v; // confirmed level shift
      d[m + PEND] = Number.NaN;
    } else {
      out |= SPIKE;
      d[m + PEND] = v;
    }
  }
  if (cc.stuck[i]) {
    if (v <= cc.stuckFloor[i]! || (v <= cc.stuckWholeFloor[i]! && Number.isInteger(v))) {
      d[m + RUNV] = Number.NaN;
      d[m + RUNL] = 0;
    } else if (d[m + RUNV] === v) {
      const n = d[m + RUNL]! + 1;
      d[m + RUNL] = n;
      if (n >= config.stuckCount) out |= STUCK;
    } else {
      d[m + RUNV] = v;
      d[m + RUNL] = 1;
      if (config.stuckCount <= 1) out |= STUCK;
    }
  }
  d[m + SEEN] = ts;
  d[m + BITS] = out;
  return out;
}

/**
 * Quality-control one reading of one device. Mutates `state`; returns the flags in QC_FLAG_LIST
 * order without duplicates (a shared, frozen empty array when clean: do not mutate the result). `receivedAt` is the gateway's clock, ms.
 * Keys of `values` that are not metric ids are ignored.
 */
export function applyQc(
  state: DeviceQcState,
  reading: { ts: number; seq?: number; values: MetricValues },
  receivedAt: number,
  config: QcConfig,
  /** When given, the metrics a range/spike/stuck verdict is about are added here (registry order). */
  flaggedMetrics?: MetricId[],
): QcFlag[] {
  const { ts, seq, values } = reading;
  const cc = compile(config);
  let mask = 0;
  if (ts - receivedAt > config.maxFutureSkewMs) mask |= FUTURE;
  if (receivedAt - ts > config.maxAgeMs) mask |= STALE;

  // Sequence window. Seqs normally only grow: one above every seq remembered is new without a scan
  // of the ring (a redelivery or a device restarting its count scans the at most 64 slots).
  const d = state.data;
  const hasSeq = seq !== undefined && Number.isFinite(seq);
  let seqAt = -1;
  if (hasSeq && d[H_SEQ_ANY] === 1 && seq <= d[H_SEQ_HI]!) {
    for (let k = R0, end = R0 + 3 * QC_SEQ_WINDOW; k < end; k += 3) {
      if (d[k] === seq) {
        seqAt = k;
        break;
      }
    }
    if (seqAt >= 0 && d[seqAt + 1] !== ts) mask |= SEQ_DUPLICATE;
  }
  const redelivery = seqAt >= 0 && (mask & SEQ_DUPLICATE) === 0;
  const skipStateful = redelivery || (mask & FUTURE) !== 0;

  let stateful = redelivery ? d[seqAt + 2]! : 0;
  let hasPm = false;
  // Bit i: metric i has a range/spike/stuck verdict (only tracked when the caller asks).
  let metricBits = 0;
  // for…in visits only the metrics present (a reading carries a few of the twelve).
  for (const key in values) {
    const i = METRIC_INDEX[key];
    if (i === undefined) continue;
    const v = values[key as MetricId];
    if (v === undefined) continue;
    if (IS_PM[i]) hasPm = true;
    if (!Number.isFinite(v) || v < MIN[i]! || v > MAX[i]!) {
      mask |= RANGE;
      metricBits |= 1 << i;
      if (!Number.isFinite(v)) continue;
    }
    const m = M0 + i * F;
    if (skipStateful) {
      // A redelivery: the metric's own verdict when this is its latest reading, else (an older
      // redelivery) the reading's remembered verdict counts for every metric it carries.
      if (redelivery && stateful !== 0 && (d[m + SEEN] !== ts || d[m + BITS] !== 0)) metricBits |= 1 << i;
      continue;
    }
    const prevAt = d[m + SEEN]!;
    let bits = 0;
    if (Number.isNaN(prevAt) || ts > prevAt) bits = evaluate(d, m, i, v, ts, config, cc);
    else if (ts === prevAt) bits = d[m + BITS]!;
    // else: older than the metric's latest reading: no verdict, state untouched
    if (bits !== 0) {
      stateful |= bits;
      metricBits |= 1 << i;
    }
  }
  if (flaggedMetrics && metricBits !== 0)
    for (let i = 0; i < METRIC_IDS.length; i++) if (metricBits & (1 << i)) flaggedMetrics.push(METRIC_IDS[i]!);
  const rh = values.humidity;
  if (hasPm && rh !== undefined && rh > config.humidityFlagAbove) mask |= HUMIDITY;
  mask |= stateful;

  if (hasSeq && seqAt < 0) {
    const next = d[H_SEQ_NEXT]!;
    const k = R0 + 3 * next;
    d[k] = seq;
    d[k + 1] = ts;
    d[k + 2] = stateful;
    d[H_SEQ_NEXT] = (next + 1) % QC_SEQ_WINDOW;
    if (d[H_SEQ_ANY] === 0 || seq > d[H_SEQ_HI]!) d[H_SEQ_HI] = seq;
    d[H_SEQ_ANY] = 1;
  }
  return mask === 0 ? NO_FLAGS : qcFlagsFromMask(mask);
}

/** What a clean reading gets: one shared, frozen empty list (no allocation per clean reading). */
const NO_FLAGS = Object.freeze([]) as unknown as QcFlag[];
