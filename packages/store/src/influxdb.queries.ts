import { QC_METRIC_FLAGS } from '@cnx/domain';
import {
  codeListOnlyRegex,
  codeListRegex,
  durationMs,
  emptyOrListsRegex,
  fieldAbsent,
  type InfluxQL,
  ident,
  iql,
  join,
  str,
  tagIn,
  timeRange,
} from './influxql';
import type { AggregateBucket, AggregateQuery, QcFilter } from './reading-store';
import {
  byCityStation,
  correctedField,
  FIELD_QC,
  FIELD_QC_METRICS,
  FIELD_SEQ,
  isMetricFlag,
  TAG_CITY,
  TAG_DEVICE,
  TAG_STATION,
} from './schema';
import { type FilterQuery, normalOffset, qcForAggregate } from './validate';

/** One series of an InfluxQL answer. */
export interface Series {
  tags?: Record<string, string>;
  columns: string[];
  values: unknown[][];
  partial?: boolean;
}

/** `"tag"::tag`: select a tag as a column (the cast keeps it a tag even if a field of that name appeared). */
export const tagRef = (tag: string): InfluxQL => iql`${ident(tag)}::tag`;

/** The fields every read returns beside the metrics: qc, qc_metrics, seq. */
export const BASE_FIELDS = [FIELD_QC, FIELD_QC_METRICS, FIELD_SEQ] as const;

/** The SELECT list of query() and scan(): qc, qc_metrics, seq, the given fields and the identity tags. */
export function selectList(fields: readonly string[]): InfluxQL {
  return join([...[...BASE_FIELDS, ...fields].map(ident), ...[TAG_CITY, TAG_STATION, TAG_DEVICE].map(tagRef)], ', ');
}

/**
 * Station, device and QC conditions (no time range). QC: `"qc" = ''` / `!= ''` for any flag; with
 * a flag list, a regex over the comma-joined codes (`"qc" !~ /(^|,)(range|spike)(,|$)/`); with a
 * metric, see qcConditions.
 */
export function readingFilters(q: FilterQuery, qc: QcFilter | undefined): InfluxQL[] {
  const parts: InfluxQL[] = [];
  if (q.stationIds) parts.push(tagIn(TAG_STATION, q.stationIds));
  if (q.deviceIds) parts.push(tagIn(TAG_DEVICE, q.deviceIds));
  const mode = qc?.mode ?? 'include';
  if (qc && mode !== 'include') {
    const cond = qcConditions(qc);
    parts.push(mode === 'only-flagged' ? cond.flagged : cond.pass);
  }
  return parts;
}

const paren = (x: InfluxQL): InfluxQL => iql`(${x})`;

/**
 * "Is flagged" and its negation "passes" (QcFilter). With a metric `m`, flags split into metric flags
 * M (range, spike, stuck) and whole-reading flags W:
 *   flagged = qc has a W  OR  (qc has an M  AND  (qc_metrics is "" or lists m  OR  qc_metrics is missing))
 *   pass    = qc has no W AND (qc has no M  OR  qc_metrics is neither "" nor lists m)
 * Without a flag list, "has a W" is "has a code other than range/spike/stuck". In `pass`, a point
 * without qc_metrics needs no absence test: a condition on a missing field is nil, `true OR nil` is
 * true and `false OR nil` is not, so such a point passes exactly when it carries no M (the safe side).
 * `flagged` tests the absence with fieldAbsent() (an InfluxDB 1.x engine behaviour, tested).
 */
export function qcConditions(qc: QcFilter): { flagged: InfluxQL; pass: InfluxQL } {
  const field = ident(FIELD_QC);
  if (qc.metric === undefined) {
    if (!qc.flags) return { flagged: iql`${field} != ${str('')}`, pass: iql`${field} = ${str('')}` };
    const re = codeListRegex(qc.flags);
    return { flagged: iql`${field} =~ ${re}`, pass: iql`${field} !~ ${re}` };
  }
  const metricFlags = qc.flags ? qc.flags.filter(isMetricFlag) : QC_METRIC_FLAGS;
  const whole = qc.flags?.filter((f) => !isMetricFlag(f));
  const has: InfluxQL[] = [];
  const hasNot: InfluxQL[] = [];
  if (!whole) {
    const onlyMetric = codeListOnlyRegex(QC_METRIC_FLAGS);
    has.push(iql`${field} !~ ${onlyMetric}`);
    hasNot.push(iql`${field} =~ ${onlyMetric}`);
  } else if (whole.length > 0) {
    const re = codeListRegex(whole);
    has.push(iql`${field} =~ ${re}`);
    hasNot.push(iql`${field} !~ ${re}`);
  }
  if (metricFlags.length > 0) {
    const re = codeListRegex(metricFlags);
    const about = emptyOrListsRegex(qc.metric);
    const listed = ident(FIELD_QC_METRICS);
    has.push(paren(iql`${field} =~ ${re} AND (${listed} =~ ${about} OR ${fieldAbsent(FIELD_QC_METRICS)})`));
    hasNot.push(paren(iql`${field} !~ ${re} OR ${listed} !~ ${about}`));
  }
  return { flagged: paren(join(has, ' OR ')), pass: paren(join(hasNot, ' AND ')) };
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
  const qc = qcForAggregate(q);
  const main = iql`SELECT mean(${f}), min(${f}), max(${f}), count(${f}) FROM ${from} WHERE ${where(qc)} ${group}`;
  if (qc.mode === 'only-flagged') return { main };
  const flaggedQc: QcFilter = { ...qc, mode: 'only-flagged' };
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
