import { METRIC_IDS, type MetricId, QC_METRIC_FLAGS } from '@cnx/domain';
import type {
  AggregateBucket,
  AggregateQuery,
  QcFilter,
  ReadingStore,
  ScanQuery,
  StationCount,
  StoredReading,
} from '@cnx/store';

/** The part of a ReadingStore the "now" views read (NowService, CanalService). */
export type NowSource = Pick<ReadingStore, 'latestPerStation' | 'countByStation' | 'aggregate' | 'scan'>;

/**
 * How far back the window holds every reading: the views read at most 24 hours back (the QC counts
 * and the rolling 24-hour mean's 23 hours before the current one), plus an hour of slack.
 */
export const WINDOW_MS = 25 * 3_600_000;

const isMetricFlag = (f: string): boolean => (QC_METRIC_FLAGS as readonly string[]).includes(f);

/**
 * Is the reading "flagged" for this filter: the same rule as the stores (packages/store
 * reading-store.ts QcFilter; sqlite.queries.ts qcSql). With a metric, a metric flag counts only
 * when the reading's qcMetrics lists the metric or names none; other flags always.
 */
export function isFlagged(r: StoredReading, qc: QcFilter | undefined): boolean {
  // Most readings carry no flag: the views evaluate this ~200,000 times per recomputation.
  if (r.qc.length === 0) return false;
  if (qc?.metric !== undefined) {
    const wanted = qc.flags;
    const whole = wanted
      ? r.qc.some((f) => !isMetricFlag(f) && wanted.includes(f))
      : r.qc.some((f) => !isMetricFlag(f));
    if (whole) return true;
    const about = !r.qcMetrics || r.qcMetrics.length === 0 || r.qcMetrics.includes(qc.metric);
    const metricFlags = wanted ? wanted.filter(isMetricFlag) : QC_METRIC_FLAGS;
    return about && metricFlags.some((f) => r.qc.includes(f));
  }
  return qc?.flags ? qc.flags.some((f) => r.qc.includes(f)) : r.qc.length > 0;
}

export function passes(r: StoredReading, qc: QcFilter | undefined): boolean {
  const mode = qc?.mode ?? 'include';
  return mode === 'include' ? true : mode === 'only-flagged' ? isFlagged(r, qc) : !isFlagged(r, qc);
}

/**
 * A reading as the stores give it back: values and corrections in metric-registry order (the
 * stores' column order), so the JSON the API serialises from it is byte for byte the same.
 */
export function canonical(r: StoredReading): StoredReading {
  const values: StoredReading['values'] = {};
  const corrections: StoredReading['corrections'] = [];
  for (const m of METRIC_IDS) {
    const v = r.values[m];
    if (v !== undefined) values[m] = v;
    const c = r.corrections.find((x) => x.metric === m);
    if (c) corrections.push({ metric: c.metric, value: c.value, method: c.method });
  }
  const out: StoredReading = {
    city: r.city,
    stationId: r.stationId,
    deviceId: r.deviceId,
    ts: r.ts,
    values,
    corrections,
    qc: [...r.qc],
  };
  if (r.qcMetrics && r.qcMetrics.length > 0) {
    out.qcMetrics = METRIC_IDS.filter((m) => r.qcMetrics!.includes(m));
  }
  if (r.seq !== undefined) out.seq = r.seq;
  return out;
}

/** A rewrite of a stored reading merges as the stores do: values kept unless given, flags replaced. */
function merge(old: StoredReading, r: StoredReading): StoredReading {
  return canonical({
    ...r,
    seq: r.seq ?? old.seq,
    values: { ...old.values, ...r.values },
    corrections: [
      ...old.corrections.filter((c) => !r.corrections.some((n) => n.metric === c.metric)),
      ...r.corrections,
    ],
  });
}

/** How the backend sums a mean: SQLite ≥ 3.43 uses Kahan-Babuška-Neumaier, InfluxDB a plain sum. */
export type MeanSummation = 'kbn' | 'plain';

