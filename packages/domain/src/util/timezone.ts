/**
 * Local time in a city's IANA time zone (city.json `timezone`), with Intl only: no zone is written in
 * code. Used wherever a person reads a time (alert texts, event payloads) or a local day matters.
 */

const partsCache = new Map<string, Intl.DateTimeFormat>();

function fields(timeZone: string, at: number): Record<'year' | 'month' | 'day' | 'hour' | 'minute' | 'second', number> {
  let f = partsCache.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    partsCache.set(timeZone, f);
  }
  const out = { year: 0, month: 0, day: 0, hour: 0, minute: 0, second: 0 };
  for (const p of f.formatToParts(at)) if (p.type in out) out[p.type as keyof typeof out] = Number(p.value);
  return out;
}

/** The offset of `timeZone` from UTC at the instant `at` (epoch ms), in ms: east of Greenwich is positive. */
export function timeZoneOffsetMs(timeZone: string, at: number): number {
  const f = fields(timeZone, at);
  const asUtc = Date.UTC(f.year, f.month - 1, f.day, f.hour, f.minute, f.second);
  return asUtc - Math.floor(at / 1000) * 1000;
}

const pad = (n: number) => String(n).padStart(2, '0');

/** An offset in ms as RFC 3339 writes it: "+07:00", "-03:30", "+00:00". */
export function formatUtcOffset(offsetMs: number): string {
  const m = Math.round(Math.abs(offsetMs) / 60_000);
  return `${offsetMs < 0 ? '-' : '+'}${pad(Math.floor(m / 60))}:${pad(m % 60)}`;
}

/** Local date and time to the minute, "YYYY-MM-DD HH:MM". */
export function formatLocalMinute(ts: number, timeZone: string): string {
  const f = fields(timeZone, ts);
  return `${f.year}-${pad(f.month)}-${pad(f.day)} ${pad(f.hour)}:${pad(f.minute)}`;
}

/** RFC 3339 local time with its offset, to the second: "2025-03-10T14:00:00+07:00". */
export function localIsoTime(ts: number, timeZone: string): string {
  const f = fields(timeZone, ts);
  const date = `${f.year}-${pad(f.month)}-${pad(f.day)}T${pad(f.hour)}:${pad(f.minute)}:${pad(f.second)}`;
  return `${date}${formatUtcOffset(timeZoneOffsetMs(timeZone, ts))}`;
}

/** Start (epoch ms) of the local calendar day holding `ts`. */
export function localDayStart(ts: number, timeZone: string): number {
  const f = fields(timeZone, ts);
  const midnightAsUtc = Date.UTC(f.year, f.month - 1, f.day);
  // The offset in force at that midnight (it may differ from now's across a daylight-saving change).
  const guess = midnightAsUtc - timeZoneOffsetMs(timeZone, ts);
  return midnightAsUtc - timeZoneOffsetMs(timeZone, guess);
}
