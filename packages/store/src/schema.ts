import { METRIC_IDS, type MetricId, QC_METRIC_FLAGS, type QcFlag } from '@cnx/domain';
import type { StoredReading } from './reading-store';

/**
 * The stored shape of a reading, shared by every backend (docs/architecture.md, Storage schema):
 * - identity: city, station, device (InfluxDB tags, in this fixed set for ever) + ts (ms);
 * - one float field/column per metric id present, named by the MetricId;
 * - `seq` integer when present; `qc` string always (flags joined by ',', "" when clean);
 * - `qc_metrics` string always: the metrics the metric flags (range, spike, stuck) are about, joined
 *   by ',' in registry order, "" when none (absent / SQLite NULL in readings stored before it existed);
 * - per corrected metric: `<metric>_corrected` float and `<metric>_correction` string (method id).
 * No tag and field share a name (an InfluxDB 3 rule); test/schema.test.ts checks the registry
 * never introduces one.
 */
export const TAG_CITY = 'city';
export const TAG_STATION = 'station';
export const TAG_DEVICE = 'device';
export const FIELD_QC = 'qc';
export const FIELD_SEQ = 'seq';
export const FIELD_QC_METRICS = 'qc_metrics';
export const correctedField = (m: MetricId): string => `${m}_corrected`;
export const correctionField = (m: MetricId): string => `${m}_correction`;

/** Every field/column a metric projection selects, in registry order. */
export function metricColumns(metrics: readonly MetricId[]): string[] {
  const out: string[] = [];
  for (const m of METRIC_IDS) {
    if (metrics.includes(m)) out.push(m, correctedField(m), correctionField(m));
  }
  return out;
}

export const encodeQc = (qc: readonly string[]): string => (qc.length === 0 ? '' : qc.join(','));
export const decodeQc = (s: unknown): QcFlag[] => (typeof s === 'string' && s !== '' ? (s.split(',') as QcFlag[]) : []);

// A metric's place in the registry; null prototype, so 'constructor' is not a metric.
const METRIC_INDEX: Record<string, number | undefined> = Object.create(null);
for (const [i, m] of METRIC_IDS.entries()) METRIC_INDEX[m] = i;

/**
 * `qcMetrics` as stored: the ids in registry order joined by ',', "" for none (absent or empty).
 * Input order does not matter. Undefined when an entry is not a known metric id or is repeated
 * (validateBody names the problem). One id, the common case of a flagged reading, allocates nothing.
 */
export function encodeQcMetrics(list: readonly unknown[] | undefined): string | undefined {
  if (list === undefined || list.length === 0) return '';
  if (list.length === 1) {
    const m = list[0];
    return typeof m === 'string' && METRIC_INDEX[m] !== undefined ? m : undefined;
  }
  const at: number[] = [];
  for (const m of list) {
    const i = typeof m === 'string' ? METRIC_INDEX[m] : undefined;
    if (i === undefined || at.includes(i)) return undefined;
    at.push(i);
  }
  at.sort((a, b) => a - b);
  let out = METRIC_IDS[at[0]!]!;
  for (let k = 1; k < at.length; k++) out += `,${METRIC_IDS[at[k]!]}`;
  return out;
}

/** The stored `qc_metrics` back to `qcMetrics`: undefined for "", NULL or a missing field. */
export const decodeQcMetrics = (s: unknown): MetricId[] | undefined =>
  typeof s === 'string' && s !== '' ? (s.split(',') as MetricId[]) : undefined;

/** Whether a flag is about one metric's value (QC_METRIC_FLAGS) rather than the whole reading. */
export const isMetricFlag = (f: unknown): boolean => (QC_METRIC_FLAGS as readonly unknown[]).includes(f);

interface MetricSlots {
  metric: MetricId;
  value: number;
  corrected: number;
  correction: number;
}

/**
 * Turns result rows (arrays, with a column list) back into readings. Columns it does not know are
 * ignored; identity columns missing from the row come from `fixed` (InfluxDB GROUP BY tags).
 * Corrections come back in metric-registry order.
 */
export class RowDecoder {
  private readonly ts: number;
  private readonly city: number;
  private readonly station: number;
  private readonly device: number;
  private readonly seq: number;
  private readonly qc: number;
  private readonly qcMetrics: number;
  private readonly metrics: MetricSlots[] = [];

  constructor(
    columns: readonly string[],
    private readonly fixed: { city?: string; station?: string; device?: string } = {},
  ) {
    const at = (name: string): number => columns.indexOf(name);
    this.ts = at('time') >= 0 ? at('time') : at('ts');
    this.city = at(TAG_CITY);
    this.station = at(TAG_STATION);
    this.device = at(TAG_DEVICE);
    this.seq = at(FIELD_SEQ);
    this.qc = at(FIELD_QC);
    this.qcMetrics = at(FIELD_QC_METRICS);
    for (const metric of METRIC_IDS) {
      const slots = {
        metric,
        value: at(metric),
        corrected: at(correctedField(metric)),
        correction: at(correctionField(metric)),
      };
      if (slots.value >= 0 || slots.corrected >= 0) this.metrics.push(slots);
    }
  }

  decode(row: readonly unknown[]): StoredReading {
    const values: StoredReading['values'] = {};
    const corrections: StoredReading['corrections'] = [];
    for (const s of this.metrics) {
      const v = s.value >= 0 ? row[s.value] : null;
      if (typeof v === 'number') values[s.metric] = v;
      const c = s.corrected >= 0 ? row[s.corrected] : null;
      const method = s.correction >= 0 ? row[s.correction] : null;
      if (typeof c === 'number' && typeof method === 'string') corrections.push({ metric: s.metric, value: c, method });
    }
    const reading: StoredReading = {
      city: this.pick(row, this.city, this.fixed.city),
      stationId: this.pick(row, this.station, this.fixed.station),
      deviceId: this.pick(row, this.device, this.fixed.device),
      ts: Number(row[this.ts]),
      values,
      corrections,
      qc: decodeQc(this.qc >= 0 ? row[this.qc] : ''),
    };
    const qcMetrics = this.qcMetrics >= 0 ? decodeQcMetrics(row[this.qcMetrics]) : undefined;
    if (qcMetrics !== undefined) reading.qcMetrics = qcMetrics;
    const seq = this.seq >= 0 ? row[this.seq] : null;
    if (typeof seq === 'number') reading.seq = seq;
    else if (typeof seq === 'bigint') reading.seq = Number(seq);
    return reading;
  }

  private pick(row: readonly unknown[], index: number, fallback: string | undefined): string {
    const v = index >= 0 ? row[index] : undefined;
    return typeof v === 'string' ? v : (fallback ?? '');
  }
}

type CityStation = Pick<StoredReading, 'city' | 'stationId'>;

/** Stable output order for latest-per-station results (and anything else keyed by city and station). */
export const byCityStation = (a: CityStation, b: CityStation): number =>
  a.city < b.city ? -1 : a.city > b.city ? 1 : a.stationId < b.stationId ? -1 : a.stationId > b.stationId ? 1 : 0;
