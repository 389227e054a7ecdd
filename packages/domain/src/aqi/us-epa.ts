/**
 * US EPA Air Quality Index for PM2.5 and PM10, with the PM2.5 table of the PM NAAQS final rule
 * signed 7 February 2024 (89 FR 16202, effective 6 May 2024) and EPA's "Technical Assistance
 * Document for the Reporting of Daily Air Quality – the Air Quality Index (AQI)" (the AQI TAD,
 * May 2024 edition), which also holds the PM10 table, the colours and the cautionary statements.
 *
 * Input precision (EPA TAD): truncate PM2.5 to one decimal and PM10 to an integer before lookup,
 * then round the index to the nearest integer. NowCast values go through the same lookup.
 *
 * Above the top breakpoint (PM2.5 > 325.4, PM10 > 604) the TAD calls the value "beyond the AQI" and
 * defines no index. Project convention `cnx-capped`: report 500 (the top of the scale) in the
 * hazardous band with `beyondScale: true`; `concentration` still carries the real value so the API
 * can show "500+ (beyond the AQI)".
 */
import { truncTo } from '../util/round';
import { findBreakpoint, interpolate, isValidConcentration, makeResult } from './scale';
import type { AqiBandInfo, AqiBreakpoint, AqiPollutant, AqiResult } from './types';

export const US_EPA_2024_SCHEME = 'us-epa-2024' as const;

export interface UsPollutantTable {
  /** Decimals kept when truncating the concentration. */
  decimals: number;
  rows: readonly AqiBreakpoint[];
}

/**
 * Every number of the EPA tables.
 * PM2.5: 89 FR 16202 (2024), Table 2 of the AQI TAD 2024; the top band is 225.5–325.4 → 301–500
 * (older code uses 250.5–500.4: the 2024 rule moved it).
 * PM10: AQI TAD 2024 (unchanged breakpoints; the 2024 TAD merges the old 301–400 / 401–500 rows into
 * one hazardous row 425–604 → 301–500).
 */
export const US_EPA_2024_BREAKPOINTS: Readonly<Record<AqiPollutant, UsPollutantTable>> = {
  pm25: {
    decimals: 1,
    rows: [
      { cLo: 0.0, cHi: 9.0, iLo: 0, iHi: 50, band: 0 },
      { cLo: 9.1, cHi: 35.4, iLo: 51, iHi: 100, band: 1 },
      { cLo: 35.5, cHi: 55.4, iLo: 101, iHi: 150, band: 2 },
      { cLo: 55.5, cHi: 125.4, iLo: 151, iHi: 200, band: 3 },
      { cLo: 125.5, cHi: 225.4, iLo: 201, iHi: 300, band: 4 },
      { cLo: 225.5, cHi: 325.4, iLo: 301, iHi: 500, band: 5 },
    ],
  },
  pm10: {
    decimals: 0,
    rows: [
      { cLo: 0, cHi: 54, iLo: 0, iHi: 50, band: 0 },
      { cLo: 55, cHi: 154, iLo: 51, iHi: 100, band: 1 },
      { cLo: 155, cHi: 254, iLo: 101, iHi: 150, band: 2 },
      { cLo: 255, cHi: 354, iLo: 151, iHi: 200, band: 3 },
      { cLo: 355, cHi: 424, iLo: 201, iHi: 300, band: 4 },
      { cLo: 425, cHi: 604, iLo: 301, iHi: 500, band: 5 },
    ],
  },
};

/** Index reported beyond the top breakpoint (project convention `cnx-capped`). */
export const US_EPA_BEYOND_INDEX = 500;

export type UsEpaBandId =
  | 'good'
  | 'moderate'
  | 'unhealthy_for_sensitive_groups'
  | 'unhealthy'
  | 'very_unhealthy'
  | 'hazardous';

/**
 * Categories, EPA colours (TAD: green 0,228,0; yellow 255,255,0; orange 255,126,0; red 255,0,0;
 * purple 143,63,151; maroon 126,0,35) and advice paraphrasing the TAD's PM cautionary statements.
 * Sensitive groups for PM: people with heart or lung disease, older adults, children and teenagers,
 * pregnant people, people of lower socio-economic status, outdoor workers.
 */
