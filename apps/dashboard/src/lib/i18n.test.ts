import { describe, expect, it } from 'vitest';
import { catalogue, DEFAULT_LANG, isLang, langFrom, pick, t } from './i18n';

describe('i18n', () => {
  it('is Thai by default and falls back to Thai for unknown cookie values', () => {
    expect(DEFAULT_LANG).toBe('th');
    expect(langFrom(undefined)).toBe('th');
    expect(langFrom('fr')).toBe('th');
    expect(langFrom('en')).toBe('en');
    expect(isLang('th')).toBe(true);
    expect(isLang('TH')).toBe(false);
  });

  it('has every key in both languages, none empty', () => {
    const th = Object.keys(catalogue.th).sort();
    expect(Object.keys(catalogue.en).sort()).toEqual(th);
    for (const lang of ['th', 'en'] as const) {
      for (const [k, v] of Object.entries(catalogue[lang])) expect(v.trim(), `${lang}.${k}`).not.toBe('');
    }
  });

  it('fills placeholders and leaves unknown ones', () => {
    expect(t('en', 'hoursObserved', { n: 20 })).toBe('20 of 24 hours');
    expect(t('th', 'hoursObserved', { n: 20 })).toBe('20 จาก 24 ชั่วโมง');
    expect(t('en', 'hoursObserved')).toBe('{n} of 24 hours');
  });

  it('the Thai text is Thai and the English text is not', () => {
    expect(t('th', 'navOverview')).toMatch(/[\u0E00-\u0E7F]/);
    expect(t('en', 'navOverview')).not.toMatch(/[\u0E00-\u0E7F]/);
  });

  it('picks a localized API text, falling back to the other language', () => {
    expect(pick({ th: 'ก', en: 'a' }, 'th')).toBe('ก');
    expect(pick({ th: 'ก', en: '' }, 'en')).toBe('ก');
    expect(pick(null, 'en')).toBe('');
  });
});
