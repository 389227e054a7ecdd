import { createHash } from 'node:crypto';
import { coverageOf, METRICS, type MetricId, roundMetric, type Station } from '@cnx/domain';
import { type ReadingStore, ROLLUP_BUCKET_MS, ROLLUP_METRICS, type RollupLevel, type RollupRow } from '@cnx/store';
import type { ApiLimits } from '../config';
import { badParameter } from '../errors';
import type { RollupExportFormat } from '../schemas';
import { DAY_MS, describeDuration, iso } from '../util/time';
import type { CityContext, StationFilter } from './city';
import { type CsvField, csvColumn, csvLine } from './csv';
import { KIND_METRICS } from './export.service';
import type { SeriesService } from './series.service';

export interface RollupExportRequest extends StationFilter {
  interval: RollupLevel;
  format?: RollupExportFormat;
  from: string;
  to: string;
  metrics?: string;
}

export interface RollupExportPlan {
  level: RollupLevel;
  format: RollupExportFormat;
  from: number;
  to: number;
  stations: Station[];
  metrics: string[];
  filename: string;
  fingerprint: string;
}

/**
 * Exports of hourly or daily aggregates over long ranges, read from the stored rollups only (never raw
 * readings): one record per station, metric and bucket, streamed station by station (a year of hours
 * for one station and six metrics is ~53,000 rows). Buckets not rolled up yet are not in the file;
 * `meta.rolledUpUntil` says up to where the file is complete. (packages/store README, "Rollups and
 * retention"; docs/api.md, Exports.)
 */
export class RollupExportService {
  constructor(
    private readonly city: CityContext,
    private readonly store: ReadingStore,
    private readonly series: SeriesService,
    private readonly limits: ApiLimits,
  ) {}

  plan(q: RollupExportRequest): RollupExportPlan {
    const { from, to } = this.series.range(q);
    if (to - from > this.limits.seriesMaxDays * DAY_MS) {
      throw badParameter(
        'query',
        'from',
        `gives a range of ${describeDuration(to - from)}`,
        `at most ${this.limits.seriesMaxDays} days per export`,
        q.from,
        'range_too_large',
      );
    }
    const stations = this.city.select(q);
    const kinds = new Set(stations.map((s) => s.kind));
    const metrics = q.metrics
      ? [...new Set(q.metrics.split(','))]
      : [...new Set([...kinds].flatMap((k) => [...KIND_METRICS[k], ...(k === 'air' ? ['pm25_corrected'] : [])]))];
    for (const m of metrics) {
      if (!ROLLUP_METRICS.includes(m)) {
        throw badParameter(
          'query',
          'metrics',
          `has unknown metric ${JSON.stringify(m)}`,
          ROLLUP_METRICS.join(', '),
          q.metrics,
        );
      }
    }
    const format = q.format ?? 'json';
    const day = (t: number) => iso(t).slice(0, 10).replace(/-/g, '');
    const fingerprint = createHash('sha256')
      .update(JSON.stringify([q.interval, format, from, to, stations.map((s) => s.id), metrics]))
      .digest('base64url')
      .slice(0, 22);
    return {
      level: q.interval,
      format,
      from,
      to,
      stations,
      metrics,
      filename: `cnx-${this.city.id}-${q.interval}-${day(from)}-${day(to)}.${format}`,
      fingerprint,
    };
  }

  /** Where the rollups of the plan's level are complete (bucket starts before it), for the meta and the ETag. */
  async rolledUpUntil(plan: RollupExportPlan): Promise<number> {
    const state = await this.store.rollupState(this.city.id);
    return plan.level === '1h' ? state.hour : state.day;
  }

  /** The file as text chunks; the first station is read before the first byte (a store error is a 503). */
  async open(plan: RollupExportPlan, until: number): Promise<AsyncGenerator<string>> {
    const read = (s: Station) =>
      this.store.readRollups({
        level: plan.level,
        city: this.city.id,
        from: plan.from,
        to: plan.to,
        stationIds: [s.id],
        metrics: plan.metrics,
      });
    const first = plan.stations[0] ? await read(plan.stations[0]) : [];
    return this.write(plan, until, first, read);
  }

