import { describe, expect, it } from 'vitest';
import { formatLocalMinute, formatUtcOffset, localDayStart, localIsoTime, timeZoneOffsetMs } from './timezone';

const T = Date.UTC(2025, 2, 10, 23, 30, 15); // 10 March 2025 23:30:15 UTC

describe('local time in a named zone', () => {
  it('follows the zone, east and west of Greenwich, with and without daylight saving', () => {
    expect(timeZoneOffsetMs('UTC', T)).toBe(0);
    expect(timeZoneOffsetMs('Asia/Kolkata', T)).toBe(5.5 * 3_600_000);
    expect(timeZoneOffsetMs('America/New_York', T)).toBe(-4 * 3_600_000); // EDT from 9 March 2025
    expect(timeZoneOffsetMs('America/New_York', Date.UTC(2025, 0, 10))).toBe(-5 * 3_600_000);
    expect(formatUtcOffset(5.5 * 3_600_000)).toBe('+05:30');
    expect(formatUtcOffset(-4 * 3_600_000)).toBe('-04:00');
    expect(formatUtcOffset(0)).toBe('+00:00');
  });

  it('formats the local minute and an RFC 3339 local time, crossing midnight', () => {
    expect(formatLocalMinute(T, 'UTC')).toBe('2025-03-10 23:30');
    expect(formatLocalMinute(T, 'Asia/Tokyo')).toBe('2025-03-11 08:30');
    expect(localIsoTime(T, 'Asia/Tokyo')).toBe('2025-03-11T08:30:15+09:00');
    expect(localIsoTime(T, 'America/New_York')).toBe('2025-03-10T19:30:15-04:00');
    expect(new Date(localIsoTime(T, 'Asia/Kolkata')).getTime()).toBe(T);
  });

  it('finds the start of the local day', () => {
    expect(localDayStart(T, 'UTC')).toBe(Date.UTC(2025, 2, 10));
    expect(localDayStart(T, 'Asia/Tokyo')).toBe(Date.UTC(2025, 2, 10, 15)); // 11 March 00:00 +09:00
    // New York's 9 March 2025 began in EST (-05:00), the clocks went forward at 02:00.
    expect(localDayStart(Date.UTC(2025, 2, 9, 20), 'America/New_York')).toBe(Date.UTC(2025, 2, 9, 5));
  });
});
