import type { AqiIndex, DistrictSummary, StationLatest } from '@cnx/api-client';
import type { Key } from './i18n';

/**
 * Marker symbols per band level (0 = best), so that colour is never the only cue (WCAG 1.4.1): each
 * band has its own shape, and every marker also carries its AQI number as text.
 */
export const BAND_SHAPES = ['circle', 'square', 'triangle', 'diamond', 'octagon'] as const;
export type BandShape = (typeof BAND_SHAPES)[number] | 'none';

export const NO_DATA_COLOR = '#9aa0a6';

export const shapeOf = (level: number | null | undefined): BandShape =>
  level == null ? 'none' : (BAND_SHAPES[Math.min(Math.max(level, 0), BAND_SHAPES.length - 1)] ?? 'octagon');

/** SVG path of a marker shape centred on 0,0 with "radius" r. */
export function shapePath(shape: BandShape, r: number): string {
  const poly = (n: number, rot: number) =>
    `${Array.from({ length: n }, (_, i) => {
      const a = rot + (i * 2 * Math.PI) / n;
      return `${i ? 'L' : 'M'}${(r * Math.cos(a)).toFixed(2)},${(r * Math.sin(a)).toFixed(2)}`;
    }).join('')}Z`;
  switch (shape) {
    case 'square':
      return poly(4, Math.PI / 4);
    case 'triangle':
      return poly(3, -Math.PI / 2);
    case 'diamond':
      return poly(4, 0);
    case 'octagon':
      return poly(8, Math.PI / 8);
    default:
      return `M${-r},0a${r},${r} 0 1,0 ${2 * r},0a${r},${r} 0 1,0 ${-2 * r},0Z`;
  }
}

/** Relative luminance (WCAG 2.x) of #RRGGBB. */
export function luminance(hex: string): number {
  const m = /^#?([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(hex);
  if (!m) return 0;
  const [r, g, b] = [m[1], m[2], m[3]].map((h) => {
    const c = Number.parseInt(h ?? '0', 16) / 255;
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  }) as [number, number, number];
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}

export const contrastRatio = (a: string, b: string): number => {
  const [l1, l2] = [luminance(a), luminance(b)].sort((x, y) => y - x) as [number, number];
  return (l1 + 0.05) / (l2 + 0.05);
};

/** Black or white, whichever reads better on the band colour. */
export const textOn = (background: string): '#000000' | '#ffffff' =>
  contrastRatio(background, '#000000') >= contrastRatio(background, '#ffffff') ? '#000000' : '#ffffff';

/**
 * The index a station is ranked and coloured by: always the Thai scale (the city's primary scale,
 * never silently the US one): the official 24-hour index when valid, else the "now" index (the API's
 * `aqi.band`; its `official` and `averaging` say which).
 */
export const primaryIndex = (s: Pick<StationLatest, 'air'>): AqiIndex | null => s.air?.aqi.band ?? null;

/** The message that names an index's basis: official 24-hour mean, NowCast or this hour's mean. */
export function basisKey(index: Pick<AqiIndex, 'averaging'>): Key {
  return index.averaging === 'rolling24h'
    ? 'basisOfficial'
    : index.averaging === 'nowcast'
      ? 'basisNowcast'
      : 'basisHour1';
}

/** The short form for badges in lists: "24 h" or "now". */
export const basisShortKey = (index: Pick<AqiIndex, 'official'>): Key =>
  index.official ? 'basisShortOfficial' : 'basisShortNow';

/** A sort key: higher is worse; stations with no index sort last, by their current-hour PM2.5. */
export function badness(s: Pick<StationLatest, 'air'>): number {
  const idx = primaryIndex(s);
  if (idx) return 1_000_000 + idx.level * 10_000 + idx.value;
  return s.air?.pm25.hour1?.value ?? -1;
}

/**
 * `sorted` in the order `held` gives (ids as first shown), so a list holds still while live data
 * refreshes it: a row moving under the reader's finger is exactly what layout shift measures. When
 * nothing is held yet, or the set of rows changed, the list follows `sorted`.
 */
export function holdOrder<T>(sorted: readonly T[], held: readonly string[] | null, id: (item: T) => string): T[] {
  if (!held || held.length !== sorted.length) return [...sorted];
  const byId = new Map(sorted.map((item) => [id(item), item]));
  const out: T[] = [];
  for (const key of held) {
    const item = byId.get(key);
    if (item === undefined) return [...sorted];
    out.push(item);
  }
  return out;
}

/** Whether two lists show the same rows in the same order. */
export const sameOrder = <T>(a: readonly T[], b: readonly T[], id: (item: T) => string): boolean =>
  a.length === b.length && a.every((item, i) => id(item) === id(b[i]!));

export const stationId = (s: Pick<StationLatest, 'station'>): string => s.station.id;

/** Stations worst first (ties by id, so the order is stable). */
export const sortStationsWorstFirst = <T extends Pick<StationLatest, 'air' | 'station'>>(list: readonly T[]): T[] =>
  [...list].sort((a, b) => badness(b) - badness(a) || a.station.id.localeCompare(b.station.id));

export function districtBadness(d: DistrictSummary): number {
  const idx = d.aqi.band;
  if (idx) return 1_000_000 + idx.level * 10_000 + idx.value;
  return d.pm25.hour1Mean ?? -1;
}

export const sortDistrictsWorstFirst = (list: readonly DistrictSummary[]): DistrictSummary[] =>
  [...list].sort((a, b) => districtBadness(b) - districtBadness(a) || a.district.id.localeCompare(b.district.id));

/** A station's newest usable PM2.5 from the server (corrected when the gateway corrected it), with its time. */
export function latestPm25(s: Pick<StationLatest, 'latest'>): { ts: string; value: number | null } | null {
  const r = s.latest;
  if (!r) return null;
  return { ts: r.ts, value: r.corrections.find((c) => c.metric === 'pm25')?.value ?? r.values.pm25 ?? null };
}
