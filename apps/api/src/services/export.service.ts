import { createHash } from 'node:crypto';
import { type MetricId, roundCorrections, roundMetric, roundValues, type Station } from '@cnx/domain';
import type { ReadingStore, ScanQuery, StoredReading } from '@cnx/store';
import type { ApiLimits } from '../config';
import { badParameter } from '../errors';
import { CORRECTED_METRICS, type ExportFormat } from '../schemas';
import { DAY_MS, describeDuration, iso } from '../util/time';
import type { CityContext, StationFilter } from './city';
import { csvColumn, csvLine, csvNumber as num } from './csv';
import { type ApiQcMode, qcFilter } from './qc';
import { parseMetrics, readingRecord, type SeriesService } from './series.service';

/** Metrics exported by default for each station kind (the ones its devices measure). */
export const KIND_METRICS: Record<Station['kind'], MetricId[]> = {
  air: ['pm1', 'pm25', 'pm10', 'temperature', 'humidity'],
  canal: ['water_level', 'do', 'ph', 'turbidity', 'conductivity', 'water_temperature'],
};

/** Readings per store page: a year of data streams through at most this many readings in memory. */
export const EXPORT_PAGE = 5000;

export interface ExportRequest extends StationFilter {
  format?: ExportFormat;
  from: string;
  to: string;
  metrics?: string;
  qc?: ApiQcMode;
}

export interface ExportPlan {
  format: ExportFormat;
  from: number;
  to: number;
  stations: Station[];
  metrics: MetricId[];
  qc: ApiQcMode;
  filename: string;
  /** Identifies the request (for a weak ETag together with the row count). */
  fingerprint: string;
  /** The normalised query, to name the source in the file. */
  query: string;
}

/**
 * Exports: the selected readings streamed from the store in keyset pages, written as CSV, JSON, NDJSON
 * or GeoJSON, each with the licence and attribution (docs/api.md, Exports).
 */
export class ExportService {
  constructor(
    private readonly city: CityContext,
    private readonly store: ReadingStore,
    private readonly series: SeriesService,
    private readonly limits: ApiLimits,
    private readonly publicUrl: string,
  ) {}

  plan(q: ExportRequest): ExportPlan {
    const { from, to } = this.series.range(q);
    if (to - from > this.limits.exportMaxDays * DAY_MS) {
      throw badParameter(
        'query',
        'from',
        `gives a range of ${describeDuration(to - from)}`,
        `at most ${this.limits.exportMaxDays} days per export (split longer ranges)`,
        q.from,
        'range_too_large',
      );
    }
    const stations = this.city.select(q);
    const kinds = new Set(stations.map((s) => s.kind));
    const metrics =
      parseMetrics(q.metrics) ?? (kinds.size === 0 ? KIND_METRICS.air : [...kinds].flatMap((k) => KIND_METRICS[k]));
    const format = q.format ?? 'csv';
    const qc = q.qc ?? 'include';
    const day = (t: number) => iso(t).slice(0, 10).replace(/-/g, '');
    const filename = `cnx-${this.city.id}-readings-${day(from)}-${day(to)}.${format}`;
    const fingerprint = createHash('sha256')
      .update(JSON.stringify([format, from, to, stations.map((s) => s.id), metrics, qc]))
      .digest('base64url')
      .slice(0, 22);
    const query = new URLSearchParams({ format, from: iso(from), to: iso(to), metrics: metrics.join(','), qc });
    for (const k of ['station', 'district', 'kind', 'bbox', 'coordinates'] as const) if (q[k]) query.set(k, q[k]);
    if (q.radius !== undefined) query.set('radius', String(q.radius));
    return { format, from, to, stations, metrics, qc, filename, fingerprint, query: query.toString() };
  }

  /** Readings in the plan's range (every QC state): with the fingerprint, a change detector for ETags. */
  count(plan: ExportPlan): Promise<number> {
    if (plan.stations.length === 0) return Promise.resolve(0);
    return this.store.count({ from: plan.from, to: plan.to, stationIds: plan.stations.map((s) => s.id) });
  }

  /**
   * The file as text chunks. The first store page is read before the first byte is produced, so a
   * store that is down still gets a proper 503 instead of a cut-off 200.
   */
  async open(plan: ExportPlan): Promise<AsyncGenerator<string>> {
    const query: ScanQuery = {
      from: plan.from,
      to: plan.to,
      stationIds: plan.stations.map((s) => s.id),
      metrics: plan.metrics,
      qc: qcFilter(plan.qc),
    };
    const pages =
      plan.stations.length === 0 ? emptyPages() : this.store.scan(query, EXPORT_PAGE)[Symbol.asyncIterator]();
    const first = await pages.next();
    return this.write(plan, first, pages);
  }

