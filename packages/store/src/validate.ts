import { type Correction, isMetricId, type MetricId, type Reading } from '@cnx/domain';
import { invalidQuery, invalidReading, show } from './errors';
import { type AggregateQuery, MAX_SCAN_PAGE, type QcFilter, type ReadingQuery, type ScanQuery } from './reading-store';
import { isMetricFlag } from './schema';

/**
 * Rules every adapter applies before touching its backend, so all backends accept and reject the
 * same readings (the contract suite checks this).
 *
 * Ids: the protocol restricts them to [A-Za-z0-9_-], but the store must be safe on its own. It stores
 * any non-empty id of printable characters (quotes, commas, spaces, equals signs, Thai...) and
 * rejects what no InfluxDB line protocol can carry faithfully: control characters (a newline ends a
 * line) and backslashes (InfluxDB 1.x keeps `\\` in a tag value as two characters while later engines
 * unescape it, and a trailing backslash would escape the separator after it).
 */
export const MAX_ID_LENGTH = 256;
export const MAX_TEXT_LENGTH = 1024;

/** Why `value` cannot be an id, or undefined when it can. */
export function idProblem(value: unknown): string | undefined {
  if (typeof value !== 'string') return 'must be a string';
  if (value.length === 0) return 'must not be empty';
  if (value.length > MAX_ID_LENGTH) return `must be at most ${MAX_ID_LENGTH} characters`;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) return 'must not contain control characters (newline, tab...)';
    if (c === 0x5c) return 'must not contain a backslash';
  }
  return undefined;
}

/** Why `value` cannot be a stored text value (a correction method), or undefined when it can. */
export function textProblem(value: unknown): string | undefined {
  if (typeof value !== 'string') return 'must be a string';
  if (value.length === 0) return 'must not be empty';
  if (value.length > MAX_TEXT_LENGTH) return `must be at most ${MAX_TEXT_LENGTH} characters`;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) return 'must not contain control characters (newline, tab...)';
  }
  return undefined;
}

// QC codes are joined with ',' in one stored string, so a code may not contain one.
export const QC_CODE = /^[A-Za-z0-9_.-]{1,64}$/;

const label = (r: Reading): string => `reading ${show(r?.city)}/${show(r?.stationId)}/${show(r?.deviceId)}@${r?.ts}`;

/** Checks the identity of a reading (ids and timestamp). */
export function validateIdentity(r: Reading): void {
  if (r === null || typeof r !== 'object') throw invalidReading(`a reading must be an object, got ${show(r)}`);
  for (const key of ['city', 'stationId', 'deviceId'] as const) {
    const problem = idProblem(r[key]);
    if (problem) throw invalidReading(`${label(r)}: ${key} ${show(r[key])} ${problem}`);
  }
  checkTs(r);
}

function checkTs(r: Reading): void {
  if (!Number.isSafeInteger(r.ts)) throw invalidReading(`${label(r)}: ts ${show(r.ts)} must be an integer (epoch ms)`);
}

/** Checks everything but the ids (the line-protocol encoder checks those once per cached series). */
export function validateBody(r: Reading): void {
  checkTs(r);
  if (r.seq !== undefined && !Number.isSafeInteger(r.seq)) {
    throw invalidReading(`${label(r)}: seq ${show(r.seq)} must be a safe integer`);
  }
  const values = r.values;
  if (values === null || typeof values !== 'object') throw invalidReading(`${label(r)}: values must be an object`);
  for (const key in values) {
    const v = values[key as MetricId];
    if (v === undefined) continue;
    if (!isMetricId(key)) throw invalidReading(`${label(r)}: unknown metric ${show(key)}`);
    if (typeof v !== 'number' || !Number.isFinite(v)) {
      throw invalidReading(`${label(r)}: ${key} value ${show(v)} must be a finite number`);
    }
  }
  if (!Array.isArray(r.corrections)) throw invalidReading(`${label(r)}: corrections must be an array`);
  const corrections = r.corrections;
  for (let i = 0; i < corrections.length; i++) {
    const c = corrections[i] as Correction;
    if (c === null || typeof c !== 'object' || !isMetricId(c.metric)) {
      throw invalidReading(`${label(r)}: correction for unknown metric ${show(c?.metric)}`);
    }
    // A reading has a correction or two: a scan beats a Set per reading (this runs per reading).
    for (let j = 0; j < i; j++)
      if ((corrections[j] as Correction).metric === c.metric)
        throw invalidReading(`${label(r)}: two corrections for ${c.metric}`);
    if (typeof c.value !== 'number' || !Number.isFinite(c.value)) {
      throw invalidReading(`${label(r)}: corrected ${c.metric} value ${show(c.value)} must be a finite number`);
    }
    const problem = textProblem(c.method);
    if (problem) throw invalidReading(`${label(r)}: correction method ${show(c.method)} ${problem}`);
  }
  if (!Array.isArray(r.qc)) throw invalidReading(`${label(r)}: qc must be an array`);
  for (const flag of r.qc) {
    if (typeof flag !== 'string' || !QC_CODE.test(flag)) {
      throw invalidReading(`${label(r)}: qc flag ${show(flag)} must match ${QC_CODE}`);
    }
  }
  checkQcMetrics(r);
}

