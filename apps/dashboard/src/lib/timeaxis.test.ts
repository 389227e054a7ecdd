import { describe, expect, it } from 'vitest';
import {
  alignDown,
  chooseIncr,
  cityDate,
  DAY_S,
  fromCivil,
  HOUR_S,
  MONTH_S,
  TIME_INCRS,
  timeLabels,
  timeSplits,
  YEAR_S,
  yearLabel,
  zoneOffsetS,
} from './timeaxis';

const s = (iso: string) => Date.parse(iso) / 1000;
/** 13:05 in Chiang Mai on 5 March 2026 (Buddhist era 2569). */
const TO = s('2026-03-05T06:05:00Z');
const HH_MM = /^([01]\d|2[0-3]):[0-5]\d$/;
const THAI_MONTHS = ['ม.ค.', 'ก.พ.', 'มี.ค.', 'เม.ย.', 'พ.ค.', 'มิ.ย.', 'ก.ค.', 'ส.ค.', 'ก.ย.', 'ต.ค.', 'พ.ย.', 'ธ.ค.'];

/** The axis as uPlot builds it for a plot `width` px wide: its step (findIncr), splits and labels. */
function axis(hours: number, width: number, lang: 'th' | 'en', to = TO) {
  const from = to - hours * HOUR_S;
  const incr = chooseIncr(from, to, width);
  const splits = timeSplits(from, to, incr);
  return { incr, splits, labels: timeLabels(splits, incr, lang) };
}
/** Wall-clock "HH:MM" of a tick in Chiang Mai. */
const local = (t: number) => new Date((t + 7 * HOUR_S) * 1000).toISOString().slice(11, 16);

describe('the city clock', () => {
  it('is UTC+7 all year (no daylight saving in Chiang Mai)', () => {
    expect(zoneOffsetS(s('2026-01-01T00:00:00Z'))).toBe(7 * HOUR_S);
    expect(zoneOffsetS(s('2026-07-01T00:00:00Z'))).toBe(7 * HOUR_S);
    expect(fromCivil(2026, 2, 5)).toBe(s('2026-03-04T17:00:00Z'));
    expect(alignDown(s('2026-03-05T06:05:00Z'), DAY_S)).toBe(s('2026-03-04T17:00:00Z'));
    expect(alignDown(s('2026-03-05T06:07:00Z'), 300)).toBe(s('2026-03-05T06:05:00Z'));
  });

  it("gives uPlot a Date whose local fields are the city's wall clock (tzDate)", () => {
    const d = cityDate(s('2026-03-04T18:30:00Z'));
    expect([d.getFullYear(), d.getMonth(), d.getDate(), d.getHours(), d.getMinutes()]).toEqual([2026, 2, 5, 1, 30]);
  });
});

describe('the step uPlot chooses for each range', () => {
  it('is the smallest step that leaves the minimum room per tick', () => {
    expect(axis(24, 1000, 'th').incr).toBe(2 * HOUR_S);
    expect(axis(24, 330, 'th').incr).toBe(6 * HOUR_S);
    expect(axis(7 * 24, 1000, 'th').incr).toBe(12 * HOUR_S);
    expect(axis(7 * 24, 330, 'th').incr).toBe(2 * DAY_S);
    expect(axis(30 * 24, 1000, 'th').incr).toBe(2 * DAY_S);
    expect(axis(30 * 24, 330, 'th').incr).toBe(7 * DAY_S);
    expect(axis(365 * 24, 1000, 'th').incr).toBe(MONTH_S);
    expect(axis(365 * 24, 330, 'th').incr).toBe(3 * MONTH_S);
    expect(TIME_INCRS).toEqual([...TIME_INCRS].sort((a, b) => a - b));
  });

  it('gives every range, phone or desktop, 3 to 16 ticks', () => {
    for (const hours of [24, 7 * 24, 30 * 24, 365 * 24])
      for (const width of [330, 600, 1000, 1200]) {
        const n = axis(hours, width, 'th').splits.length;
        expect(n, `${hours} h at ${width} px`).toBeGreaterThanOrEqual(3);
        expect(n, `${hours} h at ${width} px`).toBeLessThanOrEqual(16);
      }
  });
});