  private async *write(
    plan: ExportPlan,
    first: IteratorResult<StoredReading[]>,
    pages: AsyncIterator<StoredReading[]>,
  ): AsyncGenerator<string> {
    const byId = new Map(plan.stations.map((s) => [s.id, s]));
    const w = WRITERS[plan.format](plan, this.header(plan), byId);
    yield w.start();
    let rows = 0;
    let sep = '';
    try {
      for (let next = first; !next.done; next = await pages.next()) {
        let chunk = '';
        for (const r of next.value) {
          if (r.city !== this.city.id) continue;
          chunk += w.row(r, sep);
          sep = w.separator;
          rows++;
        }
        if (chunk) yield chunk;
      }
    } finally {
      await pages.return?.();
    }
    yield w.end(rows);
  }

  private header(plan: ExportPlan): ExportHeader {
    return {
      dataset: `cnx-sense readings, ${this.city.id}`,
      licence: this.city.licence,
      source: `${this.publicUrl}/v1/exports/readings?${plan.query}`,
      from: iso(plan.from),
      to: iso(plan.to),
      qc: plan.qc,
      stations: plan.stations.map((s) => s.id),
      metrics: plan.metrics,
      generatedAt: iso(Date.now()),
    };
  }
}

async function* emptyPages(): AsyncGenerator<StoredReading[]> {}

interface ExportHeader {
  dataset: string;
  licence: { id: string; url: string; attribution: string };
  source: string;
  from: string;
  to: string;
  qc: ApiQcMode;
  stations: string[];
  metrics: MetricId[];
  generatedAt: string;
}

interface Writer {
  start(): string;
  row(r: StoredReading, separator: string): string;
  separator: string;
  end(rows: number): string;
}

const WRITERS: Record<ExportFormat, (plan: ExportPlan, h: ExportHeader, byId: Map<string, Station>) => Writer> = {
  // No comment lines: the header, then one line per reading (./csv.ts).
  csv: (plan, _h, byId) => {
    const corrected = plan.metrics.filter((m) => (CORRECTED_METRICS as readonly string[]).includes(m));
    const columns = [
      'time',
      'station',
      'device',
      'district',
      'kind',
      'lat',
      'lon',
      ...plan.metrics.map((m) => csvColumn(m)),
      ...corrected.flatMap((m) => [csvColumn(m, '_corrected'), `${m}_correction`]),
      'qc',
      'qc_metrics',
      'seq',
    ];
    return {
      start: () => csvLine(columns),
      row: (r) => {
        const s = byId.get(r.stationId);
        const fields = [
          iso(r.ts),
          r.stationId,
          r.deviceId,
          s?.district ?? '',
          s?.kind ?? '',
          num(s?.location.lat),
          num(s?.location.lon),
          ...plan.metrics.map((m) => {
            const v = r.values[m];
            return v === undefined ? '' : roundMetric(m, v);
          }),
          ...corrected.flatMap((m) => {
            const c = r.corrections.find((x) => x.metric === m);
            return c ? [roundMetric(m, c.value), c.method] : ['', ''];
          }),
          r.qc.join('|'),
          (r.qcMetrics ?? []).join('|'),
          num(r.seq),
        ];
        return csvLine(fields);
      },
      separator: '',
      end: () => '',
    };
  },
  json: (_plan, h) => ({
    start: () => `{"meta":${JSON.stringify(h)},"data":[\n`,
    row: (r, sep) => `${sep}${JSON.stringify(readingRecord(r))}`,
    separator: ',\n',
    end: (rows) => `\n],"rows":${rows}}\n`,
  }),
  ndjson: (_plan, h) => ({
    start: () => `${JSON.stringify({ meta: h })}\n`,
    row: (r) => `${JSON.stringify(readingRecord(r))}\n`,
    separator: '',
    end: () => '',
  }),
  geojson: (_plan, h, byId) => ({
    // RFC 7946 section 6.1 allows foreign members: the licence travels inside the file.
    start: () =>
      `{"type":"FeatureCollection","licence":${JSON.stringify(h.licence)},"meta":${JSON.stringify(h)},"features":[\n`,
    row: (r, sep) => {
      const s = byId.get(r.stationId);
      const properties: Record<string, unknown> = {
        time: iso(r.ts),
        station: r.stationId,
        device: r.deviceId,
        district: s?.district ?? null,
        kind: s?.kind ?? null,
        ...roundValues(r.values),
        ...Object.fromEntries(roundCorrections(r.corrections).map((c) => [`${c.metric}_corrected`, c.value])),
        qc: r.qc.join('|'),
        qc_metrics: (r.qcMetrics ?? []).join('|'),
      };
      if (r.seq !== undefined) properties.seq = r.seq;
      const geometry = s ? { type: 'Point', coordinates: [s.location.lon, s.location.lat] } : null;
      return `${sep}${JSON.stringify({ type: 'Feature', geometry, properties })}`;
    },
    separator: ',\n',
    end: (rows) => `\n],"rows":${rows}}\n`,
  }),
};
