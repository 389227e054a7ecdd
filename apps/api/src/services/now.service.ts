import {
  type AqiScheme,
  type HourlyMean,
  hourStart,
  nowcastAt,
  type OverallAqi,
  overallAqi,
  type QcFlag,
  rolling24hMean,
  type Station,
} from '@cnx/domain';
import type { AggregateBucket, ReadingStore, StoredReading } from '@cnx/store';
import type { Static } from 'typebox';
import type { AirNow, AqiIndex, LatestReading, PmState, StationLatest, StationStatus } from '../schemas';
import { HOUR_MS, iso } from '../util/time';
import type { ViewCache } from './cache';
import type { CityContext } from './city';

/**
 * Readings with these flags are left out of the 1-hour, rolling 24-hour and NowCast values: they are
 * likely not air (docs/qc.md). `humidity` stays in (the corrected PM2.5 accounts for humidity; in the
 * rainy season most readings carry it) and so does `stale` (late, but still a measurement).
 */
export const AQI_EXCLUDED_FLAGS: QcFlag[] = ['range', 'spike', 'stuck', 'future'];

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
  ) {}

  snapshot(): Promise<Snapshot> {
    return this.cache.get('snapshot', () => this.computeSnapshot(this.now()));
  }

  air(): Promise<AirView> {
    return this.cache.get('air', () => this.computeAir(this.now()));
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
        latest: r ? latestReading(r) : null,
        ...(airNow ? { air: airNow } : {}),
      };
    });
  }

  private async computeSnapshot(now: number): Promise<Snapshot> {
    const ids = this.city.stations.map((s) => s.id);
    const day = { from: now - 24 * HOUR_MS, to: now + 1, stationIds: ids };
    const [latest, all, flagged] = await Promise.all([
      this.store.latestPerStation(now - this.settings.lastSeenLookbackMs, ids),
      this.store.countByStation(day),
      this.store.countByStation({ ...day, qc: { mode: 'only-flagged' } }),
    ]);
    const mine = <T extends { city: string }>(rows: T[]) => rows.filter((x) => x.city === this.city.id);
    const latestBy = new Map(mine(latest).map((r) => [r.stationId, r]));
    const allBy = new Map(mine(all).map((c) => [c.stationId, c.count]));
    const flaggedBy = new Map(mine(flagged).map((c) => [c.stationId, c.count]));
    const status = new Map<string, Static<typeof StationStatus>>();
    for (const id of ids) {
      const last = latestBy.get(id)?.ts;
      const readings = allBy.get(id) ?? 0;
      const flaggedCount = flaggedBy.get(id) ?? 0;
      const age = last === undefined ? null : Math.max(0, Math.round((now - last) / 1000));
      status.set(id, {
        lastSeen: last === undefined ? null : iso(last),
        ageSeconds: age,
        online: last !== undefined && now - last <= this.settings.offlineAfterMs,
        qc: {
          windowHours: 24,
          readings,
          flagged: flaggedCount,
          flaggedShare: readings > 0 ? flaggedCount / readings : null,
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
      qc: { mode: 'exclude-flagged' as const, flags: AQI_EXCLUDED_FLAGS },
    };
    const [raw25, corrected25, raw10] = await Promise.all([
      this.store.aggregate({ ...base, metric: 'pm25' }),
      this.store.aggregate({ ...base, metric: 'pm25', corrected: true }),
      this.store.aggregate({ ...base, metric: 'pm10' }),
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
      out.set(s.id, {
        pm25,
        pm10,
        aqi: {
          th: aqiIndex('th-pcd-2023', rolling, 'rolling24h'),
          us: aqiIndex('us-epa-2024', nowcast, 'nowcast'),
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
  };
}

export function latestReading(r: StoredReading): Static<typeof LatestReading> {
  return { ts: iso(r.ts), device: r.deviceId, values: r.values, corrections: r.corrections, qc: r.qc };
}

export const emptyStatus = (): Static<typeof StationStatus> => ({
  lastSeen: null,
  ageSeconds: null,
  online: false,
  qc: { windowHours: 24, readings: 0, flagged: 0, flaggedShare: null },
});