describe('splits on round times of the city', () => {
  it('hours on multiples of the step from local midnight', () => {
    const { splits } = axis(24, 1000, 'th');
    expect(splits.map(local)).toEqual(
      ['14', '16', '18', '20', '22', '00', '02', '04', '06', '08', '10', '12'].map((h) => `${h}:00`),
    );
    expect(splits[0]).toBe(s('2026-03-04T07:00:00Z'));
  });

  it('days on local midnights, weeks on Mondays, months on the 1st, quarters from January, years on 1 January', () => {
    const days = timeSplits(TO - 30 * DAY_S, TO, 2 * DAY_S);
    for (const t of days) expect(local(t)).toBe('00:00');
    expect(days[1]! - days[0]!).toBe(2 * DAY_S);
    const weeks = timeSplits(TO - 30 * DAY_S, TO, 7 * DAY_S);
    for (const t of weeks) expect(cityDate(t).getDay()).toBe(1);
    const months = timeSplits(TO - 365 * DAY_S, TO, MONTH_S);
    expect(months).toHaveLength(12);
    for (const t of months) expect([cityDate(t).getDate(), local(t)]).toEqual([1, '00:00']);
    expect(months[0]).toBe(s('2025-03-31T17:00:00Z')); // 1 April 2025 in Chiang Mai
    const quarters = timeSplits(TO - 365 * DAY_S, TO, 3 * MONTH_S);
    expect(quarters.map((t) => cityDate(t).getMonth())).toEqual([3, 6, 9, 0]);
    const years = timeSplits(s('2019-06-01T00:00:00Z'), TO, YEAR_S);
    expect(years.map((t) => cityDate(t).getFullYear())).toEqual([2020, 2021, 2022, 2023, 2024, 2025, 2026]);
    expect(years[0]).toBe(s('2019-12-31T17:00:00Z'));
  });

  it('nothing for an empty or reversed range', () => {
    expect(timeSplits(TO, TO - 1, HOUR_S)).toEqual([]);
    expect(timeSplits(Number.NaN, TO, HOUR_S)).toEqual([]);
  });
});

describe('labels', () => {
  it('24 h in Thai: 24-hour clock, the date with the Buddhist-era year under the first tick, the date at midnight', () => {
    const { labels } = axis(24, 1000, 'th');
    expect(labels[0]).toBe('14:00\n4 มี.ค. 2569');
    expect(labels[1]).toBe('16:00');
    expect(labels[5]).toBe('00:00\n5 มี.ค.');
    for (const l of labels) expect(l.split('\n')[0]).toMatch(HH_MM);
    expect(labels.join(' ')).not.toMatch(/am|pm|2026|\//i);
  });

  it('24 h in English: en-GB, 24-hour clock, Gregorian year', () => {
    const { labels } = axis(24, 1000, 'en');
    expect(labels[0]).toBe('14:00\n4 Mar 2026');
    expect(labels[5]).toBe('00:00\n5 Mar');
    expect(labels.join(' ')).not.toMatch(/am|pm|2569/i);
  });

  it('7 days: 12-hour ticks with the date at each midnight; days on a phone', () => {
    const desktop = axis(7 * 24, 1000, 'th').labels;
    expect(desktop[0]).toBe('00:00\n27 ก.พ. 2569');
    expect(desktop.slice(1, 3)).toEqual(['12:00', '00:00\n28 ก.พ.']);
    expect(axis(7 * 24, 330, 'th').labels).toEqual(['28 ก.พ.\n2569', '2 มี.ค.', '4 มี.ค.']);
  });

  it('30 days: day and Thai month, the Buddhist-era year under the first', () => {
    const { labels } = axis(30 * 24, 1000, 'th');
    expect(labels[0]).toBe('4 ก.พ.\n2569');
    expect(labels.slice(-2)).toEqual(['2 มี.ค.', '4 มี.ค.']);
    expect(axis(30 * 24, 330, 'en').labels).toEqual(['9 Feb\n2026', '16 Feb', '23 Feb', '2 Mar']);
  });

  it('1 year: Thai month abbreviations, the Buddhist-era year under the first tick and January', () => {
    const { labels } = axis(365 * 24, 1000, 'th');
    expect(labels).toEqual([
      'เม.ย.\n2568',
      'พ.ค.',
      'มิ.ย.',
      'ก.ค.',
      'ส.ค.',
      'ก.ย.',
      'ต.ค.',
      'พ.ย.',
      'ธ.ค.',
      'ม.ค.\n2569',
      'ก.พ.',
      'มี.ค.',
    ]);
    for (const l of labels) expect(THAI_MONTHS).toContain(l.split('\n')[0]);
    expect(axis(365 * 24, 330, 'en').labels).toEqual(['Apr\n2025', 'Jul', 'Oct', 'Jan\n2026']);
  });

  it('a new year inside a day range gets its year; year steps are the year alone', () => {
    const labels = axis(24, 330, 'th', s('2026-12-31T23:00:00Z')).labels;
    expect(labels).toContain('00:00\n1 ม.ค. 2570');
    expect(yearLabel(s('2026-06-01T00:00:00Z'), 'th')).toBe('2569');
    expect(yearLabel(s('2026-06-01T00:00:00Z'), 'en')).toBe('2026');
    expect(timeLabels([s('2019-12-31T17:00:00Z'), s('2020-12-31T17:00:00Z')], YEAR_S, 'th')).toEqual(['2563', '2564']);
  });

  it('the city day, not UTC: 23:30 UTC is already the next morning in Chiang Mai', () => {
    expect(timeLabels([s('2026-03-04T23:30:00Z')], 30 * 60, 'en')).toEqual(['06:30\n5 Mar 2026']);
  });
});