interface StationReadings {
  byKey: Map<string, StoredReading>;
  /** byKey's readings by (ts, device); rebuilt lazily after an out-of-order insert. */
  sorted: StoredReading[];
  dirty: boolean;
  /** Bumped when this station's readings change (a reading put, readings pruned). */
  version: number;
  /** The newest reading's time. */
  maxTs: number;
  /** aggregate() answers for this station, by query, while its readings are unchanged (see there). */
  aggregates: Map<string, { version: number; buckets: AggregateBucket[] }>;
}

/** Aggregate answers kept per station (the views ask three; more means arbitrary queries). */
const MAX_AGGREGATES = 16;

/**
 * Every reading of the city's stations from `coverageFrom` on, in memory, answering the queries
 * the "now" views make the way the store would (same QC filter rule, bucket arithmetic, mean
 * summation, identity and merge of rewritten readings). For "latest" over a longer lookback (30 days)
 * it keeps, per filter the views ask, each station's newest reading from before the window:
 * what the store answered when the window was built, then each reading as it slides out of it.
 */
export class ReadingWindow implements NowSource {
  private readonly stations = new Map<string, StationReadings>();
  /** filter key -> station -> newest reading older than coverageFrom that the filter keeps. */
  private readonly before = new Map<string, { qc: QcFilter | undefined; by: Map<string, StoredReading> }>();
  /** Readings before this time are not all held (epoch ms). */
  coverageFrom: number;
  /** Bumped on every change a reading makes: what the caches of views and bodies key on. */
  version = 0;
  /** The newest reading's time ever put (a reading ahead of the clock makes it exceed "now"). */
  maxTs = Number.NEGATIVE_INFINITY;

  constructor(
    readonly city: string,
    stationIds: readonly string[],
    private readonly summation: MeanSummation,
    private readonly clock: () => number,
    coverageFrom: number,
  ) {
    for (const id of stationIds)
      this.stations.set(id, {
        byKey: new Map(),
        sorted: [],
        dirty: false,
        version: 0,
        maxTs: Number.NEGATIVE_INFINITY,
        aggregates: new Map(),
      });
    this.coverageFrom = coverageFrom;
  }

  /** Each station's newest reading before the window for this filter (from the store's answer). */
  seedBefore(qc: QcFilter | undefined, latest: readonly StoredReading[]): void {
    const by = new Map<string, StoredReading>();
    for (const r of latest) if (r.city === this.city && r.ts < this.coverageFrom) by.set(r.stationId, canonical(r));
    this.before.set(filterKey(qc), { qc, by });
  }

  hasFilter(qc: QcFilter | undefined): boolean {
    return this.before.has(filterKey(qc));
  }

  /** Adds or rewrites one reading (bus or store); readings of other cities or stations are ignored. */
  put(r: StoredReading): boolean {
    const s = this.stations.get(r.stationId);
    if (!s || r.city !== this.city || r.ts < this.coverageFrom) return false;
    const key = `${r.deviceId}\u0000${r.ts}`;
    const old = s.byKey.get(key);
    const next = old ? merge(old, r) : canonical(r);
    s.byKey.set(key, next);
    if (old) s.dirty = true;
    else {
      const last = s.sorted[s.sorted.length - 1];
      if (!s.dirty && (!last || order(last, next) < 0)) s.sorted.push(next);
      else s.dirty = true;
    }
    this.version++;
    s.version++;
    if (r.ts > this.maxTs) this.maxTs = r.ts;
    if (r.ts > s.maxTs) s.maxTs = r.ts;
    return true;
  }

