/**
 * The city the dashboard serves, as its pages need it (built on the server from the city pack,
 * $lib/server/city.ts, and passed as layout data). useCity() makes the pack's words and time zone the
 * ones every message and date uses: the dashboard's code names no city, canal or zone.
 */
import { setCityTimeZone } from './format';
import { type Lang, setCityWords } from './i18n';

type Text = { th: string; en: string };

export interface CityView {
  id: string;
  name: Text;
  /** IANA time zone (city.json). */
  timezone: string;
  /** The water page, when the pack has water stations: its name (city.json waterwayPage), if given. */
  water: { name: Text | null } | null;
  /** The names of the pack's waterway lines, for the map's description. */
  waterways: Text[];
}

/** The words a city gives the message catalogue: {city}, {water}, {andWater}, {layers}. */
export function cityWords(city: CityView): Record<Lang, Record<string, string>> {
  const words = (lang: Lang) => {
    const water = city.water?.name?.[lang] ?? (lang === 'th' ? 'ระดับน้ำ' : 'Water levels');
    const names = city.waterways.map((w) => w[lang]);
    return {
      city: city.name[lang],
      water,
      andWater: city.water?.name ? (lang === 'th' ? ` และ${water}` : ` and the ${water}`) : '',
      layers: names.length === 0 ? '' : lang === 'th' ? ` ${names.join(' ')}` : `, ${names.join(', ')}`,
    };
  };
  return { th: words('th'), en: words('en') };
}

/** Makes `city` the one the messages and dates speak of (called by the root layout, server and browser). */
export function useCity(city: CityView): void {
  setCityTimeZone(city.timezone);
  setCityWords(cityWords(city));
}
