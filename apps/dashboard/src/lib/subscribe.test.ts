import { describe, expect, it } from 'vitest';
import { alertsCatalogue, ta } from './i18n.alerts';

describe('alert messages', () => {
  it('has every key in both languages, Thai in Thai', () => {
    expect(Object.keys(alertsCatalogue.en).sort()).toEqual(Object.keys(alertsCatalogue.th).sort());
    expect(ta('th', 'subTitle')).toMatch(/[\u0E00-\u0E7F]/);
    expect(ta('en', 'subTitle')).not.toMatch(/[\u0E00-\u0E7F]/);
    expect(ta('en', 'since', { t: '5 Mar 2025, 13:00' })).toBe('since 5 Mar 2025, 13:00');
  });
});
