import {
  type AqiScheme,
  ageSeconds,
  DECIMALS,
  type HourlyMean,
  hourStart,
  isLive,
  type MetricId,
  nowcastAt,
  type OverallAqi,
  overallAqi,
  QC_POLICY,
  type QcFlag,
  rolling24hMean,
  roundCorrections,
  roundMetric,
  roundTo,
  roundValues,
  type Station,
} from '@cnx/domain';
import type { AggregateBucket, ReadingStore, StoredReading } from '@cnx/store';
import type { Static } from 'typebox';
import type { AirNow, AqiIndex, LatestReading, PmState, StationLatest, StationStatus } from '../schemas';
import { HOUR_MS, iso } from '../util/time';
import type { ViewCache } from './cache';
import type { CityContext } from './city';
import type { NowViewService } from './now-view.service';
import type { NowSource } from './reading-window';

/**
 * Readings with these flags are left out of the 1-hour, rolling 24-hour and NowCast values and of
 * the latest value: the quality policy of @cnx/domain (qc/policy.ts, docs/qc.md). `humidity` only
 * annotates (the corrected PM2.5 accounts for humidity; on a humid night every reading carries it).
 */
export const NOW_EXCLUDED_FLAGS: readonly QcFlag[] = QC_POLICY.now.exclude;
const usable = (use: 'now' | 'latest' | 'official', metric?: MetricId) => ({
  mode: 'exclude-flagged' as const,
  flags: QC_POLICY[use].exclude,
  ...(metric ? { metric } : {}),
});

/** What a station shows first: PM2.5 on an air station, the level on a canal station. */
export const mainMetric = (kind: 'air' | 'canal'): MetricId => (kind === 'air' ? 'pm25' : 'water_level');

/** The latestPerStation filters the views ask: any reading ("last seen"), and the usable main value of each kind. */
export const LATEST_FILTERS = [undefined, usable('latest', mainMetric('air')), usable('latest', mainMetric('canal'))];

/**
 * With the in-memory view the "now" views are recomputed at most once per whole second (and when a
 * reading changed them): ages and "live" are exact to the second, and a second's requests share one
 * serialised body (docs/performance.md, "now" from memory).
 */
const TICK_MS = 1000;

export interface NowSettings {
  offlineAfterMs: number;
  lastSeenLookbackMs: number;
}

export interface AirView {
  byStation: Map<string, Static<typeof AirNow>>;
  /** Each air station's hourly PM2.5 means (the basis series), oldest first. */
  hourly: Map<string, HourRow[]>;
}

export interface Snapshot {
  /** When it was computed (generatedAt of the responses built from it: stable while cached, so ETags work). */
  at: number;
  /** Each station's newest reading the quality policy lets into "latest" (QC_POLICY.latest). */
  latest: Map<string, StoredReading>;
  status: Map<string, Static<typeof StationStatus>>;
}

type Pm = 'pm25' | 'pm10';
export type HourRow = Pick<HourlyMean, 'hourStart' | 'mean' | 'count'>;

/**
 * The "now" views: each station's latest reading and status, and for air stations the 1-hour mean,
 * the rolling 24-hour mean, the NowCast and both AQIs. Computed for the whole city at once (a few
 * store queries) and cached for API_CACHE_TTL_S, so a page view costs no query.
 */
export class NowService {
  constructor(
    private readonly city: CityContext,
    private readonly store: ReadingStore,
    private readonly cache: ViewCache,
    private readonly settings: NowSettings,
    private readonly now: () => number,
    private readonly view?: NowViewService,
  ) {}

  /** Where the views read: the in-memory window once built, else the store. */
  get source(): NowSource {
    return this.view?.window ?? this.store;
  }

  /**
   * What the cached views and bodies are valid for: the window's version and the whole second, or
   * undefined while the views read the store (then the TTL alone decides).
   */
  stamp(): string | undefined {
    const w = this.view?.window;
    return w ? `${w.version}@${Math.floor(this.now() / TICK_MS)}` : undefined;
  }

