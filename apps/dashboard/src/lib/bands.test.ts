import type { AqiIndex, DistrictSummary, StationLatest } from '@cnx/api-client';
import { AQI_BANDS } from '@cnx/domain';
import { describe, expect, it } from 'vitest';
import {
  BAND_SHAPES,
  basisKey,
  basisShortKey,
  contrastRatio,
  holdOrder,
  primaryIndex,
  sameOrder,
  shapeOf,
  shapePath,
  sortDistrictsWorstFirst,
  sortStationsWorstFirst,
  stationId,
  textOn,
} from './bands';

const idx = (level: number, value: number, official = true): AqiIndex =>
  ({
    level,
    value,
    band: `b${level}`,
    color: '#000000',
    official,
    averaging: official ? 'rolling24h' : 'nowcast',
  }) as unknown as AqiIndex;
/** A station as /v1/latest gives it: `band` is the official index when valid, else the "now" one. */
const station = (id: string, band: AqiIndex | null, hour1: number | null = null, us: AqiIndex | null = null) =>
  ({
    station: { id },
    air: {
      aqi: { th: band?.official ? band : null, now: band?.official ? null : band, us, band },
      pm25: { hour1: hour1 == null ? null : { value: hour1 } },
    },
  }) as unknown as StationLatest;

describe('bands', () => {
  it('gives each band level its own marker shape, so colour is not the only cue', () => {
    expect(new Set(BAND_SHAPES).size).toBe(BAND_SHAPES.length);
    expect(BAND_SHAPES.length).toBeGreaterThanOrEqual(AQI_BANDS['th-pcd-2023'].length);
    expect(shapeOf(null)).toBe('none');
    expect(shapeOf(0)).toBe('circle');
    expect(shapeOf(4)).toBe('octagon');
    expect(shapeOf(9)).toBe('octagon');
    for (const s of [...BAND_SHAPES, 'none' as const]) expect(shapePath(s, 10)).toMatch(/^M.*Z$/);
  });

  it('puts readable text on every band colour of both schemes (WCAG AA for large text, 3:1)', () => {
    for (const bands of Object.values(AQI_BANDS)) {
      for (const b of bands) expect(contrastRatio(b.color, textOn(b.color)), b.id).toBeGreaterThanOrEqual(3);
    }
    expect(textOn('#ffffff')).toBe('#000000');
    expect(textOn('#000000')).toBe('#ffffff');
  });

  it('sorts stations worst first; stations without an index last, by their current hour', () => {
    const list = [
      station('a', idx(1, 40)),
      station('b', null, 80),
      station('c', idx(3, 150)),
      station('d', idx(3, 120)),
      station('e', null, null),
    ];
    expect(sortStationsWorstFirst(list).map((s) => s.station.id)).toEqual(['c', 'd', 'a', 'b', 'e']);
  });

  it('ranks and colours by the Thai band, official or "now", never by the US AQI', () => {
    const fresh = station('fresh', idx(2, 60, false), 30, idx(3, 140));
    const old = station('old', idx(1, 40));
    const usOnly = station('us-only', null, 12, idx(4, 180));
    expect(primaryIndex(fresh)).toMatchObject({ value: 60, official: false });
    expect(primaryIndex(usOnly)).toBeNull();
    expect(sortStationsWorstFirst([old, usOnly, fresh]).map((s) => s.station.id)).toEqual(['fresh', 'old', 'us-only']);
    expect(basisKey(idx(1, 40))).toBe('basisOfficial');
    expect(basisKey(idx(1, 40, false))).toBe('basisNowcast');
    expect(basisKey({ averaging: 'hour1' })).toBe('basisHour1');
    expect(basisShortKey(idx(1, 40, false))).toBe('basisShortNow');
  });

  it('sorts districts worst first', () => {
    const d = (id: string, band: AqiIndex | null, hour1Mean: number | null = null) =>
      ({
        district: { id },
        aqi: { th: band, us: null, now: null, band },
        pm25: { hour1Mean },
      }) as unknown as DistrictSummary;
    expect(
      sortDistrictsWorstFirst([d('x', null, 5), d('y', idx(4, 210)), d('z', idx(0, 10))]).map((x) => x.district.id),
    ).toEqual(['y', 'z', 'x']);
  });

  it('holds the order first shown while the ranking changes, and follows it when rows come or go', () => {
    const before = sortStationsWorstFirst([
      station('a', idx(1, 40)),
      station('b', idx(1, 45)),
      station('c', idx(0, 10)),
    ]);
    const held = before.map(stationId);
    expect(held).toEqual(['b', 'a', 'c']);
    // Live data: c is now the worst. The rows stay where they were, with the new values.
    const after = sortStationsWorstFirst([
      station('a', idx(1, 40)),
      station('b', idx(1, 45)),
      station('c', idx(3, 160)),
    ]);
    const shown = holdOrder(after, held, stationId);
    expect(shown.map(stationId)).toEqual(['b', 'a', 'c']);
    expect(shown[2]!.air!.aqi.band!.value).toBe(160);
    expect(sameOrder(shown, after, stationId)).toBe(false);
    // Re-sorting on request: the held order becomes the ranking.
    expect(holdOrder(after, after.map(stationId), stationId).map(stationId)).toEqual(['c', 'b', 'a']);
    // Nothing held yet, a row added, or a row replaced: the ranking itself.
    expect(holdOrder(after, null, stationId)).toEqual(after);
    const more = [...after, station('d', null)];
    expect(holdOrder(more, held, stationId)).toEqual(more);
    expect(holdOrder(after, ['b', 'a', 'x'], stationId)).toEqual(after);
    expect(sameOrder(after, [...after], stationId)).toBe(true);
  });
});