export const US_EPA_2024_BANDS: readonly (AqiBandInfo & { id: UsEpaBandId })[] = [
  {
    id: 'good',
    level: 0,
    color: '#00E400',
    colorName: { th: 'เขียว', en: 'green' },
    label: { th: 'ดี', en: 'Good' },
    advice: {
      general: {
        th: 'คุณภาพอากาศเป็นที่น่าพอใจ ทำกิจกรรมกลางแจ้งได้ตามปกติ',
        en: 'Air quality is satisfactory: enjoy outdoor activities.',
      },
      sensitive: { th: 'ทำกิจกรรมกลางแจ้งได้ตามปกติ', en: 'Outdoor activities as normal.' },
    },
  },
  {
    id: 'moderate',
    level: 1,
    color: '#FFFF00',
    colorName: { th: 'เหลือง', en: 'yellow' },
    label: { th: 'ปานกลาง', en: 'Moderate' },
    advice: {
      general: { th: 'ทำกิจกรรมกลางแจ้งได้ตามปกติ', en: 'Outdoor activities as normal.' },
      sensitive: {
        th: 'ผู้ที่ไวต่อฝุ่นเป็นพิเศษควรพิจารณาลดกิจกรรมกลางแจ้งที่ใช้แรงมากหรือใช้เวลานาน',
        en: 'Unusually sensitive people should consider reducing prolonged or heavy exertion outdoors.',
      },
    },
  },
  {
    id: 'unhealthy_for_sensitive_groups',
    level: 2,
    color: '#FF7E00',
    colorName: { th: 'ส้ม', en: 'orange' },
    label: { th: 'ไม่ดีต่อสุขภาพของกลุ่มเสี่ยง', en: 'Unhealthy for sensitive groups' },
    advice: {
      general: { th: 'คนทั่วไปทำกิจกรรมกลางแจ้งได้ตามปกติ', en: 'Most people can keep to normal outdoor activities.' },
      sensitive: {
        th: 'ลดกิจกรรมกลางแจ้งที่ใช้แรงมากหรือใช้เวลานาน พักบ่อยขึ้นและเลือกกิจกรรมที่เบาลง',
        en: 'Reduce prolonged or heavy exertion outdoors: take more breaks and choose less intense activities.',
      },
    },
  },
  {
    id: 'unhealthy',
    level: 3,
    color: '#FF0000',
    colorName: { th: 'แดง', en: 'red' },
    label: { th: 'ไม่ดีต่อสุขภาพ', en: 'Unhealthy' },
    advice: {
      general: { th: 'ลดกิจกรรมกลางแจ้งที่ใช้แรงมากหรือใช้เวลานาน', en: 'Reduce prolonged or heavy exertion outdoors.' },
      sensitive: {
        th: 'หลีกเลี่ยงกิจกรรมกลางแจ้งที่ใช้แรงมากหรือใช้เวลานาน ย้ายกิจกรรมเข้าในอาคารหรือเลื่อนออกไป',
        en: 'Avoid prolonged or heavy exertion outdoors; move activities indoors or reschedule them.',
      },
    },
  },
  {
    id: 'very_unhealthy',
    level: 4,
    color: '#8F3F97',
    colorName: { th: 'ม่วง', en: 'purple' },
    label: { th: 'ไม่ดีต่อสุขภาพอย่างมาก', en: 'Very unhealthy' },
    advice: {
      general: { th: 'หลีกเลี่ยงกิจกรรมกลางแจ้งที่ใช้แรงมากหรือใช้เวลานาน', en: 'Avoid prolonged or heavy exertion outdoors.' },
      sensitive: { th: 'งดกิจกรรมทางกายกลางแจ้งทั้งหมด', en: 'Avoid all physical activity outdoors.' },
    },
  },
  {
    id: 'hazardous',
    level: 5,
    color: '#7E0023',
    colorName: { th: 'แดงเลือดหมู', en: 'maroon' },
    label: { th: 'อันตราย', en: 'Hazardous' },
    advice: {
      general: { th: 'ทุกคนควรงดกิจกรรมทางกายกลางแจ้งทั้งหมด', en: 'Everyone should avoid all physical activity outdoors.' },
      sensitive: {
        th: 'อยู่ในอาคาร ทำกิจกรรมเบา ๆ และลดฝุ่นในอาคาร',
        en: 'Stay indoors, keep activity levels low and keep indoor particle levels low.',
      },
    },
  },
];

/** Truncate a concentration to the precision the EPA table is read with (see header). */
export function usEpaInputConcentration(pollutant: AqiPollutant, concentration: number): number {
  return truncTo(concentration, US_EPA_2024_BREAKPOINTS[pollutant].decimals);
}

/**
 * US EPA AQI sub-index for one pollutant (24-hour mean or NowCast, µg/m³). Undefined for a negative
 * or non-finite concentration.
 */
export function usEpaAqi(pollutant: AqiPollutant, concentration: number): AqiResult | undefined {
  if (!isValidConcentration(concentration)) return undefined;
  const c = usEpaInputConcentration(pollutant, concentration);
  const row = findBreakpoint(US_EPA_2024_BREAKPOINTS[pollutant].rows, c);
  if (row) {
    return makeResult(
      US_EPA_2024_SCHEME,
      pollutant,
      US_EPA_2024_BANDS[row.band]!,
      interpolate(row, c),
      c,
      concentration,
      'standard',
    );
  }
  const top = US_EPA_2024_BANDS[US_EPA_2024_BANDS.length - 1]!;
  return makeResult(US_EPA_2024_SCHEME, pollutant, top, US_EPA_BEYOND_INDEX, c, concentration, 'cnx-capped');
}
