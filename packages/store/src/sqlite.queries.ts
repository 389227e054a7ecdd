import { QC_METRIC_FLAGS } from '@cnx/domain';
import type { AggregateQuery, QcFilter } from './reading-store';
import { correctedField, isMetricFlag } from './schema';
import { type FilterQuery, normalOffset, qcForAggregate } from './validate';

export const TABLE = 'readings';
export const TS_INDEX = `${TABLE}_ts`;
export const STATION_TS_INDEX = `${TABLE}_station_ts`;

/** A double-quoted SQL identifier. */
export const q = (name: string): string => `"${name.replace(/"/g, '""')}"`;

/** WHERE clause with placeholders only: ids never enter the SQL text. */
export function where(fq: FilterQuery): { sql: string; params: unknown[] } {
  const parts = ['ts >= ?', 'ts < ?'];
  const params: unknown[] = [fq.from, fq.to];
  if (fq.stationIds) {
    parts.push(`station IN (${fq.stationIds.map(() => '?').join(', ')})`);
    params.push(...fq.stationIds);
  }
  if (fq.deviceIds) {
    parts.push(`device IN (${fq.deviceIds.map(() => '?').join(', ')})`);
    params.push(...fq.deviceIds);
  }
  return { sql: parts.join(' AND '), params };
}

/** `instr(',' || col || ',', ',a,') > 0 OR ...`: the comma-joined list in `col` contains one of `codes`. */
const listsAny = (col: string, codes: readonly string[]): string =>
  `(${codes.map((c) => `instr(',' || ${col} || ',', ',${c},') > 0`).join(' OR ')})`;

/**
 * `qc` carries a code other than `codes`: with every code wrapped in its own commas
 * (`,range,,humidity,`), deleting `,range,` etc. leaves something. Repeated codes are handled.
 */
const hasOther = (codes: readonly string[]): string => {
  let s = `',' || replace(qc, ',', ',,') || ','`;
  for (const c of codes) s = `replace(${s}, ',${c},', '')`;
  return `(qc <> '' AND ${s} <> '')`;
};

/**
 * SQL conditions "is flagged" and "passes the filter" (QcFilter). Flag codes and the metric are
 * checked against the QC code rule ([A-Za-z0-9_.-], validate.ts) before they get here, so they are
 * inlined as literals: the comma-wrapped list `,range,spike,` contains `,spike,` exactly when the
 * reading has that flag. With a metric, a metric flag counts only when `qc_metrics` lists it, is ''
 * or is NULL (a row stored before the column existed): never NULL itself, so `NOT` is safe.
 */
export function qcSql(qc: QcFilter | undefined): { flagged: string; pass: string } {
  const flagged =
    qc?.metric !== undefined ? metricFlagged(qc, qc.metric) : qc?.flags ? listsAny('qc', qc.flags) : `qc <> ''`;
  const mode = qc?.mode ?? 'include';
  const pass = mode === 'include' ? '1' : mode === 'only-flagged' ? flagged : `NOT ${flagged}`;
  return { flagged, pass };
}

function metricFlagged(qc: QcFilter, metric: string): string {
  const metricFlags = qc.flags ? qc.flags.filter(isMetricFlag) : QC_METRIC_FLAGS;
  const whole = qc.flags?.filter((f) => !isMetricFlag(f));
  const parts: string[] = [];
  if (!whole) parts.push(hasOther(QC_METRIC_FLAGS));
  else if (whole.length > 0) parts.push(listsAny('qc', whole));
  if (metricFlags.length > 0) {
    const about = `(qc_metrics IS NULL OR qc_metrics = '' OR ${listsAny('qc_metrics', [metric])})`;
    parts.push(`(${listsAny('qc', metricFlags)} AND ${about})`);
  }
  return `(${parts.join(' OR ')})`;
}

/**
 * mean/min/max/count of one column per (city, station, bucket), plus the flagged samples. Bucket
 * and offset are validated safe integers and inlined, so the arithmetic stays integer division.
 */
export function aggregateSql(aq: AggregateQuery): { sql: string; params: unknown[] } {
  const col = q(aq.corrected ? correctedField(aq.metric) : aq.metric);
  const b = aq.bucketMs;
  const off = normalOffset(aq);
  const { flagged, pass } = qcSql(qcForAggregate(aq));
  const kept = `CASE WHEN ${pass} THEN ${col} END`;
  const w = where(aq);
  const sql = `SELECT city, station, ((ts - ${off}) / ${b}) * ${b} + ${off} AS start,
      avg(${kept}) AS mean, min(${kept}) AS min, max(${kept}) AS max, count(${kept}) AS n,
      count(CASE WHEN ${flagged} THEN ${col} END) AS flagged
    FROM ${TABLE} WHERE ${w.sql} AND ${col} IS NOT NULL
    GROUP BY city, station, start HAVING n > 0 ORDER BY city, station, start`;
  return { sql, params: w.params };
}
