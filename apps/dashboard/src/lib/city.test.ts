import { afterAll, describe, expect, it } from 'vitest';
import { type CityView, cityWords, useCity } from './city';
import { cityTimeZone, formatTime, setCityTimeZone } from './format';
import { t } from './i18n';
import { PACKS } from './test-packs';

const view = (pack: (typeof PACKS)[number][1]): CityView => ({
  id: pack.city.id,
  name: pack.city.name,
  timezone: pack.city.timezone,
  water: pack.stations.some((s) => s.kind === 'canal') ? { name: pack.city.waterwayPage?.name ?? null } : null,
  waterways: pack.waterways.features.map((w) => ({ th: w.properties.name_th, en: w.properties.name_en })),
});
const initialZone = cityTimeZone();
afterAll(() => setCityTimeZone(initialZone));

describe.each(PACKS)('the words of %s', (_id, pack) => {
  it("fill the site name, tagline, map title and water page from the pack's data", () => {
    useCity(view(pack));
    for (const lang of ['th', 'en'] as const) {
      expect(t(lang, 'siteName')).toBe(`cnx-sense ${pack.city.name[lang]}`);
      expect(t(lang, 'mapTitle')).toContain(pack.city.name[lang]);
      const water = pack.city.waterwayPage!.name[lang];
      expect(t(lang, 'tagline')).toContain(water);
      expect(t(lang, 'navCanal')).toBe(water);
      expect(t(lang, 'canalTitle').startsWith(water)).toBe(true);
      for (const w of pack.waterways.features) expect(t(lang, 'mapDesc')).toContain(w.properties[`name_${lang}`]);
      for (const key of ['siteName', 'tagline', 'mapTitle', 'mapDesc', 'canalTitle'] as const)
        expect(t(lang, key), key).not.toMatch(/\{\w+\}/);
      // ...and no other pack's city.
      for (const [, other] of PACKS.filter(([, p]) => p !== pack))
        expect(t(lang, 'siteName')).not.toContain(other.city.name[lang]);
    }
  });
});

describe('a city without water stations and in another zone', () => {
  it('has no water words, and its times follow its own zone', () => {
    const city: CityView = {
      id: 'x',
      name: { th: 'เมืองเอ็กซ์', en: 'X' },
      timezone: 'Asia/Tokyo',
      water: null,
      waterways: [],
    };
    expect(cityWords(city).en).toMatchObject({ andWater: '', layers: '' });
    useCity(city);
    expect(t('en', 'tagline')).toBe('PM2.5 smoke, now');
    expect(t('en', 'mapDesc')).toBe('Districts and stations; colour and symbol give the air-quality band');
    expect(formatTime('2025-03-01T06:05:00Z', 'en')).toBe('15:05');
  });
});