  /** The views' "now": the whole second with the in-memory view (see stamp), else the clock. */
  time(): number {
    const t = this.now();
    return this.view?.window ? Math.floor(t / TICK_MS) * TICK_MS : t;
  }

  snapshot(): Promise<Snapshot> {
    return this.cache.get('snapshot', () => this.computeSnapshot(this.time()), this.stamp());
  }

  air(): Promise<AirView> {
    return this.cache.get('air', () => this.computeAir(this.time()), this.airStamp());
  }

  /**
   * The air view is made of whole clock hours (hourly means from the hour 23 h before the current
   * one up to now; the 24-hour mean and the NowCast take \`now\` only through its hour), so with
   * the in-memory view it changes with a reading or at the full hour, not every second: its
   * aggregates are computed once per change, not at every tick (~8 % of a cached /v1/latest's CPU
   * at 5,000 requests/s). While a reading ahead of the clock waits to come within \`now\`, it
   * follows the second, as the other views.
   */
  private airStamp(): string | undefined {
    const w = this.view?.window;
    if (!w) return undefined;
    const now = this.time();
    return w.maxTs <= now ? `${w.version}@h${hourStart(now)}` : this.stamp();
  }

  /** When the cached snapshot was computed, as RFC 3339. */
  async asOf(): Promise<string> {
    return iso((await this.snapshot()).at);
  }

  /** Latest view of the given stations, in their order. */
  async latest(stations: readonly Station[]): Promise<Static<typeof StationLatest>[]> {
    const [snap, air] = await Promise.all([
      this.snapshot(),
      stations.some((s) => s.kind === 'air') ? this.air() : null,
    ]);
    return stations.map((s) => {
      const r = snap.latest.get(s.id);
      const airNow = air?.byStation.get(s.id);
      return {
        station: this.city.ref(s),
        status: snap.status.get(s.id) ?? emptyStatus(),
        latest: r ? latestReading(r, snap.at) : null,
        ...(airNow ? { air: airNow } : {}),
      };
    });
  }

  private async computeSnapshot(now: number): Promise<Snapshot> {
    const ids = this.city.stations.map((s) => s.id);
    const since = now - this.settings.lastSeenLookbackMs;
    const day = { from: now - 24 * HOUR_MS, to: now + 1, stationIds: ids };
    // By kind: "usable" and "excluded" are about the station's main value (a frozen DO probe does
    // not hide a canal's level). Device health counts every reading (QC_POLICY.device).
    const byKind = (kind: 'air' | 'canal') => this.city.stations.filter((s) => s.kind === kind).map((s) => s.id);
    const kinds = (['air', 'canal'] as const).filter((k) => byKind(k).length > 0);
    const perKind = <T>(q: (ids: string[], metric: MetricId) => Promise<T[]>) =>
      Promise.all(kinds.map((k) => q(byKind(k), mainMetric(k)))).then((parts) => parts.flat());
    const source = this.source;
    const [seen, latest, all, flagged, excluded] = await Promise.all([
      source.latestPerStation(since, ids),
      perKind((s, metric) => source.latestPerStation(since, s, usable('latest', metric))),
      source.countByStation(day),
      source.countByStation({ ...day, qc: { mode: 'only-flagged' } }),
      perKind((s, metric) =>
        source.countByStation({
          ...day,
          stationIds: s,
          qc: { mode: 'only-flagged', flags: QC_POLICY.latest.exclude, metric },
        }),
      ),
    ]);
    const mine = <T extends { city: string }>(rows: T[]) => rows.filter((x) => x.city === this.city.id);
    const seenBy = new Map(mine(seen).map((r) => [r.stationId, r.ts]));
    const latestBy = new Map(mine(latest).map((r) => [r.stationId, r]));
    const count = (rows: { city: string; stationId: string; count: number }[]) =>
      new Map(mine(rows).map((c) => [c.stationId, c.count]));
    const [allBy, flaggedBy, excludedBy] = [count(all), count(flagged), count(excluded)];
    const status = new Map<string, Static<typeof StationStatus>>();
    for (const id of ids) {
      const last = seenBy.get(id);
      const readings = allBy.get(id) ?? 0;
      const flaggedCount = flaggedBy.get(id) ?? 0;
      const excludedCount = excludedBy.get(id) ?? 0;
      status.set(id, {
        lastSeen: last === undefined ? null : iso(last),
        ageSeconds: last === undefined ? null : ageSeconds(last, now),
        online: last !== undefined && now - last <= this.settings.offlineAfterMs,
        qc: {
          windowHours: 24,
          readings,
          flagged: flaggedCount,
          flaggedShare: readings > 0 ? roundTo(flaggedCount / readings, DECIMALS.share) : null,
          excluded: excludedCount,
          excludedShare: readings > 0 ? roundTo(excludedCount / readings, DECIMALS.share) : null,
        },
      });
    }
    return { at: now, latest: latestBy, status };
  }

