import type { DistrictInfo } from '@cnx/city-pack';
import { hourStart, rateOfRise, roundMetric, roundMetricOrNull } from '@cnx/domain';
import type { Static } from 'typebox';
import type { AirNow, AqiIndex, CanalStatus, DistrictSummary, StationLatest } from '../schemas';
import { HOUR_MS } from '../util/time';
import type { CanalService } from './canal.service';
import type { CityContext } from './city';
import type { HourRow, NowService } from './now.service';

/**
 * Trend dead band, µg/m³ per hour: a slope smaller than this is "steady". A project presentation
 * rule, not a standard: 2 µg/m³/h is below what a PMS5003 resolves between two hourly means at
 * clean-air levels, and a fraction of the 10-50 µg/m³ hourly swings of a haze day.
 */
export const TREND_STEADY_PER_HOUR = 2;
/** The trend looks at the last three hourly means (the current hour and the two before). */
const TREND_HOURS = 3;

const CANAL_ORDER = ['unknown', 'normal', 'warning', 'critical', 'overbank'] as const;

/** District summaries: current state, worst station and trend, from the cached "now" views. */
export class DistrictService {
  constructor(
    private readonly city: CityContext,
    private readonly now: NowService,
    private readonly canal: CanalService,
    private readonly clock: () => number,
  ) {}

  async summaries(): Promise<Static<typeof DistrictSummary>[]> {
    const [latest, air, canal] = await Promise.all([
      this.now.latest(this.city.stations),
      this.now.air(),
      this.city.stations.some((s) => s.kind === 'canal') ? this.canal.all() : Promise.resolve([]),
    ]);
    const t = this.clock();
    return this.city.districts.map((d) => this.summary(d, latest, canal, air.hourly, t));
  }

  async detail(districtId: string): Promise<{
    summary: Static<typeof DistrictSummary>;
    stations: Static<typeof StationLatest>[];
  }> {
    const d = this.city.district(districtId);
    const summaries = await this.summaries();
    const summary = summaries.find((s) => s.district.id === d.id)!;
    const stations = await this.now.latest(this.city.stations.filter((s) => s.district === d.id));
    return { summary, stations };
  }

  private summary(
    d: DistrictInfo,
    latest: Static<typeof StationLatest>[],
    canal: Static<typeof CanalStatus>[],
    hourly: Map<string, HourRow[]>,
    t: number,
  ): Static<typeof DistrictSummary> {
    const mine = latest.filter((l) => l.station.district === d.id);
    const air = mine.filter((l) => l.air) as (Static<typeof StationLatest> & { air: Static<typeof AirNow> })[];
    const worst = (scheme: 'th' | 'us' | 'now' | 'band') =>
      air
        .map((l) => ({ station: l.station, index: l.air.aqi[scheme] }))
        .filter((x): x is { station: (typeof air)[number]['station']; index: Static<typeof AqiIndex> } => !!x.index)
        .sort((a, b) => b.index.value - a.index.value || b.index.level - a.index.level)[0];
    const primary = this.city.pack.city.thresholds.air.aqiScale === 'us-epa-2024' ? 'us' : 'th';
    const worstTh = worst('th');
    const worstUs = worst('us');
    const worstBand = worst('band');
    const top = primary === 'th' ? worstBand : (worstUs ?? worstBand);
    const canalHere = canal.filter((c) => c.station.district === d.id);
    return {
      district: { id: d.id, name: d.name, kind: d.kind },
      stations: {
        air: mine.filter((l) => l.station.kind === 'air').length,
        canal: mine.filter((l) => l.station.kind === 'canal').length,
        online: mine.filter((l) => l.status.online).length,
      },
      aqi: {
        th: worstTh?.index ?? null,
        us: worstUs?.index ?? null,
        now: worst('now')?.index ?? null,
        band: worstBand?.index ?? null,
      },
      worstStation: top
        ? { id: top.station.id, name: top.station.name, aqi: top.index.value, scheme: top.index.scheme }
        : null,
      pm25: {
        hour1Mean: roundMetricOrNull('pm25', mean(air.map((l) => l.air.pm25.hour1?.value))),
        rolling24hMean: roundMetricOrNull('pm25', mean(air.map((l) => l.air.pm25.rolling24h.value))),
      },
      trend: districtTrend(
        air.map((l) => hourly.get(l.station.id) ?? []),
        t,
      ),
      canal: canalHere.length === 0 ? null : worstCanal(canalHere),
    };
  }
}

function mean(values: (number | null | undefined)[]): number | null {
  const xs = values.filter((v): v is number => typeof v === 'number');
  return xs.length === 0 ? null : xs.reduce((a, b) => a + b, 0) / xs.length;
}

/**
 * Least-squares slope (domain rateOfRise) of the district mean PM2.5 over the current clock hour and
 * the TREND_HOURS - 1 before it: each hour's value is the mean of the stations' hourly means.
 */
export function districtTrend(series: HourRow[][], now: number): Static<typeof DistrictSummary>['trend'] {
  const current = hourStart(now);
  const points: { ts: number; value: number }[] = [];
  for (let h = current - (TREND_HOURS - 1) * HOUR_MS; h <= current; h += HOUR_MS) {
    const v = mean(series.map((rows) => rows.find((r) => r.hourStart === h)?.mean));
    if (v !== null) points.push({ ts: h, value: v });
  }
  const rate = points.length >= 2 ? rateOfRise(points, TREND_HOURS * HOUR_MS) : undefined;
  if (rate === undefined) return { direction: 'unknown', ratePerHour: null };
  const direction = Math.abs(rate) < TREND_STEADY_PER_HOUR ? 'steady' : rate > 0 ? 'rising' : 'falling';
  return { direction, ratePerHour: roundMetric('pm25', rate) };
}

function worstCanal(list: Static<typeof CanalStatus>[]): NonNullable<Static<typeof DistrictSummary>['canal']> {
  let best: { worstState: (typeof CANAL_ORDER)[number]; stationId: string | null } = {
    worstState: 'unknown',
    stationId: null,
  };
  for (const c of list) {
    const state = c.level?.state ?? 'unknown';
    if (CANAL_ORDER.indexOf(state) > CANAL_ORDER.indexOf(best.worstState)) {
      best = { worstState: state, stationId: c.station.id };
    }
  }
  return best;
}
