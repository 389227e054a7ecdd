import { createHash } from 'node:crypto';
import { coverageOf, METRICS, type MetricId, roundMetric, type Station } from '@cnx/domain';
import { type ReadingStore, ROLLUP_BUCKET_MS, ROLLUP_METRICS, type RollupLevel, type RollupRow } from '@cnx/store';
import type { ApiLimits } from '../config';
import { badParameter } from '../errors';
import type { RollupExportFormat } from '../schemas';
import { DAY_MS, describeDuration, iso } from '../util/time';
import type { CityContext, StationFilter } from './city';
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
      units: Object.fromEntries(plan.metrics.map((m) => [m, METRICS[m.replace(/_corrected$/, '') as MetricId].unit])),
      generatedAt: iso(Date.now()),
    };
    const json = plan.format === 'json';
    yield json ? `{"meta":${JSON.stringify(meta)},"data":[\n` : `${JSON.stringify({ meta })}\n`;
    let rows = 0;
    for (const [i, s] of plan.stations.entries()) {
      const page = i === 0 ? first : await read(s);
      let chunk = '';
      for (const r of page) {
        // Each number at its metric's precision (a corrected series has its metric's).
        const m = r.metric.replace(/_corrected$/, '') as MetricId;
        const record = {
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
        chunk += json ? `${rows > 0 ? ',\n' : ''}${JSON.stringify(record)}` : `${JSON.stringify(record)}\n`;
        rows++;
      }
      if (chunk) yield chunk;
    }
    yield json ? `\n],"rows":${rows}}\n` : '';
  }
}