  /** Lets readings older than the window go, remembering the newest per filter as "before". */
  prune(now = this.clock()): void {
    const from = now - WINDOW_MS;
    if (from <= this.coverageFrom) return;
    for (const [stationId, s] of this.stations) {
      const rows = this.rows(s);
      let cut = 0;
      while (cut < rows.length && rows[cut]!.ts < from) cut++;
      if (cut === 0) continue;
      for (let i = 0; i < cut; i++) {
        const r = rows[i]!;
        s.byKey.delete(`${r.deviceId}\u0000${r.ts}`);
        for (const f of this.before.values()) if (passes(r, f.qc)) f.by.set(stationId, r);
      }
      s.sorted = rows.slice(cut);
      s.version++;
    }
    this.coverageFrom = from;
  }

  private rows(s: StationReadings): StoredReading[] {
    if (s.dirty) {
      s.sorted = [...s.byKey.values()].sort(order);
      s.dirty = false;
    }
    return s.sorted;
  }

  /** The station's readings with from <= ts < to, oldest first. */
  private range(stationId: string, from: number, to: number): StoredReading[] {
    if (from < this.coverageFrom) throw new Error(`reading window asked from ${from}, holds from ${this.coverageFrom}`);
    const s = this.stations.get(stationId);
    if (!s) return [];
    const rows = this.rows(s);
    const lo = lowerBound(rows, from);
    const hi = lowerBound(rows, to);
    return rows.slice(lo, hi);
  }

  private ids(stationIds?: readonly string[]): string[] {
    return [...(stationIds ?? this.stations.keys())].filter((id) => this.stations.has(id)).sort();
  }

  async latestPerStation(since: number, stationIds?: string[], qc?: QcFilter): Promise<StoredReading[]> {
    const before = this.before.get(filterKey(qc));
    if (!before) throw new Error('reading window: latestPerStation asked for a filter it was not built with');
    const to = this.clock() + 1;
    const out: StoredReading[] = [];
    for (const id of this.ids(stationIds)) {
      const rows = this.range(id, Math.max(since, this.coverageFrom), to);
      let found: StoredReading | undefined;
      for (let i = rows.length - 1; i >= 0 && !found; i--) if (passes(rows[i]!, qc)) found = rows[i];
      if (!found) {
        const b = before.by.get(id);
        if (b && b.ts >= since) found = b;
      }
      if (found) out.push(found);
    }
    return out;
  }

  async countByStation(q: {
    from: number;
    to: number;
    stationIds?: string[];
    deviceIds?: string[];
    qc?: QcFilter;
  }): Promise<StationCount[]> {
    const out: StationCount[] = [];
    for (const id of this.ids(q.stationIds)) {
      let n = 0;
      for (const r of this.range(id, q.from, q.to)) if (device(r, q.deviceIds) && passes(r, q.qc)) n++;
      if (n > 0) out.push({ city: this.city, stationId: id, count: n });
    }
    return out;
  }

  /**
   * Buckets per station as the store computes them. A station's answer is kept while its readings
   * are unchanged and all of them fall before `to`: the "now" views ask the same hours again with
   * a later `to` each time another station's reading arrives, and only that station is recomputed.
   */
  async aggregate(q: AggregateQuery): Promise<AggregateBucket[]> {
    const b = q.bucketMs;
    const off = (((q.offsetMs ?? 0) % b) + b) % b;
    const qc: QcFilter = { mode: 'include', ...q.qc, metric: q.qc?.metric ?? q.metric };
    const key = [q.metric, q.corrected ?? false, filterKey(qc), b, off, q.from, q.deviceIds?.join(',') ?? ''].join('|');
    const out: AggregateBucket[] = [];
    for (const id of this.ids(q.stationIds)) {
      const s = this.stations.get(id)!;
      const whole = q.to > s.maxTs; // every reading of the station from q.from on is in range
      const kept = whole ? s.aggregates.get(key) : undefined;
      if (kept && kept.version === s.version) {
        out.push(...kept.buckets);
        continue;
      }
      const buckets = this.aggregateStation(id, q, qc, b, off);
      if (whole) {
        if (s.aggregates.size >= MAX_AGGREGATES) s.aggregates.clear();
        s.aggregates.set(key, { version: s.version, buckets });
      }
      out.push(...buckets);
    }
    return out;
  }