  private async computeAir(now: number): Promise<AirView> {
    const stations = this.city.stations.filter((s) => s.kind === 'air');
    const out = new Map<string, Static<typeof AirNow>>();
    const hourly = new Map<string, HourRow[]>();
    if (stations.length === 0) return { byStation: out, hourly };
    const current = hourStart(now);
    const base = {
      from: current - 23 * HOUR_MS,
      to: now + 1,
      stationIds: stations.map((s) => s.id),
      bucketMs: HOUR_MS,
      qc: usable('official'),
    };
    const source = this.source;
    const [raw25, corrected25, raw10] = await Promise.all([
      source.aggregate({ ...base, metric: 'pm25' }),
      source.aggregate({ ...base, metric: 'pm25', corrected: true }),
      source.aggregate({ ...base, metric: 'pm10' }),
    ]);
    const by = (rows: AggregateBucket[]) => {
      const m = new Map<string, HourRow[]>();
      for (const b of rows) {
        if (b.city !== this.city.id) continue;
        const list = m.get(b.stationId) ?? [];
        list.push({ hourStart: b.start, mean: b.mean, count: b.count });
        m.set(b.stationId, list);
      }
      return m;
    };
    const [r25, c25, r10] = [by(raw25), by(corrected25), by(raw10)];
    for (const s of stations) {
      const corrected = c25.get(s.id);
      const series = corrected ?? r25.get(s.id) ?? [];
      hourly.set(s.id, series);
      const pm25 = pmState(corrected ? 'pm25_corrected' : 'pm25', series, 'pm25', now);
      const pm10 = pmState('pm10', r10.get(s.id) ?? [], 'pm10', now);
      const rolling = { pm25: pm25.rolling24h.value, pm10: pm10.rolling24h.value };
      const nowcast = { pm25: pm25.nowcast?.value, pm10: pm10.nowcast?.value };
      const th = aqiIndex('th-pcd-2023', rolling, 'rolling24h');
      const thNow = nowBand(pm25, pm10, { pm25: series, pm10: r10.get(s.id) ?? [] }, now);
      // Indices from the unrounded means (each scheme rounds or truncates as its table says); the
      // means themselves are shown at the metric's precision (no double rounding).
      out.set(s.id, {
        pm25: shown(pm25, 'pm25'),
        pm10: shown(pm10, 'pm10'),
        aqi: {
          th,
          us: aqiIndex('us-epa-2024', nowcast, 'nowcast'),
          now: thNow,
          band: th ?? thNow,
        },
      });
    }
    return { byStation: out, hourly };
  }
}

function pmState(
  basis: Static<typeof PmState>['basis'],
  hourly: HourRow[],
  pollutant: Pm,
  now: number,
): Static<typeof PmState> {
  const current = hourStart(now);
  const hour = hourly.find((h) => h.hourStart === current);
  const rolling = rolling24hMean(hourly, now);
  const nc = nowcastAt(hourly, now, pollutant);
  return {
    basis,
    unit: 'ug/m3',
    hour1: hour ? { value: hour.mean, hourStart: iso(hour.hourStart), count: hour.count } : null,
    rolling24h: {
      value: rolling.value ?? null,
      valid: rolling.valid,
      hoursObserved: rolling.hoursObserved,
      coverage: rolling.coverage,
      windowStart: iso(rolling.windowStart),
      windowEnd: iso(rolling.hourStart + HOUR_MS),
    },
    nowcast: nc ? { value: nc.value, weight: nc.weight, hoursUsed: nc.hoursUsed } : null,
  };
}

