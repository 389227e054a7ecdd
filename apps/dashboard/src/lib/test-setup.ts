/**
 * Unit tests run as the layout does: with the default city pack's words and time zone in effect (a
 * test that is about another pack or zone sets its own with useCity / setCityTimeZone).
 */
import { DEFAULT_CITY_ID, loadCityPackSync, resolveCityDir } from '@cnx/city-pack';
import { setCityTimeZone } from './format';

const pack = loadCityPackSync(resolveCityDir(DEFAULT_CITY_ID));
if (!pack.ok) throw new Error(`the ${DEFAULT_CITY_ID} city pack is invalid`);
setCityTimeZone(pack.value.city.timezone);