/** A list as JSON (`["do"]`, where `show` would print `do`); anything else as `show` does. */
function showList(value: unknown): string {
  if (!Array.isArray(value)) return show(value);
  let s: string;
  try {
    s = JSON.stringify(value);
  } catch {
    s = String(value);
  }
  return s.length > 120 ? `${s.slice(0, 117)}...` : s;
}

/**
 * `qcMetrics`: known metric ids, each once, in any order (stored in registry order), and only beside
 * a metric flag (range, spike, stuck) in `qc`. An empty list is the same as none.
 */
function checkQcMetrics(r: Reading): void {
  const list: unknown = r.qcMetrics;
  if (list === undefined) return;
  if (!Array.isArray(list)) throw invalidReading(`${label(r)}: qcMetrics ${show(list)} must be an array`);
  for (let i = 0; i < list.length; i++) {
    const m: unknown = list[i];
    if (typeof m !== 'string' || !isMetricId(m)) {
      throw invalidReading(`${label(r)}: qcMetrics entry ${show(m)} is not a known metric`);
    }
    if (list.indexOf(m) !== i) throw invalidReading(`${label(r)}: qcMetrics ${showList(list)} names ${m} twice`);
  }
  if (list.length > 0 && !r.qc.some(isMetricFlag)) {
    throw invalidReading(
      `${label(r)}: qcMetrics ${showList(list)} given but qc ${showList(r.qc)} has no metric flag (range, spike, stuck)`,
    );
  }
}

export function validateReading(r: Reading): void {
  validateIdentity(r);
  validateBody(r);
}

/** Checks a bounded time range [from, to) in epoch ms. */
export function validateRange(from: number, to: number): void {
  if (!Number.isSafeInteger(from)) throw invalidQuery(`from ${show(from)} must be an integer (epoch ms)`);
  if (!Number.isSafeInteger(to)) throw invalidQuery(`to ${show(to)} must be an integer (epoch ms)`);
}

function validateIds(ids: readonly string[] | undefined, name: string): void {
  if (ids === undefined) return;
  if (!Array.isArray(ids)) throw invalidQuery(`${name} must be an array`);
  for (const id of ids) {
    const problem = idProblem(id);
    if (problem) throw invalidQuery(`${name}: ${show(id)} ${problem}`);
  }
}

export type FilterQuery = Pick<ReadingQuery, 'from' | 'to' | 'stationIds' | 'deviceIds'>;

/** Validates a filter; returns false when it can match nothing (empty range or empty id list). */
export function validateFilter(q: FilterQuery): boolean {
  validateRange(q.from, q.to);
  validateIds(q.stationIds, 'stationIds');
  validateIds(q.deviceIds, 'deviceIds');
  return q.to > q.from && q.stationIds?.length !== 0 && q.deviceIds?.length !== 0;
}

/** Validates a full query; returns false when it can match nothing. */
export function validateQuery(q: ReadingQuery): boolean {
  const possible = validateFilter(q);
  if (!Number.isSafeInteger(q.limit) || q.limit < 0)
    throw invalidQuery(`limit ${show(q.limit)} must be an integer >= 0`);
  if (q.order !== undefined && q.order !== 'asc' && q.order !== 'desc') {
    throw invalidQuery(`order ${show(q.order)} must be 'asc' or 'desc'`);
  }
  validateMetrics(q.metrics);
  // limit 0 returns nothing; note InfluxQL's LIMIT 0 would mean "no limit", so it never reaches a backend.
  return possible && q.limit > 0;
}

