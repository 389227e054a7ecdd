import type { AggregateQuery, QcFilter } from './reading-store';
import { correctedField } from './schema';
import { type FilterQuery, normalOffset } from './validate';

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

/**
 * SQL conditions "carries a flag" and "passes the filter". Flag codes are checked against the QC
 * code rule ([A-Za-z0-9_.-], validate.ts) before they get here, so they are inlined as literals:
 * the comma-wrapped list `,range,spike,` contains `,spike,` exactly when the reading has that flag.
 */
export function qcSql(qc: QcFilter | undefined): { flagged: string; pass: string } {
  const flagged = qc?.flags
    ? `(${qc.flags.map((f) => `instr(',' || qc || ',', ',${f},') > 0`).join(' OR ')})`
    : `qc <> ''`;
  const mode = qc?.mode ?? 'include';
  const pass = mode === 'include' ? '1' : mode === 'only-flagged' ? flagged : `NOT ${flagged}`;
  return { flagged, pass };
}

/**
 * mean/min/max/count of one column per (city, station, bucket), plus the flagged samples. Bucket
 * and offset are validated safe integers and inlined, so the arithmetic stays integer division.
 */
export function aggregateSql(aq: AggregateQuery): { sql: string; params: unknown[] } {
  const col = q(aq.corrected ? correctedField(aq.metric) : aq.metric);
  const b = aq.bucketMs;
  const off = normalOffset(aq);
  const { flagged, pass } = qcSql(aq.qc);
  const kept = `CASE WHEN ${pass} THEN ${col} END`;
  const w = where(aq);
  const sql = `SELECT city, station, ((ts - ${off}) / ${b}) * ${b} + ${off} AS start,
      avg(${kept}) AS mean, min(${kept}) AS min, max(${kept}) AS max, count(${kept}) AS n,
      count(CASE WHEN ${flagged} THEN ${col} END) AS flagged
    FROM ${TABLE} WHERE ${w.sql} AND ${col} IS NOT NULL
    GROUP BY city, station, start HAVING n > 0 ORDER BY city, station, start`;
  return { sql, params: w.params };
}
