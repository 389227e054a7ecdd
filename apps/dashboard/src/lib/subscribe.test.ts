import { describe, expect, it } from 'vitest';
import { alertsCatalogue, ta } from './i18n.alerts';
import { distanceKm, nearestStation } from './subscribe';

describe('near me', () => {
  const stations = [
    { id: 'a', location: { lat: 18.7883, lon: 98.9853 } }, // Three Kings Monument
    { id: 'b', location: { lat: 18.8, lon: 98.967 } },
  ];
  it('measures great-circle distances (1° of latitude is about 111.2 km)', () => {
    expect(distanceKm({ lat: 18, lon: 99 }, { lat: 19, lon: 99 })).toBeCloseTo(111.2, 1);
    expect(distanceKm(stations[0]!.location, stations[0]!.location)).toBe(0);
  });
  it('picks the nearest station and says how far', () => {
    expect(nearestStation(stations, { lat: 18.789, lon: 98.984 })).toMatchObject({ station: { id: 'a' } });
    expect(nearestStation(stations, { lat: 18.801, lon: 98.966 })?.km).toBeLessThan(0.2);
    expect(nearestStation([], { lat: 0, lon: 0 })).toBeUndefined();
  });
});

describe('alert messages', () => {
  it('has every key in both languages, Thai in Thai', () => {
    expect(Object.keys(alertsCatalogue.en).sort()).toEqual(Object.keys(alertsCatalogue.th).sort());
    expect(ta('th', 'subTitle')).toMatch(/[\u0E00-\u0E7F]/);
    expect(ta('en', 'subTitle')).not.toMatch(/[\u0E00-\u0E7F]/);
    expect(ta('en', 'since', { t: '5 Mar 2025, 13:00' })).toBe('since 5 Mar 2025, 13:00');
  });
});
