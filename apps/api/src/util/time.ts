import { badParameter } from '../errors';

export const MINUTE_MS = 60_000;
export const HOUR_MS = 3_600_000;
export const DAY_MS = 86_400_000;

/**
 * What the API accepts as a time: an RFC 3339 date-time with an explicit offset
 * (`2025-03-01T13:00:00+07:00`, `2025-03-01T06:00:00.250Z`) or a plain date (`2025-03-01`), which
 * means 00:00 in the city's time zone. Upper-case T and Z, as in RFC 3339 section 5.6's examples.
 */
export const TIME_PATTERN = '^\\d{4}-\\d{2}-\\d{2}(T\\d{2}:\\d{2}(:\\d{2}(\\.\\d{1,9})?)?(Z|[+-]\\d{2}:\\d{2}))?$';
const TIME_RE = new RegExp(TIME_PATTERN);
const PARTS = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(?:Z|([+-])(\d{2}):(\d{2})))?$/;

/** Earliest and latest times the API accepts (the store needs integer epoch ms; data starts after 2000). */
export const MIN_TIME = Date.UTC(2000, 0, 1);
export const MAX_TIME = Date.UTC(2100, 0, 1);

/** Parses a time parameter to epoch ms, or throws a 400 `invalid_time` naming the parameter. */
export function parseTime(name: string, text: string, cityOffsetMs: number): number {
  const bad = (problem: string) =>
    badParameter(
      'query',
      name,
      problem,
      'RFC 3339 date-time with offset (2025-03-01T13:00:00+07:00) or a date (2025-03-01)',
      text,
      'invalid_time',
    );
  const m = TIME_RE.test(text) ? PARTS.exec(text) : null;
  if (!m) return fail(bad('is not a date-time'));
  const [, y, mo, d, h = '0', mi = '0', s = '0', frac = '', sign, oh = '0', om = '0'] = m;
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  const hour = Number(h);
  const minute = Number(mi);
  const second = Number(s);
  if (month < 1 || month > 12 || day < 1 || day > 31) return fail(bad('is not a calendar date'));
  if (hour > 23 || minute > 59 || second > 59 || Number(oh) > 23 || Number(om) > 59) {
    return fail(bad('is not a valid time of day'));
  }
  const local = Date.UTC(year, month - 1, day, hour, minute, second, Number(frac.slice(0, 3).padEnd(3, '0')));
  if (new Date(local).getUTCDate() !== day) return fail(bad('is not a calendar date'));
  const hasTime = m[4] !== undefined;
  const offset = !hasTime
    ? cityOffsetMs
    : sign === undefined
      ? 0
      : (sign === '-' ? -1 : 1) * (Number(oh) * HOUR_MS + Number(om) * MINUTE_MS);
  const ts = local - offset;
  if (ts < MIN_TIME || ts > MAX_TIME) return fail(bad('is outside 2000-01-01 .. 2100-01-01'));
  return ts;
}

function fail(e: Error): never {
  throw e;
}

/** Epoch ms as an RFC 3339 UTC string with milliseconds. */
export const iso = (ms: number): string => new Date(ms).toISOString();

/**
 * The offset of `timeZone` from UTC at `at`, ms (a zone seven hours east of Greenwich: +7 h). For zones
 * with daylight saving, daily buckets use the offset in force when the request is made.
 */
export function timeZoneOffsetMs(timeZone: string, at = Date.now()): number {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone,
    hourCycle: 'h23',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  }).formatToParts(at);
  const get = (type: string) => Number(parts.find((p) => p.type === type)?.value ?? Number.NaN);
  const asUtc = Date.UTC(get('year'), get('month') - 1, get('day'), get('hour'), get('minute'), get('second'));
  return asUtc - Math.floor(at / 1000) * 1000;
}

/** "2 days 4 h" style duration for error messages. */
export function describeDuration(ms: number): string {
  if (ms % DAY_MS === 0) return `${ms / DAY_MS} day${ms === DAY_MS ? '' : 's'}`;
  if (ms % HOUR_MS === 0) return `${ms / HOUR_MS} h`;
  return `${Math.round(ms / MINUTE_MS)} min`;
}