  private async *write(
    plan: RollupExportPlan,
    until: number,
    first: RollupRow[],
    read: (s: Station) => Promise<RollupRow[]>,
  ): AsyncGenerator<string> {
    const meta = {
      dataset: `cnx-sense ${plan.level === '1h' ? 'hourly' : 'daily'} aggregates, ${this.city.id}`,
      licence: this.city.licence,
      interval: plan.level,
      from: iso(plan.from),
      to: iso(plan.to),
      rolledUpUntil: until > 0 ? iso(until) : null,
      qc: 'usable',
      stations: plan.stations.map((s) => s.id),
      metrics: plan.metrics,
      units: Object.fromEntries(plan.metrics.map((m) => [m, METRICS[baseMetric(m)].unit])),
      generatedAt: iso(Date.now()),
    };
    const json = plan.format === 'json';
    const csv = plan.format === 'csv';
    if (csv) yield csvLine(rollupCsvColumns(plan.metrics));
    else yield json ? `{"meta":${JSON.stringify(meta)},"data":[\n` : `${JSON.stringify({ meta })}\n`;
    let rows = 0;
    for (const [i, s] of plan.stations.entries()) {
      const page = (i === 0 ? first : await read(s)).map(rollupRecord);
      let chunk = '';
      if (csv) {
        for (const fields of rollupCsvRows(page, plan.metrics)) {
          chunk += csvLine(fields);
          rows++;
        }
      } else {
        for (const record of page) {
          chunk += json ? `${rows > 0 ? ',\n' : ''}${JSON.stringify(record)}` : `${JSON.stringify(record)}\n`;
          rows++;
        }
      }
      if (chunk) yield chunk;
    }
    yield json ? `\n],"rows":${rows}}\n` : '';
  }
}

type RollupRecord = ReturnType<typeof rollupRecord>;

/** One bucket of one station and series metric, each number at its metric's precision (a corrected series has its metric's). */
function rollupRecord(r: RollupRow) {
  const m = baseMetric(r.metric);
  return {
    start: iso(r.start),
    end: iso(r.start + ROLLUP_BUCKET_MS[r.level]),
    station: r.stationId,
    metric: r.metric,
    mean: roundMetric(m, r.mean),
    min: roundMetric(m, r.min),
    max: roundMetric(m, r.max),
    count: r.count,
    flagged: r.flagged,
    coverage: coverageOf(r.count, r.expected),
  };
}

const baseMetric = (series: string): MetricId => series.replace(/_corrected$/, '') as MetricId;

/**
 * CSV is wide, so the unit can be in the column name (issue 14): one line per station and bucket,
 * and per series metric `pm25_mean_ugm3`, `pm25_min_ugm3`, `pm25_max_ugm3`, `pm25_count`,
 * `pm25_flagged`, `pm25_expected`, `pm25_complete_pct` (`pm25_corrected_mean_ugm3` for corrected).
 */
function rollupCsvColumns(metrics: readonly string[]): string[] {
  return [
    'start',
    'end',
    'station',
    ...metrics.flatMap((series) => {
      const suffix = series.endsWith('_corrected') ? '_corrected' : '';
      const unit = (stat: string) => csvColumn(baseMetric(series), `${suffix}_${stat}`);
      return [
        unit('mean'),
        unit('min'),
        unit('max'),
        `${series}_count`,
        `${series}_flagged`,
        `${series}_expected`,
        `${series}_complete_pct`,
      ];
    }),
  ];
}

/** One station's records as CSV lines, by bucket start; a metric without a record there has empty fields. */
function rollupCsvRows(records: RollupRecord[], metrics: readonly string[]): CsvField[][] {
  const buckets = new Map<string, Map<string, RollupRecord>>();
  for (const r of records) {
    const bucket = buckets.get(r.start) ?? new Map<string, RollupRecord>();
    bucket.set(r.metric, r);
    buckets.set(r.start, bucket);
  }
  return [...buckets.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([, bucket]) => {
      const any = bucket.values().next().value as RollupRecord;
      return [
        any.start,
        any.end,
        any.station,
        ...metrics.flatMap((m): CsvField[] => {
          const r = bucket.get(m);
          if (!r) return ['', '', '', '', '', '', ''];
          return [r.mean, r.min, r.max, r.count, r.flagged, r.coverage.expectedCount, r.coverage.percentComplete];
        }),
      ];
    });
}
