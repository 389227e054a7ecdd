import { cityTimeZone, LOCALE, onCityTimeZone } from './format';
import type { Lang } from './i18n';

/**
 * The trend chart's time axis, for uPlot's own axis API: `incrs` (the steps uPlot may choose from),
 * `space` (the least room between two ticks; uPlot picks the smallest step that leaves it), `splits`
 * (where the ticks of the chosen step fall) and `values` (their labels). Every tick falls on a round
 * time of the city (its pack's zone: hours, local midnights, Mondays, the 1st of a month, 1 January) and
 * every label is written in the reader's language: Thai with Thai month abbreviations and Buddhist-era
 * years (2569 = 2026), English as en-GB; both on the 24-hour clock. Times are epoch seconds (uPlot's).
 */

export const MINUTE_S = 60;
export const HOUR_S = 3600;
export const DAY_S = 86_400;
/** uPlot's convention: a "month" step is 30 days, a "year" step 365; splits() walks real months. */
export const MONTH_S = 30 * DAY_S;
export const YEAR_S = 365 * DAY_S;

/** The steps between ticks, smallest first: enough for a zoomed-in hour up to a decade. */
export const TIME_INCRS: readonly number[] = [
  5 * MINUTE_S,
  10 * MINUTE_S,
  15 * MINUTE_S,
  30 * MINUTE_S,
  HOUR_S,
  2 * HOUR_S,
  3 * HOUR_S,
  6 * HOUR_S,
  12 * HOUR_S,
  DAY_S,
  2 * DAY_S,
  7 * DAY_S,
  14 * DAY_S,
  MONTH_S,
  2 * MONTH_S,
  3 * MONTH_S,
  6 * MONTH_S,
  YEAR_S,
  2 * YEAR_S,
  5 * YEAR_S,
  10 * YEAR_S,
];

/** Least room between two x ticks in CSS pixels: a Thai "12 มี.ค." or "2569" needs about 45. */
export const X_TICK_SPACE = 64;

/** The step uPlot chooses (its findIncr): the smallest of `incrs` that leaves `space` px per tick. */
export function chooseIncr(min: number, max: number, widthPx: number, space = X_TICK_SPACE): number {
  const span = max - min;
  if (!(span > 0) || !(widthPx > 0)) return TIME_INCRS[0]!;
  return TIME_INCRS.find((incr) => (widthPx * incr) / span >= space) ?? TIME_INCRS[TIME_INCRS.length - 1]!;
}

// ---- the city's calendar -------------------------------------------------------------------------

let zoneParts: Intl.DateTimeFormat | undefined;
const offsetCache = new Map<number, number>();
const formatters = new Map<string, Intl.DateTimeFormat>();
onCityTimeZone(() => {
  zoneParts = undefined;
  offsetCache.clear();
  formatters.clear();
});
const parts = (): Intl.DateTimeFormat =>
  (zoneParts ??= new Intl.DateTimeFormat('en-US', {
    timeZone: cityTimeZone(),
    calendar: 'gregory',
    numberingSystem: 'latn',
    hourCycle: 'h23',
    year: 'numeric',
    month: 'numeric',
    day: 'numeric',
    hour: 'numeric',
    minute: 'numeric',
    second: 'numeric',
  }));

/** The city's offset from UTC in seconds at `epochS` (a zone seven hours east of UTC: always +7 h). */
export function zoneOffsetS(epochS: number): number {
  const hour = Math.floor(epochS / HOUR_S);
  let off = offsetCache.get(hour);
  if (off === undefined) {
    const p: Record<string, number> = {};
    for (const { type, value } of parts().formatToParts(new Date(hour * HOUR_S * 1000))) p[type] = Number(value);
    const local = Date.UTC(p.year!, p.month! - 1, p.day!, p.hour!, p.minute!, p.second!) / 1000;
    off = local - hour * HOUR_S;
    if (offsetCache.size > 10_000) offsetCache.clear();
    offsetCache.set(hour, off);
  }
  return off;
}

/** The city's calendar date and time at `epochS` (month 0–11). */
export interface Civil {
  y: number;
  m: number;
  d: number;
  h: number;
  min: number;
}
export function civil(epochS: number): Civil {
  const t = new Date((epochS + zoneOffsetS(epochS)) * 1000);
  return { y: t.getUTCFullYear(), m: t.getUTCMonth(), d: t.getUTCDate(), h: t.getUTCHours(), min: t.getUTCMinutes() };
}

/** Epoch seconds of a wall-clock time of the city (month 0–11; days and months may overflow). */
export function fromCivil(y: number, m: number, d = 1, h = 0): number {
  const local = Date.UTC(y, m, d, h) / 1000;
  const guess = local - zoneOffsetS(local);
  return local - zoneOffsetS(guess);
}

/** The start of the city's interval of `stepS` holding `epochS` (steps of a day or less). */
export function alignDown(epochS: number, stepS: number): number {
  const off = zoneOffsetS(epochS);
  return Math.floor((epochS + off) / stepS) * stepS - off;
}

/**
 * A Date whose local fields (getHours(), getDate()…) are the city's wall clock at `epochS`: uPlot's
 * `tzDate` contract (as uPlot.tzDate(date, tz), without loading uPlot here).
 */
