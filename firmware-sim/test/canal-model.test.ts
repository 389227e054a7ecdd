import { assessCanalLevel } from '@cnx/domain';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  type CanalModel,
  type CanalSite,
  type CanalStationInfo,
  canalLevel,
  canalReading,
  createCanalScenario,
  fouling,
  loadCanalStations,
  SERVICE_PERIOD_DAYS,
} from '../src/canal';
import { correlation, mean } from './helpers';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const at = (iso: string) => Date.parse(iso);
const model = (scenario = 'normal', simStart = at('2026-08-20T00:00:00+07:00'), seed = 1): CanalModel => ({
  seed,
  utcOffsetMin: 420,
  scenario: createCanalScenario(scenario, { simStart }),
});
const site = (s: CanalStationInfo): CanalSite => ({
  deviceId: s.id,
  stationId: s.stationId,
  location: s.location,
  levels: s.levels,
});
const quantile = (xs: number[], q: number) => [...xs].sort((a, b) => a - b)[Math.floor(q * (xs.length - 1))] as number;
const localHour = (t: number) => ((((t + 7 * HOUR) % DAY) + DAY) % DAY) / HOUR;

let stations: CanalStationInfo[];
beforeAll(async () => {
  stations = (await loadCanalStations('chiang-mai')).stations;
});

