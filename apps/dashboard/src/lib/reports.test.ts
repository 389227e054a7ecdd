import { describe, expect, it } from 'vitest';
import { projectMercator } from './geo';
import { reportsCatalogue, tr } from './i18n.reports';
import { invertMercator, mergedReports } from './reports';

describe('citizen reports on the dashboard', () => {
  it('inverts the map projection (a tap on the map is the place it shows)', () => {
    const m = { k: 40_000, tx: -69_000, ty: 13_500 };
    const [x, y] = projectMercator(m, 98.9853, 18.7883);
    const [lon, lat] = invertMercator(m, x, y);
    expect(lon).toBeCloseTo(98.9853, 9);
    expect(lat).toBeCloseTo(18.7883, 9);
  });

  it('merges the server list with live events, each report once, oldest first', () => {
    const f = (id: number, text: string) =>
      ({
        type: 'Feature',
        id,
        geometry: { type: 'Point', coordinates: [99, 18.8] },
        properties: { id, text },
      }) as never;
    const out = mergedReports([f(2, 'b'), f(1, 'a')], { 3: f(3, 'c'), 2: f(2, 'b2') });
    expect(out.map((r: { id: number }) => r.id)).toEqual([1, 2, 3]);
    expect((out[1] as { properties: { text: string } }).properties.text).toBe('b2');
  });

  it('has every message in Thai and English', () => {
    expect(Object.keys(reportsCatalogue.en).sort()).toEqual(Object.keys(reportsCatalogue.th).sort());
    for (const lang of ['th', 'en'] as const)
      for (const [k, v] of Object.entries(reportsCatalogue[lang])) expect(v.trim(), `${lang}.${k}`).not.toBe('');
    expect(tr('th', 'navReport')).toMatch(/[\u0E00-\u0E7F]/);
    expect(tr('en', 'sentBody', { id: 7 })).toContain('Report number 7');
  });
});