export function cityDate(epochS: number): Date {
  const c = civil(epochS);
  return new Date(c.y, c.m, c.d, c.h, c.min, Math.floor(epochS) % 60);
}

// ---- splits --------------------------------------------------------------------------------------

/** Epoch day 0 (1 January 1970) was a Thursday: day numbers ≡ 4 (mod 7) are Mondays. */
const MONDAY = 4;

/**
 * Tick positions for a step uPlot chose, on round times of the city: steps under a day on multiples
 * of the step from local midnight; day steps on local midnights (7 and 14 days on Mondays); month
 * steps on the 1st of months that are multiples of the step (quarters on January, April…); year steps
 * on 1 January.
 */
export function timeSplits(min: number, max: number, incr: number): number[] {
  const out: number[] = [];
  if (!Number.isFinite(min) || !Number.isFinite(max) || max < min || !(incr > 0)) return out;
  if (incr < DAY_S) {
    const off = zoneOffsetS(min);
    for (let t = Math.ceil((min + off) / incr) * incr - off; t <= max; t += incr) out.push(t);
  } else if (incr < 28 * DAY_S) {
    const days = Math.max(1, Math.round(incr / DAY_S));
    const c = civil(min);
    let day = Math.floor(Date.UTC(c.y, c.m, c.d) / 1000 / DAY_S);
    if (fromCivil(c.y, c.m, c.d) < min) day++;
    const phase = days % 7 === 0 ? MONDAY : 0;
    day += (((phase - day) % days) + days) % days;
    for (; ; day += days) {
      const d = new Date(day * DAY_S * 1000);
      const t = fromCivil(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate());
      if (t > max) break;
      out.push(t);
    }
  } else if (incr < YEAR_S) {
    const months = Math.max(1, Math.round(incr / MONTH_S));
    const c = civil(min);
    let index = c.y * 12 + c.m;
    if (fromCivil(c.y, c.m) < min) index++;
    index += (((0 - index) % months) + months) % months;
    for (; ; index += months) {
      const t = fromCivil(Math.floor(index / 12), index % 12);
      if (t > max) break;
      out.push(t);
    }
  } else {
    const years = Math.max(1, Math.round(incr / YEAR_S));
    let y = civil(min).y;
    if (fromCivil(y, 0) < min) y++;
    y += (((0 - y) % years) + years) % years;
    for (; fromCivil(y, 0) <= max; y += years) out.push(fromCivil(y, 0));
  }
  return out;
}

// ---- labels --------------------------------------------------------------------------------------

function fmt(lang: Lang, kind: 'time' | 'dayMonth' | 'month' | 'year'): Intl.DateTimeFormat {
  const key = `${lang}:${kind}`;
  let f = formatters.get(key);
  if (!f) {
    const options: Intl.DateTimeFormatOptions =
      kind === 'time'
        ? { hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }
        : kind === 'dayMonth'
          ? { day: 'numeric', month: 'short' }
          : kind === 'month'
            ? { month: 'short' }
            : { year: 'numeric' };
    f = new Intl.DateTimeFormat(LOCALE[lang], { timeZone: cityTimeZone(), numberingSystem: 'latn', ...options });
    formatters.set(key, f);
  }
  return f;
}

/** The year number alone in the reader's calendar: 2569 in Thai (not "พ.ศ. 2569"), 2026 in English. */
export function yearLabel(epochS: number, lang: Lang): string {
  const parts = fmt(lang, 'year').formatToParts(new Date(epochS * 1000));
  return parts.find((p) => p.type === 'year')?.value ?? '';
}

const sameDay = (a: Civil, b: Civil) => a.y === b.y && a.m === b.m && a.d === b.d;

/**
 * The labels of the ticks at `splits` for the step `incr`, as uPlot's `axes[].values`. A label may
 * have a second line (uPlot draws "\n" as a new line) that gives the context of the first tick and of
 * each change, as uPlot's own defaults do:
 * - under a day: "13:00"; the first tick and each new day add the date ("13:00\n5 มี.ค. 2569" first,
 *   then "00:00\n6 มี.ค.");
 * - days and weeks: "5 มี.ค."; the first tick and each new year add the year ("5 มี.ค.\n2569");
 * - months: "มี.ค."; the first tick and each January add the year;
 * - years: "2569".
 */
export function timeLabels(splits: readonly number[], incr: number, lang: Lang): string[] {
  let prev: Civil | null = null;
  return splits.map((t) => {
    const c = civil(t);
    const date = new Date(t * 1000);
    const first = prev === null;
    const newYear = prev !== null && prev.y !== c.y;
    const newDay = prev !== null && !sameDay(prev, c);
    prev = c;
    if (incr < DAY_S) {
      const time = fmt(lang, 'time').format(date);
      if (first || newYear) return `${time}\n${fmt(lang, 'dayMonth').format(date)} ${yearLabel(t, lang)}`;
      return newDay ? `${time}\n${fmt(lang, 'dayMonth').format(date)}` : time;
    }
    if (incr < 28 * DAY_S) {
      const day = fmt(lang, 'dayMonth').format(date);
      return first || newYear ? `${day}\n${yearLabel(t, lang)}` : day;
    }
    if (incr < YEAR_S) {
      const month = fmt(lang, 'month').format(date);
      return first || newYear ? `${month}\n${yearLabel(t, lang)}` : month;
    }
    return yearLabel(t, lang);
  });
}