  private aggregateStation(id: string, q: AggregateQuery, qc: QcFilter, b: number, off: number): AggregateBucket[] {
    const value = (r: StoredReading): number | undefined =>
      q.corrected ? r.corrections.find((c) => c.metric === q.metric)?.value : r.values[q.metric];
    const out: AggregateBucket[] = [];
    let cur: (AggregateBucket & { sum: Sum }) | undefined;
    const close = () => {
      if (cur && cur.count > 0) {
        const { sum, ...bucket } = cur;
        out.push({ ...bucket, mean: sum.total() / cur.count });
      }
    };
    for (const r of this.range(id, q.from, q.to)) {
      const v = value(r);
      if (v === undefined || !device(r, q.deviceIds)) continue;
      const start = Math.trunc((r.ts - off) / b) * b + off;
      if (cur?.start !== start) {
        close();
        const sum = new Sum(this.summation);
        cur = {
          city: this.city,
          stationId: id,
          start,
          mean: 0,
          min: Infinity,
          max: -Infinity,
          count: 0,
          flagged: 0,
          sum,
        };
      }
      if (isFlagged(r, qc)) cur.flagged++;
      if (!passes(r, qc)) continue;
      cur.sum.add(v);
      cur.count++;
      cur.min = Math.min(cur.min, v);
      cur.max = Math.max(cur.max, v);
    }
    close();
    return out;
  }

  /** Every matching reading in key order; `after` (keyset paging) is not needed by the views. */
  async *scan(q: ScanQuery, pageSize: number): AsyncGenerator<StoredReading[]> {
    if (q.after) throw new Error('reading window: scan does not page with after');
    const all: StoredReading[] = [];
    for (const id of this.ids(q.stationIds)) {
      for (const r of this.range(id, q.from, q.to)) if (device(r, q.deviceIds) && passes(r, q.qc)) all.push(r);
    }
    all.sort((a, b) => a.ts - b.ts || cmp(a.stationId, b.stationId) || cmp(a.deviceId, b.deviceId));
    const pick = q.metrics;
    const shaped = pick
      ? all.map((r) => ({
          ...r,
          values: Object.fromEntries(Object.entries(r.values).filter(([k]) => pick.includes(k as MetricId))),
          corrections: r.corrections.filter((c) => pick.includes(c.metric)),
        }))
      : all;
    for (let i = 0; i < shaped.length; i += pageSize) yield shaped.slice(i, i + pageSize);
  }

  /** How many readings are held (for metrics and tests). */
  get size(): number {
    let n = 0;
    for (const s of this.stations.values()) n += s.byKey.size;
    return n;
  }
}

/** A running sum in the backend's own way, so means agree to the last bit. */
class Sum {
  private s = 0;
  private err = 0;
  constructor(private readonly how: MeanSummation) {}
  add(x: number): void {
    if (this.how === 'plain') {
      this.s += x;
      return;
    }
    // SQLite func.c kahanBabuskaNeumaierStep.
    const t = this.s + x;
    if (Math.abs(this.s) > Math.abs(x)) this.err += this.s - t + x;
    else this.err += x - t + this.s;
    this.s = t;
  }
  total(): number {
    return this.how === 'plain' || Number.isNaN(this.err) ? this.s : this.s + this.err;
  }
}

const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
const order = (a: StoredReading, b: StoredReading): number => a.ts - b.ts || cmp(a.deviceId, b.deviceId);
const device = (r: StoredReading, ids?: readonly string[]): boolean => !ids || ids.includes(r.deviceId);
const filterKey = (qc: QcFilter | undefined): string =>
  qc ? JSON.stringify([qc.mode, qc.flags ? [...qc.flags].sort() : null, qc.metric ?? null]) : 'all';

function lowerBound(rows: readonly StoredReading[], ts: number): number {
  let lo = 0;
  let hi = rows.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (rows[mid]!.ts < ts) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
