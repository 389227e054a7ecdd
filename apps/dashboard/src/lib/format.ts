import { type Lang, t } from './i18n';

/**
 * The city's IANA time zone (city pack city.json `timezone`): every time on the dashboard is the city's
 * local time. Set once from the layout's data ($lib/city.ts useCity), on the server and in the browser:
 * one dashboard serves one city.
 */
let timeZone: string | undefined;

export function setCityTimeZone(zone: string): void {
  if (zone === timeZone) return;
  new Intl.DateTimeFormat('en', { timeZone: zone }); // a RangeError for a zone the runtime does not know
  timeZone = zone;
  cache.clear();
  for (const listener of zoneListeners) listener();
}

/** The city's time zone; an error before the layout has set it (no silent default zone). */
export function cityTimeZone(): string {
  if (timeZone === undefined) throw new Error('the city time zone is not set: setCityTimeZone (layout data) first');
  return timeZone;
}

const zoneListeners = new Set<() => void>();
/** Lets modules with their own zone caches (timeaxis.ts) drop them when the zone is set. */
export const onCityTimeZone = (listener: () => void): void => void zoneListeners.add(listener);

/** BCP 47 tag per language: Thai readers expect Buddhist-era years (2568 = 2025). */
export const LOCALE: Readonly<Record<Lang, string>> = { th: 'th-TH-u-ca-buddhist', en: 'en-GB' };

const cache = new Map<string, Intl.DateTimeFormat | Intl.NumberFormat>();
function dtf(lang: Lang, key: string, options: Intl.DateTimeFormatOptions): Intl.DateTimeFormat {
  const k = `d:${lang}:${key}`;
  let f = cache.get(k) as Intl.DateTimeFormat | undefined;
  if (!f) {
    f = new Intl.DateTimeFormat(LOCALE[lang], { timeZone: cityTimeZone(), ...options });
    cache.set(k, f);
  }
  return f;
}
function nf(lang: Lang, digits: number): Intl.NumberFormat {
  const k = `n:${lang}:${digits}`;
  let f = cache.get(k) as Intl.NumberFormat | undefined;
  if (!f) {
    f = new Intl.NumberFormat(lang === 'th' ? 'th-TH' : 'en-GB', {
      minimumFractionDigits: digits,
      maximumFractionDigits: digits,
    });
    cache.set(k, f);
  }
  return f;
}

const toDate = (t: string | number | Date): Date => (t instanceof Date ? t : new Date(t));

/** A number in the locale with a fixed number of decimals; `–` for missing values. */
export function formatNumber(value: number | null | undefined, lang: Lang, digits = 1): string {
  return value == null || !Number.isFinite(value) ? '–' : nf(lang, digits).format(value);
}

/** A distance for people: "350 ม." / "350 m" under a kilometre, "1.2 กม." / "1.2 km" above. */
export function distanceText(metres: number, lang: Lang): string {
  if (metres < 950) return t(lang, 'distanceM', { n: formatNumber(Math.round(metres / 10) * 10, lang, 0) });
  return t(lang, 'distanceKm', { n: formatNumber(metres / 1000, lang, metres < 9_950 ? 1 : 0) });
}

/** Date and time, e.g. "5 มี.ค. 2568 13:00" (Thai, Buddhist era) or "5 Mar 2025, 13:00". */
export function formatDateTime(t: string | number | Date, lang: Lang): string {
  return dtf(lang, 'dt', {
    day: 'numeric',
    month: 'short',
    year: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
    hour12: false,
  }).format(toDate(t));
}

/** Time of day only, "13:05". */
export function formatTime(t: string | number | Date, lang: Lang): string {
  return dtf(lang, 't', { hour: '2-digit', minute: '2-digit', hour12: false }).format(toDate(t));
}

/** A date only, "5 มี.ค. 2568". */
export function formatDate(t: string | number | Date, lang: Lang): string {
  return dtf(lang, 'd', { day: 'numeric', month: 'short', year: 'numeric' }).format(toDate(t));
}

/** The Buddhist-era year of a date in the city (Gregorian + 543). */
export const buddhistYear = (t: string | number | Date): number =>
  Number(dtf('en', 'y', { year: 'numeric' }).format(toDate(t))) + 543;

const rtf = new Map<Lang, Intl.RelativeTimeFormat>();

/**
 * How old a value is, in the reader's language: "2 นาทีที่ผ่านมา", "3 hours ago" (Intl). Under a
 * minute it counts seconds, so a fresh value never reads "0 minutes ago".
 */
export function formatAge(seconds: number, lang: Lang): string {
  let f = rtf.get(lang);
  if (!f) {
    f = new Intl.RelativeTimeFormat(lang === 'th' ? 'th-TH' : 'en-GB', { numeric: 'auto' });
    rtf.set(lang, f);
  }
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return f.format(-s, 'second');
  if (s < 3600) return f.format(-Math.floor(s / 60), 'minute');
  if (s < 2 * 86_400) return f.format(-Math.floor(s / 3600), 'hour');
  return f.format(-Math.floor(s / 86_400), 'day');
}

/** "7 ธ.ค. 2569 11:14 · 2 นาทีที่ผ่านมา": a value's time in the reader's locale and its age at `now`. */
export function formatWhen(t: string | number | Date, now: number, lang: Lang): string {
  return `${formatDateTime(t, lang)} · ${formatAge((now - toDate(t).getTime()) / 1000, lang)}`;
}
