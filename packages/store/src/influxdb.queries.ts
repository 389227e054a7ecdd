import { codeListRegex, durationMs, type InfluxQL, ident, iql, join, str, tagIn, timeRange } from './influxql';
import type { AggregateBucket, AggregateQuery, QcFilter } from './reading-store';
import { byCityStation, correctedField, FIELD_QC, FIELD_SEQ, TAG_CITY, TAG_DEVICE, TAG_STATION } from './schema';
import { type FilterQuery, normalOffset } from './validate';

/** One series of an InfluxQL answer. */
export interface Series {
  tags?: Record<string, string>;
  columns: string[];
  values: unknown[][];
  partial?: boolean;
}

/** `"tag"::tag`: select a tag as a column (the cast keeps it a tag even if a field of that name appeared). */
export const tagRef = (tag: string): InfluxQL => iql`${ident(tag)}::tag`;

/** The SELECT list of query() and scan(): qc, seq, the given fields and the identity tags. */
export function selectList(fields: readonly string[]): InfluxQL {
  return join(
    [...[FIELD_QC, FIELD_SEQ, ...fields].map(ident), ...[TAG_CITY, TAG_STATION, TAG_DEVICE].map(tagRef)],
    ', ',
  );
}

/**
 * Station, device and QC conditions (no time range). QC: `"qc" = ''` / `!= ''` for any flag; with
 * a flag list, a regex over the comma-joined codes (`"qc" !~ /(^|,)(range|spike)(,|$)/`).
 */
export function readingFilters(q: FilterQuery, qc: QcFilter | undefined): InfluxQL[] {
  const parts: InfluxQL[] = [];
  if (q.stationIds) parts.push(tagIn(TAG_STATION, q.stationIds));
  if (q.deviceIds) parts.push(tagIn(TAG_DEVICE, q.deviceIds));
  const mode = qc?.mode ?? 'include';
  if (mode !== 'include') {
    const only = mode === 'only-flagged';
    const field = ident(FIELD_QC);
    if (qc?.flags) {
      const re = codeListRegex(qc.flags);
      parts.push(only ? iql`${field} =~ ${re}` : iql`${field} !~ ${re}`);
    } else parts.push(only ? iql`${field} != ${str('')}` : iql`${field} = ${str('')}`);
  }
  return parts;
}

/**
 * The aggregation statements: mean/min/max/count per bucket and station, always time-bounded and
 * `fill(none)` (else InfluxDB returns a row per empty bucket), and, unless the filter already keeps
 * only flagged samples, a second count of flagged samples (InfluxQL has no conditional count).
 */
export function aggregateStatements(from: InfluxQL, q: AggregateQuery): { main: InfluxQL; flagged?: InfluxQL } {
  const f = ident(q.corrected ? correctedField(q.metric) : q.metric);
  const offset = normalOffset(q);
  const every = offset === 0 ? durationMs(q.bucketMs) : iql`${durationMs(q.bucketMs)}, ${durationMs(offset)}`;
  const group = iql`GROUP BY time(${every}), ${ident(TAG_CITY)}, ${ident(TAG_STATION)} fill(none)`;
  const where = (qc: QcFilter | undefined) => join([timeRange(q.from, q.to), ...readingFilters(q, qc)], ' AND ');
  const main = iql`SELECT mean(${f}), min(${f}), max(${f}), count(${f}) FROM ${from} WHERE ${where(q.qc)} ${group}`;
  if (q.qc?.mode === 'only-flagged') return { main };
  const flaggedQc: QcFilter = { mode: 'only-flagged', ...(q.qc?.flags ? { flags: q.qc.flags } : {}) };
  return { main, flagged: iql`SELECT count(${f}) FROM ${from} WHERE ${where(flaggedQc)} ${group}` };
}

const bucketKey = (city: string, station: string, start: number): string => `${city}\u0000${station}\u0000${start}`;

/** Joins the two answers of aggregateStatements() into buckets, sorted by city, station, start. */
export function mergeAggregate(main: Series[], flagged: Series[], onlyFlagged: boolean): AggregateBucket[] {
  const flaggedBy = new Map<string, number>();
  for (const s of flagged) {
    for (const row of s.values) {
      flaggedBy.set(bucketKey(s.tags?.city ?? '', s.tags?.station ?? '', Number(row[0])), Number(row[1] ?? 0));
    }
  }
  const out: AggregateBucket[] = [];
  for (const s of main) {
    const city = s.tags?.city ?? '';
    const stationId = s.tags?.station ?? '';
    for (const row of s.values) {
      const count = Number(row[4] ?? 0);
      if (!(count > 0) || typeof row[1] !== 'number') continue;
      const start = Number(row[0]);
      const flaggedCount = onlyFlagged ? count : (flaggedBy.get(bucketKey(city, stationId, start)) ?? 0);
      out.push({
        city,
        stationId,
        start,
        mean: row[1],
        min: Number(row[2]),
        max: Number(row[3]),
        count,
        flagged: flaggedCount,
      });
    }
  }
  return out.sort((a, b) => byCityStation(a, b) || a.start - b.start);
}
