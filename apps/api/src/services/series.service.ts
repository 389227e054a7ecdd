import {
  coverageOf,
  DEFAULT_DEVICE_INTERVAL_S,
  deviceIntervalMs,
  expectedSamples,
  isMetricId,
  METRIC_IDS,
  METRICS,
  type MetricId,
  roundCorrections,
  roundMetric,
  roundValues,
} from '@cnx/domain';
import { idProblem, keyOf, type ReadingKey, type ReadingStore, type StoredReading } from '@cnx/store';
import type { Static } from 'typebox';
import type { ApiLimits } from '../config';
import { ApiError, badParameter } from '../errors';
import { INTERVALS, type Interval, type ReadingRecord, type ReadingsPage, type Series } from '../schemas';
import { DAY_MS, describeDuration, HOUR_MS, iso, parseTime } from '../util/time';
import type { CityContext } from './city';
import { type ApiQcMode, qcFilter } from './qc';
import { type Bucket, RollupReader } from './rollup-reader';

export interface RangeQuery {
  from?: string;
  to?: string;
}

export interface SeriesQuery extends RangeQuery {
  metric?: string;
  interval?: 'auto' | Interval;
  qc?: ApiQcMode;
}

export interface ReadingsQuery extends RangeQuery {
  metrics?: string;
  qc?: ApiQcMode;
  limit?: number;
  cursor?: string;
}

const ORDERED_INTERVALS = Object.keys(INTERVALS) as Interval[];

/** Aggregated series and raw readings of one station, bounded (docs/api.md, Limits). */
export class SeriesService {
  private readonly rollups: RollupReader;

  constructor(
    private readonly city: CityContext,
    private readonly store: ReadingStore,
    private readonly limits: ApiLimits,
    private readonly clock: () => number,
  ) {
    this.rollups = new RollupReader(city.id, store);
  }

  /** from/to of a request: defaults (the last 24 h), parsing and order. */
  range(q: RangeQuery): { from: number; to: number } {
    const to = q.to === undefined ? this.clock() : parseTime('to', q.to, this.city.offsetMs);
    const from = q.from === undefined ? to - DAY_MS : parseTime('from', q.from, this.city.offsetMs);
    if (from >= to) throw badParameter('query', 'from', 'must be before to', 'a time before `to`', q.from);
    return { from, to };
  }

  async series(stationId: string, q: SeriesQuery): Promise<Static<typeof Series>> {
    const station = this.city.station(stationId);
    const metricParam = q.metric ?? (station.kind === 'canal' ? 'water_level' : 'pm25');
    const corrected = metricParam.endsWith('_corrected');
    const metric = (corrected ? metricParam.slice(0, -'_corrected'.length) : metricParam) as MetricId;
    const { from, to } = this.range(q);
    const span = to - from;
    const maxSpan = this.limits.seriesMaxDays * DAY_MS;
    if (span > maxSpan) {
      throw badParameter(
        'query',
        'from',
        `gives a range of ${describeDuration(span)}`,
        `at most ${this.limits.seriesMaxDays} days`,
        q.from,
        'range_too_large',
      );
    }
    const interval = this.interval(q.interval ?? 'auto', span);
    const bucketMs = INTERVALS[interval];
    const qc = q.qc ?? 'usable';
    // Hourly and daily series of usable readings come from the rollups (raw only for the edges the
    // rollups do not cover yet); 5-minute series and the other qc modes aggregate raw readings.
    const query = {
      from,
      to,
      stationIds: [station.id],
      metric,
      corrected,
      bucketMs,
      // Local clock hours and days of the city (its pack's zone; at UTC+07:00 a day starts at 17:00 UTC).
      offsetMs: -this.city.offsetMs,
    };
    const buckets: Bucket[] = (
      interval !== '5m' && qc === 'usable'
        ? await this.rollups.series(interval, metricParam, query)
        : await this.store.aggregate({ ...query, qc: qcFilter(qc) })
    ).filter((b) => b.city === this.city.id);
    // Coverage counts each device at its own cadence (the city pack's intervalS): a device that
    // reports every 10 s is expected to give 360 samples an hour, one that reports every 2 min 30.
    // One formula with the rollups (domain coverage.ts); a rolled-up bucket carries its expected count.
    const devices = this.city.devicesOf(station.id);
    const intervals = devices.length > 0 ? devices.map(deviceIntervalMs) : [DEFAULT_DEVICE_INTERVAL_S * 1000];
    const coverage = (observed: number, ms: number, expected = expectedSamples(ms, intervals)) =>
      coverageOf(observed, expected);
    const data = buckets.map((b) => {
      const overlap = Math.min(b.start + bucketMs, to) - Math.max(b.start, from);
      return {
        start: iso(b.start),
        end: iso(b.start + bucketMs),
        mean: roundMetric(metric, b.mean),
        min: roundMetric(metric, b.min),
        max: roundMetric(metric, b.max),
        count: b.count,
        flagged: b.flagged,
        coverage: coverage(b.count, overlap, b.expected),
      };
    });
    return {
      meta: {
        station: this.city.ref(station),
        metric: metricParam as Static<typeof Series>['meta']['metric'],
        unit: METRICS[metric].unit,
        interval,
        from: iso(from),
        to: iso(to),
        qc,
        expectedIntervalSeconds: Math.min(...intervals) / 1000,
        coverage: coverage(
          buckets.reduce((n, b) => n + b.count, 0),
          span,
        ),
        count: data.length,
      },
      data,
    };
  }

