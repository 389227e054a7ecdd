import {
  assessCanalLevel,
  type CanalLevelAssessment,
  classifySurfaceWater,
  DECIMALS,
  estimateRise,
  QC_POLICY,
  roundMetric,
  roundMetricOrNull,
  roundTo,
  type Station,
  SURFACE_WATER_CLASS_INFO,
  usableFor,
} from '@cnx/domain';
import type { Static } from 'typebox';
import type { CanalStatus } from '../schemas';
import { HOUR_MS, iso } from '../util/time';
import type { ViewCache } from './cache';
import type { CityContext } from './city';
import { emptyStatus, type NowService } from './now.service';

/**
 * Rate of rise over the last hour: long enough for a least-squares slope over several polls, short
 * enough to follow a flash rise (a city canal rises over tens of minutes, docs/qc.md `spike`).
 *
 * The rise is `estimateRise` (@cnx/domain canal-rise.ts, as on the dashboard and in the canal_rise
 * alert rule): the slope with its 95 % uncertainty, null unless the window holds ≥ 10 readings
 * spanning ≥ 15 minutes, and `risingFast` only when slope − uncertainty is above the city pack's
 * threshold. (It used to be a bare slope of whatever the hour held: two noisy polls after a restart
 * could read "rising fast".) The window stays an hour, as `windowMinutes` has always said; the
 * dashboard and the cities' canal_rise alert rules use 30 minutes.
 */
export const RISE_WINDOW_MS = HOUR_MS;
/** Bound on the water-level samples read for the rise (5 canal stations x 60 one-minute polls is 300). */
const RISE_PAGE = 5_000;
const RISE_MAX_SAMPLES = 100_000;

/** Canal status: level against the city pack's levels, rate of rise, surface-water class. */
export class CanalService {
  constructor(
    private readonly city: CityContext,
    private readonly now: NowService,
    private readonly cache: ViewCache,
  ) {}

  all(): Promise<Static<typeof CanalStatus>[]> {
    return this.cache.get('canal', () => this.compute(this.now.time()), this.now.stamp());
  }

  async one(stationId: string): Promise<Static<typeof CanalStatus>> {
    const s = this.city.canalStation(stationId);
    return (await this.all()).find((c) => c.station.id === s.id)!;
  }

  private async compute(now: number): Promise<Static<typeof CanalStatus>[]> {
    // Upstream to downstream along each waterway (city pack flowOrder), as a reader follows the water.
    const stations = [...this.city.canalStationsInFlowOrder];
    if (stations.length === 0) return [];
    const [snap, samples] = await Promise.all([this.now.snapshot(), this.levelSamples(stations, now)]);
    const rateWarning = this.city.pack.city.thresholds.canal.riseRateWarningMPerHour;
    return stations.map((s) => {
      const levels = this.city.levels(s)!;
      const latest = snap.latest.get(s.id);
      const level = latest?.values.water_level;
      const assessed = level === undefined ? undefined : assessCanalLevel(level, levels);
      const rise = estimateRise(samples.get(s.id) ?? [], {
        thresholdMPerHour: rateWarning,
        now,
        windowMs: RISE_WINDOW_MS,
      });
      // DO and pH count only when no flag of theirs is set (a frozen DO probe: the class is partial).
      const ok = (metric: 'do' | 'ph') =>
        latest && usableFor('now', latest.qc, { metric, qcMetrics: latest.qcMetrics })
          ? latest.values[metric]
          : undefined;
      const wq = latest ? classifySurfaceWater({ do: ok('do'), ph: ok('ph') }) : undefined;
      return {
        station: this.city.ref(s),
        status: snap.status.get(s.id) ?? emptyStatus(),
        levels,
        level:
          assessed && latest && level !== undefined
            ? { valueM: roundMetric('water_level', level), ts: iso(latest.ts), ...shownLevel(assessed) }
            : null,
        rise: {
          mPerHour: roundMetricOrNull('water_level', rise.mPerHour),
          uncertaintyMPerHour: roundMetricOrNull('water_level', rise.uncertaintyMPerHour),
          trend: rise.trend,
          reason: rise.reason,
          samples: rise.samples,
          spanMinutes: roundTo(rise.spanMinutes, DECIMALS.minutes),
          windowMinutes: RISE_WINDOW_MS / 60_000,
          warningMPerHour: rateWarning,
          risingFast: rise.trend === 'rising_fast',
        },
        waterQuality:
          wq && latest
            ? {
                class: wq.class,
                label: SURFACE_WATER_CLASS_INFO[wq.class].label,
                uses: SURFACE_WATER_CLASS_INFO[wq.class].uses,
                basis: wq.basis,
                limitedBy: wq.limitedBy,
                partial: wq.partial,
                ts: iso(latest.ts),
              }
            : null,
      };
    });
  }

  /** Water-level samples of the last hour per station, QC-suspect readings left out. */
  private async levelSamples(stations: Station[], now: number): Promise<Map<string, { ts: number; value: number }[]>> {
    const out = new Map<string, { ts: number; value: number }[]>();
    const query = {
      from: now - RISE_WINDOW_MS,
      to: now + 1,
      stationIds: stations.map((s) => s.id),
      metrics: ['water_level' as const],
      qc: { mode: 'exclude-flagged' as const, flags: QC_POLICY.now.exclude, metric: 'water_level' as const },
    };
    let seen = 0;
    for await (const page of this.now.source.scan(query, RISE_PAGE)) {
      seen += page.length;
      if (seen > RISE_MAX_SAMPLES) break; // a runaway device must not cost unbounded memory
      for (const r of page) {
        const v = r.values.water_level;
        if (r.city !== this.city.id || v === undefined) continue;
        const list = out.get(r.stationId) ?? [];
        list.push({ ts: r.ts, value: v });
        out.set(r.stationId, list);
      }
    }
    return out;
  }
}

/** Freeboard in the level's precision, the share of the bank in percent (issue 14: published precision). */
function shownLevel(a: CanalLevelAssessment): CanalLevelAssessment {
  return {
    ...a,
    freeboardM: roundMetric('water_level', a.freeboardM),
    percentOfBank: roundTo(a.percentOfBank, DECIMALS.percent),
  };
}