/**
 * The Thai index of "now", shown while the official 24-hour mean is not valid (a fresh station, a
 * gap): from the NowCast when it exists (2 of the 3 latest hours), else from the latest hour's mean:
 * the current hour's, or the hour before while the current one has no reading yet (so a band does
 * not go grey at every full hour). Labelled by its `averaging`; never official (Air4Thai's own apps
 * show hourly values the same way).
 */
export function nowBand(
  pm25: Static<typeof PmState>,
  pm10: Static<typeof PmState>,
  hourly: Record<Pm, readonly HourRow[]>,
  now: number,
): Static<typeof AqiIndex> | null {
  if (pm25.nowcast || pm10.nowcast) {
    return aqiIndex('th-pcd-2023', { pm25: pm25.nowcast?.value, pm10: pm10.nowcast?.value }, 'nowcast');
  }
  const previous = hourStart(now) - HOUR_MS;
  const latestHour = (state: Static<typeof PmState>, rows: readonly HourRow[]) =>
    state.hour1?.value ?? rows.find((h) => h.hourStart === previous)?.mean;
  return aqiIndex('th-pcd-2023', { pm25: latestHour(pm25, hourly.pm25), pm10: latestHour(pm10, hourly.pm10) }, 'hour1');
}

/** Overall AQI (highest sub-index) from whichever concentrations exist; null without any. */
export function aqiIndex(
  scheme: AqiScheme,
  concentrations: Partial<Record<Pm, number | null | undefined>>,
  averaging: Static<typeof AqiIndex>['averaging'],
): Static<typeof AqiIndex> | null {
  const given: Partial<Record<Pm, number>> = {};
  for (const p of ['pm25', 'pm10'] as const) {
    const c = concentrations[p];
    if (typeof c === 'number') given[p] = c;
  }
  const o: OverallAqi | undefined = overallAqi(scheme, given);
  if (!o) return null;
  const r = o.overall;
  return {
    scheme: r.scheme,
    value: r.value,
    band: r.band,
    level: r.level,
    color: r.color,
    colorName: r.colorName,
    label: r.label,
    advice: r.advice,
    beyondScale: r.beyondScale,
    convention: r.convention,
    dominant: o.dominant,
    concentration: r.concentration,
    averaging,
    official: averaging === 'rolling24h',
  };
}

export function latestReading(r: StoredReading, now: number): Static<typeof LatestReading> {
  return {
    ts: iso(r.ts),
    ageSeconds: ageSeconds(r.ts, now),
    live: isLive(r.ts, now),
    device: r.deviceId,
    values: roundValues(r.values),
    corrections: roundCorrections(r.corrections),
    qc: r.qc,
    ...(r.qcMetrics ? { qcMetrics: r.qcMetrics } : {}),
  };
}

/** A PM state as published: its means at the metric's precision (issue 14), shares and weights at theirs. */
function shown(state: Static<typeof PmState>, metric: MetricId): Static<typeof PmState> {
  const { hour1, rolling24h, nowcast } = state;
  return {
    ...state,
    hour1: hour1 ? { ...hour1, value: roundMetric(metric, hour1.value) } : null,
    rolling24h: {
      ...rolling24h,
      value: rolling24h.value === null ? null : roundMetric(metric, rolling24h.value),
      coverage: roundTo(rolling24h.coverage, DECIMALS.share),
    },
    nowcast: nowcast
      ? { ...nowcast, value: roundMetric(metric, nowcast.value), weight: roundTo(nowcast.weight, DECIMALS.weight) }
      : null,
  };
}

export const emptyStatus = (): Static<typeof StationStatus> => ({
  lastSeen: null,
  ageSeconds: null,
  online: false,
  qc: { windowHours: 24, readings: 0, flagged: 0, flaggedShare: null, excluded: 0, excludedShare: null },
});