  /** The interval asked for, if it fits the point limit; `auto`: the finest that fits. */
  private interval(asked: 'auto' | Interval, span: number): Interval {
    const buckets = (i: Interval) => Math.ceil(span / INTERVALS[i]) + 1; // +1: aligned buckets may straddle both ends
    const fits = ORDERED_INTERVALS.filter((i) => buckets(i) <= this.limits.maxPoints);
    if (asked === 'auto') {
      const finest = fits[0];
      if (finest) return finest;
    } else if (fits.includes(asked)) return asked;
    const longest = (i: Interval) => describeDuration((this.limits.maxPoints - 1) * INTERVALS[i]);
    const allowed = fits.length
      ? `interval=${fits.join(' or ')} (or auto) for this range, or a range of at most ${longest(asked === 'auto' ? '1d' : asked)} at ${asked}`
      : `a shorter range`;
    throw badParameter(
      'query',
      'interval',
      `gives ${asked === 'auto' ? 'too many' : buckets(asked)} buckets over ${describeDuration(span)}; at most ${this.limits.maxPoints} per response`,
      allowed,
      asked,
      'range_too_large',
    );
  }

  async readings(stationId: string, q: ReadingsQuery): Promise<Static<typeof ReadingsPage>> {
    const station = this.city.station(stationId);
    const { from, to } = this.range(q);
    const maxSpan = this.limits.rawMaxDays * DAY_MS;
    if (to - from > maxSpan) {
      throw badParameter(
        'query',
        'from',
        `gives a range of ${describeDuration(to - from)} of raw readings`,
        `at most ${this.limits.rawMaxDays} days per request (page through it with cursor, use /series for aggregates, or /v1/exports/readings for files)`,
        q.from,
        'range_too_large',
      );
    }
    const metrics = parseMetrics(q.metrics);
    const limit = q.limit ?? 1000;
    const qc = q.qc ?? 'include';
    const after = q.cursor === undefined ? undefined : decodeCursor(q.cursor, this.city.id, station.id);
    let rows: StoredReading[] = [];
    const scan = {
      from,
      to,
      stationIds: [station.id],
      qc: qcFilter(qc),
      ...(metrics ? { metrics } : {}),
      ...(after ? { after } : {}),
    };
    for await (const page of this.store.scan(scan, limit + 1)) {
      rows = page;
      break;
    }
    const more = rows.length > limit;
    if (more) rows = rows.slice(0, limit);
    const nextCursor = more ? encodeCursor(keyOf(rows[rows.length - 1]!)) : null;
    const params = new URLSearchParams({ from: iso(from), to: iso(to), qc, limit: String(limit) });
    if (q.metrics) params.set('metrics', q.metrics);
    if (nextCursor) params.set('cursor', nextCursor);
    return {
      meta: {
        station: this.city.ref(station),
        from: iso(from),
        to: iso(to),
        qc,
        limit,
        count: rows.length,
        nextCursor,
        next: nextCursor ? `/v1/stations/${station.id}/readings?${params}` : null,
      },
      data: rows.map(readingRecord),
    };
  }

  /** Whether a range lies wholly in the past (by an hour: late readings may still arrive before). */
  settled(to: number): boolean {
    return to <= this.clock() - HOUR_MS;
  }
}

export function readingRecord(r: StoredReading): Static<typeof ReadingRecord> {
  return {
    ts: iso(r.ts),
    station: r.stationId,
    device: r.deviceId,
    ...(r.seq === undefined ? {} : { seq: r.seq }),
    values: roundValues(r.values),
    corrections: roundCorrections(r.corrections),
    qc: r.qc,
    ...(r.qcMetrics ? { qcMetrics: r.qcMetrics } : {}),
  };
}

/** A `metrics` parameter: comma-separated registry ids, each known. */
export function parseMetrics(text: string | undefined): MetricId[] | undefined {
  if (text === undefined) return undefined;
  const out: MetricId[] = [];
  for (const m of text.split(',')) {
    if (!isMetricId(m))
      throw badParameter('query', 'metrics', `has unknown metric ${JSON.stringify(m)}`, METRIC_IDS.join(', '), text);
    if (!out.includes(m)) out.push(m);
  }
  return out;
}

/** Cursors are the base64url JSON of the last key: opaque to clients, checked on the way back. */
export function encodeCursor(k: ReadingKey): string {
  return Buffer.from(JSON.stringify([k.ts, k.city, k.stationId, k.deviceId])).toString('base64url');
}

export function decodeCursor(text: string, city: string, stationId: string): ReadingKey {
  const bad = () =>
    new ApiError('invalid_cursor', 'cursor is not one this API issued for this station', [
      {
        in: 'query',
        parameter: 'cursor',
        problem: 'is not a cursor of this station',
        allowed: 'meta.nextCursor of the previous page',
      },
    ]);
  let v: unknown;
  try {
    v = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
  } catch {
    throw bad();
  }
  if (!Array.isArray(v) || v.length !== 4) throw bad();
  const [ts, c, s, d] = v as unknown[];
  if (typeof ts !== 'number' || !Number.isSafeInteger(ts) || c !== city || s !== stationId) throw bad();
  if (typeof d !== 'string' || idProblem(d) !== undefined) throw bad();
  return { ts, city, stationId, deviceId: d };
}