describe('canal value model', () => {
  it('reads all five Chiang Mai canal stations from the city pack', () => {
    expect(stations.map((s) => s.id)).toEqual([
      'cm-canal-changphueak-probe',
      'cm-canal-sriphum-probe',
      'cm-canal-rakaeng-probe',
      'cm-canal-pratukom-probe',
      'cm-canal-padaet-probe',
    ]);
    for (const s of stations) expect(s.levels.warningLevelM).toBeLessThan(s.levels.criticalLevelM);
  });

  it('is a pure function of (seed, station, time)', () => {
    const t = at('2026-08-21T03:17:00+07:00');
    const s = site(stations[2]!);
    expect(canalReading(model(), s, t)).toEqual(canalReading(model(), s, t));
    expect(canalReading(model('normal', undefined, 2), s, t).do).not.toBe(canalReading(model(), s, t).do);
  });

  it('stays in the Mae Kha ranges over a month of each season (DO 0.8-6 with dips near zero, pH ~7-7.8, EC ~300)', () => {
    for (const month of ['2026-03-01', '2026-08-01']) {
      const start = at(`${month}T00:00:00+07:00`);
      const m = model('normal', start);
      const r = stations.flatMap((s) =>
        Array.from({ length: 30 * 24 }, (_, i) => canalReading(m, site(s), start + i * HOUR)),
      );
      const dO = r.map((x) => x.do);
      expect(quantile(dO, 0.05)).toBeGreaterThan(0.3);
      expect(quantile(dO, 0.5)).toBeGreaterThan(1.5);
      expect(quantile(dO, 0.5)).toBeLessThan(3.5);
      expect(Math.max(...dO)).toBeLessThan(6.5);
      expect(Math.min(...dO)).toBeLessThan(0.8); // untreated discharges pull DO towards zero
      const ph = r.map((x) => x.ph);
      expect(quantile(ph, 0.02)).toBeGreaterThan(6.9);
      expect(quantile(ph, 0.98)).toBeLessThan(8);
      expect(
        quantile(
          r.map((x) => x.conductivity),
          0.5,
        ),
      ).toBeGreaterThan(240);
      expect(
        quantile(
          r.map((x) => x.conductivity),
          0.5,
        ),
      ).toBeLessThan(360);
      expect(Math.min(...r.map((x) => x.turbidity))).toBeGreaterThanOrEqual(0);
      for (const x of r) {
        expect(x.water_temperature).toBeGreaterThan(20);
        expect(x.water_temperature).toBeLessThan(34);
        expect(x.battery).toBeGreaterThanOrEqual(0);
        expect(x.battery).toBeLessThanOrEqual(100);
      }
    }
  });

  it('DO follows a daily cycle: mid-afternoon above pre-dawn', () => {
    const start = at('2026-03-01T00:00:00+07:00');
    const m = model('normal', start);
    const s = site(stations[0]!);
    const byHour = (lo: number, hi: number) =>
      mean(
        Array.from({ length: 30 * 48 }, (_, i) => start + i * 30 * 60_000)
          .filter((t) => localHour(t) >= lo && localHour(t) < hi)
          .map((t) => canalReading(m, s, t).do),
      );
    expect(byHour(14, 16)).toBeGreaterThan(1.5 * byHour(3, 5));
  });

  it('the rainy season runs higher than the dry season, and the level rises after rain', () => {
    const s = site(stations[2]!);
    const levels = (month: string) => {
      const start = at(`${month}T00:00:00+07:00`);
      const m = model('normal', start);
      return Array.from({ length: 30 * 24 * 4 }, (_, i) => canalLevel(m, s, start + i * 15 * 60_000));
    };
    const dry = levels('2026-03-01');
    const wet = levels('2026-09-01');
    expect(mean(wet.map((x) => x.level))).toBeGreaterThan(1.5 * mean(dry.map((x) => x.level)));
    expect(
      correlation(
        wet.map((x) => x.runoff),
        wet.map((x) => x.level),
      ),
    ).toBeGreaterThan(0.8);
    // Rain leads the level: the level an hour after rain correlates better than the level before it.
    const rain = wet.map((x) => x.rain);
    const later = wet.map((x) => x.level).slice(4);
    const earlier = wet.map((x) => x.level).slice(0, -4);
    expect(correlation(rain.slice(0, -4), later)).toBeGreaterThan(correlation(rain.slice(4), earlier));
    const peak = Math.max(...wet.map((x) => x.level));
    expect(peak).toBeGreaterThan(mean(wet.map((x) => x.level)) + 0.3);
  });

  it('flood: every station rises fast past its warning and critical levels, then recedes; downstream later', () => {
    const simStart = at('2026-08-20T00:00:00+07:00');
    const m = model('flood', simStart);
    const crossings: number[] = [];
    for (const st of stations) {
      const s = site(st);
      const series = Array.from({ length: 16 * 12 }, (_, i) => {
        const t = simStart + i * 5 * 60_000;
        return { t, level: canalLevel(m, s, t).level };
      });
      const state = (l: number) => assessCanalLevel(l, st.levels)?.state;
      expect(state(series[0]!.level)).toBe('normal');
      const warn = series.find((p) => state(p.level) !== 'normal');
      const crit = series.find((p) => state(p.level) === 'critical' || state(p.level) === 'overbank');
      expect(warn, st.id).toBeDefined();
      expect(crit, st.id).toBeDefined();
      expect(crit!.t - simStart).toBeLessThan(4 * HOUR);
      const maxRise = Math.max(...series.slice(12).map((p, i) => (p.level - series[i]!.level) / 1)); // per hour (12 x 5 min)
      expect(maxRise).toBeGreaterThan(0.3); // city.json riseRateWarningMPerHour
      expect(state(series.at(-1)!.level)).toBe('normal');
      crossings.push(warn!.t);
    }
    // Chang Phueak (upstream, north) before Pa Daet (downstream, south).
    expect(crossings[0]!).toBeLessThan(crossings[4]!);
  });

  it('flood parameters: peak as a fraction of bank height; bad parameters are named', () => {
    const simStart = at('2026-08-20T00:00:00+07:00');
    const s = site(stations[0]!);
    const m = model('flood:peak=1.1,onset=0,rise=1h,lag=0', simStart);
    expect(canalLevel(m, s, simStart + 1.5 * HOUR).level).toBeCloseTo(2.2, 6); // overbank: 1.1 x 2.0 m
    expect(() => createCanalScenario('flood:peak=9', { simStart })).toThrow(/peak/);
    expect(() => createCanalScenario('flood:height=2', { simStart })).toThrow(/unknown parameter "height"/);
    expect(() => createCanalScenario('tsunami', { simStart })).toThrow(/unknown canal scenario/);
    expect(() => createCanalScenario('rain:share=2', { simStart })).toThrow(/share/);
  });

  it('probe fouling drifts slowly over the 28-day service cycle: DO reads low, turbidity high', () => {
    const m = model();
    const t = at('2026-08-21T15:00:00+07:00');
    // Two probes at the same station (same water), at different points of their service cycles.
    const ids = Array.from({ length: 40 }, (_, i) => `probe-${i}`);
    const byFouling = ids.map((id) => ({ id, f: fouling(m, { deviceId: id }, t) })).sort((a, b) => a.f - b.f);
    const clean = byFouling[0]!;
    const dirty = byFouling.at(-1)!;
    expect(dirty.f - clean.f).toBeGreaterThan(0.8);
    const read = (id: string) => canalReading(m, { ...site(stations[0]!), deviceId: id }, t);
    expect(read(dirty.id).do).toBeLessThan(read(clean.id).do * 0.92);
    expect(read(dirty.id).turbidity).toBeGreaterThan(read(clean.id).turbidity + 3);
    expect(read(dirty.id).days_since_service).toBeGreaterThan(20);
    // The cycle: a day's drift is small; a service resets it.
    const f0 = fouling(m, { deviceId: 'x' }, t);
    const f1 = fouling(m, { deviceId: 'x' }, t + DAY);
    if (f1 > f0) expect(f1 - f0).toBeCloseTo(1 / SERVICE_PERIOD_DAYS, 9);
    else expect(f1).toBeLessThan(1 / SERVICE_PERIOD_DAYS + 1e-9);
    const cycle = Array.from({ length: 60 }, (_, d) =>
      canalReading(m, { ...site(stations[0]!), deviceId: 'x' }, t + d * DAY),
    );
    expect(cycle.some((r) => r.service_due)).toBe(true);
    expect(cycle.some((r) => r.days_since_service === 0)).toBe(true);
  });
});
