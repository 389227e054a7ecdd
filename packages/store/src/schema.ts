import { METRIC_IDS, type MetricId, type QcFlag } from '@cnx/domain';
import type { StoredReading } from './reading-store';

/**
 * The stored shape of a reading, shared by every backend (docs/architecture.md, Storage schema):
 * - identity: city, station, device (InfluxDB tags, in this fixed set for ever) + ts (ms);
 * - one float field/column per metric id present, named by the MetricId;
 * - `seq` integer when present; `qc` string always (flags joined by ',', "" when clean);
 * - per corrected metric: `<metric>_corrected` float and `<metric>_correction` string (method id).
 * No tag and field share a name (an InfluxDB 3 rule); test/schema.test.ts checks the registry
 * never introduces one.
 */
export const TAG_CITY = 'city';
export const TAG_STATION = 'station';
export const TAG_DEVICE = 'device';
export const FIELD_QC = 'qc';
export const FIELD_SEQ = 'seq';
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
