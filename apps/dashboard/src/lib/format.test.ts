import { describe, expect, it } from 'vitest';
import { buddhistYear, formatDate, formatDateTime, formatNumber, formatTime } from './format';

const T = '2025-03-01T06:05:00.000Z'; // 13:05 in Chiang Mai

describe('format', () => {
  it('writes Thai dates with Buddhist-era years in the city time zone', () => {
    const th = formatDateTime(T, 'th');
    expect(th).toContain('2568');
    expect(th).toContain('13:05');
    expect(th).toContain('มี.ค.');
    expect(formatDate(T, 'th')).toContain('2568');
    expect(buddhistYear(T)).toBe(2568);
  });

  it('writes English dates with Gregorian years', () => {
    const en = formatDateTime(T, 'en');
    expect(en).toContain('2025');
    expect(en).toContain('13:05');
    expect(en).toContain('Mar');
    expect(formatTime(T, 'en')).toBe('13:05');
  });

  it('uses the city day, not UTC, around midnight', () => {
    expect(formatDate('2024-12-31T17:30:00Z', 'en')).toContain('1 Jan 2025');
  });

  it('formats numbers with fixed decimals and a dash for missing values', () => {
    expect(formatNumber(37.46, 'en')).toBe('37.5');
    expect(formatNumber(1234.5, 'en', 0)).toBe('1,235');
    expect(formatNumber(null, 'th')).toBe('–');
    expect(formatNumber(Number.NaN, 'th')).toBe('–');
    expect(formatNumber(12, 'th', 2)).toBe('12.00');
  });
});

describe('ages', () => {
  it('says how old a value is, in Thai and English', async () => {
    const { formatAge, formatWhen } = await import('./format');
    expect(formatAge(30, 'en')).toBe('30 seconds ago');
    expect(formatAge(125, 'en')).toBe('2 minutes ago');
    expect(formatAge(3 * 3600 + 5, 'en')).toBe('3 hours ago');
    expect(formatAge(125, 'th')).toBe('2 นาทีที่ผ่านมา');
    expect(formatAge(5 * 86_400, 'th')).toBe('5 วันที่ผ่านมา');
    const when = formatWhen(T, Date.parse(T) + 120_000, 'th');
    expect(when).toContain('2568');
    expect(when).toContain('13:05');
    expect(when).toContain('2 นาทีที่ผ่านมา');
  });
});