/**
 * Validates a QC filter (mode, flag codes, metric; an empty flag list would mean "nothing is
 * flagged"). The metric is a registry id, so it may be inlined in SQL and InfluxQL regexes.
 */
export function validateQc(qc: QcFilter | undefined): void {
  if (qc === undefined) return;
  if (qc === null || typeof qc !== 'object') throw invalidQuery(`qc must be an object, got ${show(qc)}`);
  if (qc.mode !== 'include' && qc.mode !== 'exclude-flagged' && qc.mode !== 'only-flagged') {
    throw invalidQuery(`qc.mode ${show(qc.mode)} must be 'include', 'exclude-flagged' or 'only-flagged'`);
  }
  if (
    qc.metric !== undefined &&
    (typeof qc.metric !== 'string' || !isMetricId(qc.metric) || !QC_CODE.test(qc.metric))
  ) {
    throw invalidQuery(`qc.metric ${show(qc.metric)} is not a known metric`);
  }
  if (qc.flags === undefined) return;
  if (!Array.isArray(qc.flags) || qc.flags.length === 0) throw invalidQuery('qc.flags must be a non-empty array');
  for (const f of qc.flags) {
    if (typeof f !== 'string' || !QC_CODE.test(f)) throw invalidQuery(`qc flag ${show(f)} must match ${QC_CODE}`);
  }
}

/** Validates a scan; returns false when it can match nothing. */
export function validateScan(q: ScanQuery, pageSize: number): boolean {
  const possible = validateFilter(q);
  if (!Number.isSafeInteger(pageSize) || pageSize < 1 || pageSize > MAX_SCAN_PAGE) {
    throw invalidQuery(`pageSize ${show(pageSize)} must be an integer in 1..${MAX_SCAN_PAGE}`);
  }
  validateMetrics(q.metrics);
  validateQc(q.qc);
  if (q.after !== undefined) {
    const a = q.after;
    if (a === null || typeof a !== 'object') throw invalidQuery(`after must be a reading key, got ${show(a)}`);
    if (!Number.isSafeInteger(a.ts)) throw invalidQuery(`after.ts ${show(a.ts)} must be an integer (epoch ms)`);
    for (const k of ['city', 'stationId', 'deviceId'] as const) {
      const problem = idProblem(a[k]);
      if (problem) throw invalidQuery(`after.${k} ${show(a[k])} ${problem}`);
    }
    if (a.ts >= q.to) return false;
  }
  return possible;
}

/** Longest aggregation bucket: a leap year. */
export const MAX_BUCKET_MS = 366 * 86_400_000;

/** Validates an aggregation; returns false when it can match nothing. */
export function validateAggregate(q: AggregateQuery): boolean {
  const possible = validateFilter(q);
  if (typeof q.metric !== 'string' || !isMetricId(q.metric)) throw invalidQuery(`unknown metric ${show(q.metric)}`);
  const b = q.bucketMs;
  if (!Number.isSafeInteger(b) || b < 1000 || b > MAX_BUCKET_MS || b % 1000 !== 0) {
    throw invalidQuery(`bucketMs ${show(b)} must be a whole number of seconds from 1 s to 366 days`);
  }
  if (q.offsetMs !== undefined && !Number.isSafeInteger(q.offsetMs)) {
    throw invalidQuery(`offsetMs ${show(q.offsetMs)} must be an integer (ms)`);
  }
  validateQc(q.qc);
  return possible;
}

/** The QC filter an aggregate applies: its own (default include), about the aggregated metric unless it names one. */
export const qcForAggregate = (q: AggregateQuery): QcFilter => ({
  mode: 'include',
  ...q.qc,
  metric: q.qc?.metric ?? q.metric,
});

/** offsetMs normalised into 0..bucketMs-1. */
export const normalOffset = (q: AggregateQuery): number => (((q.offsetMs ?? 0) % q.bucketMs) + q.bucketMs) % q.bucketMs;

function validateMetrics(metrics: readonly MetricId[] | undefined): void {
  if (metrics === undefined) return;
  if (!Array.isArray(metrics)) throw invalidQuery('metrics must be an array');
  for (const m of metrics) if (!isMetricId(m)) throw invalidQuery(`unknown metric ${show(m)}`);
}
