/**
 * Thailand AQI, Pollution Control Department (PCD), table in force from 1 June 2023, for PM2.5 and
 * PM10 24-hour means (Air4Thai uses a continuous, rolling 24-hour mean updated hourly).
 *
 * Source: Air4Thai / PCD AQI definition page (tables 1–2, "เกณฑ์ดัชนีคุณภาพอากาศ") and the Thai
 * government notices of May 2023 that moved the 24-hour PM2.5 standard from 50 to 37.5 µg/m³.
 * Colours: the RGB values on the Air4Thai definition page. See docs/domain-facts.md in /work/shared.
 *
 * Input precision (project rule, stated because PCD does not spell it out): the tables are written
 * with one decimal for PM2.5 and whole numbers for PM10, so the concentration is ROUNDED half up to
 * that precision before lookup (15.04 → 15.0 → 25; 15.05 → 15.1 → 26). The EPA truncates instead;
 * PCD gives no truncation rule, and rounding is the reading of a table written to that precision.
 * The index is rounded half up to an integer.
 *
 * Above 200 (red band, PM2.5 ≥ 75.1, PM10 ≥ 181) PCD defines no number, only "> 200". Project
 * convention `cnx-extrapolated`: the red band starts at 201 at its first concentration and keeps the
 * orange band's slope, I = 201 + (C − Cred) × (200 − 101) / (Chi,orange − Clo,orange). That keeps the
 * index continuous and monotonic (75.0 → 200, 75.1 → 201) and unbounded; results carry
 * `beyondScale: true` and `convention: 'cnx-extrapolated'` so the API can mark them.
 */
import { roundTo } from '../util/round';
import { findBreakpoint, interpolate, isValidConcentration, makeResult } from './scale';
import type { AqiBandInfo, AqiBreakpoint, AqiPollutant, AqiResult } from './types';

export const TH_PCD_2023_SCHEME = 'th-pcd-2023' as const;

export interface ThaiPollutantTable {
  /** Decimals the table is written with; inputs are rounded to it. */
  decimals: number;
  /** Bands with a defined index (0–200). */
  rows: readonly AqiBreakpoint[];
  /** First concentration of the red band (index > 200, no upper bound defined by PCD). */
  redFrom: number;
}

/**
 * Every number of the PCD 2023 table. Source: Air4Thai AQI definition page, in force 1 June 2023.
 * AQI 0–25 | 26–50 | 51–100 | 101–200 | > 200.
 */
export const TH_PCD_2023_BREAKPOINTS: Readonly<Record<AqiPollutant, ThaiPollutantTable>> = {
  pm25: {
    decimals: 1,
    rows: [
      { cLo: 0, cHi: 15.0, iLo: 0, iHi: 25, band: 0 },
      { cLo: 15.1, cHi: 25.0, iLo: 26, iHi: 50, band: 1 },
      { cLo: 25.1, cHi: 37.5, iLo: 51, iHi: 100, band: 2 },
      { cLo: 37.6, cHi: 75.0, iLo: 101, iHi: 200, band: 3 },
    ],
    redFrom: 75.1,
  },
  pm10: {
    decimals: 0,
    rows: [
      { cLo: 0, cHi: 50, iLo: 0, iHi: 25, band: 0 },
      { cLo: 51, cHi: 80, iLo: 26, iHi: 50, band: 1 },
      { cLo: 81, cHi: 120, iLo: 51, iHi: 100, band: 2 },
      { cLo: 121, cHi: 180, iLo: 101, iHi: 200, band: 3 },
    ],
    redFrom: 181,
  },
};

/** Index at the first concentration of the red band under the project's convention. */
export const TH_RED_BAND_START_INDEX = 201;

export type ThaiBandId = 'very_good' | 'good' | 'moderate' | 'starts_to_affect_health' | 'affects_health';

/**
 * Bands, colours and advice. Advice paraphrases the PCD / DustBoy definition pages: "risk groups"
 * (กลุ่มเสี่ยง / ผู้ที่ต้องดูแลสุขภาพเป็นพิเศษ) are children, the elderly, pregnant women and people with
 * heart or lung disease.
 */
export const TH_PCD_2023_BANDS: readonly (AqiBandInfo & { id: ThaiBandId })[] = [
  {
    id: 'very_good',
    level: 0,
    color: '#3BCCFF', // rgb(59, 204, 255)
    colorName: { th: 'ฟ้า', en: 'blue' },
    label: { th: 'คุณภาพอากาศดีมาก', en: 'Very good' },
    advice: {
      general: {
        th: 'อากาศดีมาก ทำกิจกรรมกลางแจ้งและเดินทางท่องเที่ยวได้ตามปกติ',
        en: 'Very good air: outdoor activities and travel as normal.',
      },
      sensitive: {
        th: 'ทำกิจกรรมกลางแจ้งได้ตามปกติ',
        en: 'Outdoor activities as normal.',
      },
    },
  },
  {
    id: 'good',
    level: 1,
    color: '#92D050', // rgb(146, 208, 80)
    colorName: { th: 'เขียว', en: 'green' },
    label: { th: 'คุณภาพอากาศดี', en: 'Good' },
    advice: {
      general: {
        th: 'ทำกิจกรรมกลางแจ้งและเดินทางท่องเที่ยวได้ตามปกติ',
        en: 'Outdoor activities and travel as normal.',
      },
      sensitive: {
        th: 'ทำกิจกรรมกลางแจ้งได้ตามปกติ',
        en: 'Outdoor activities as normal.',
      },
    },
  },
  {
    id: 'moderate',
    level: 2,
    color: '#FFFF00', // rgb(255, 255, 0)
    colorName: { th: 'เหลือง', en: 'yellow' },
    label: { th: 'ปานกลาง', en: 'Moderate' },
    advice: {
      general: {
        th: 'ทำกิจกรรมกลางแจ้งได้ตามปกติ',
        en: 'Outdoor activities as normal.',
      },
      sensitive: {
        th: 'หากมีอาการ เช่น ไอ หายใจลำบาก หรือระคายเคืองตา ควรลดเวลาทำกิจกรรมกลางแจ้ง',
        en: 'If you have symptoms such as coughing, difficulty breathing or eye irritation, spend less time outdoors.',
      },
    },
  },
  {
    id: 'starts_to_affect_health',
    level: 3,
    color: '#FFA200', // rgb(255, 162, 0)
    colorName: { th: 'ส้ม', en: 'orange' },
    label: { th: 'เริ่มมีผลกระทบต่อสุขภาพ', en: 'Starting to affect health' },
    advice: {
      general: {
        th: 'เฝ้าระวังอาการ หากไอ หายใจลำบาก หรือระคายเคืองตา ควรลดเวลาทำกิจกรรมกลางแจ้ง หรือใช้อุปกรณ์ป้องกันตนเองเมื่อจำเป็น',
        en: 'Watch for symptoms; if you cough, have difficulty breathing or eye irritation, spend less time outdoors or wear protection when you need to go out.',
      },
      sensitive: {
        th: 'ลดเวลาทำกิจกรรมกลางแจ้ง หรือใช้อุปกรณ์ป้องกันตนเองเมื่อจำเป็น หากมีอาการ เช่น ไอ หายใจลำบาก แน่นหน้าอก ปวดศีรษะ หรือใจสั่น ควรไปพบแพทย์',
        en: 'Spend less time outdoors or wear protection when you need to go out; see a doctor if symptoms appear (cough, difficulty breathing, chest tightness, headache, irregular heartbeat).',
      },
    },
  },
  {
    id: 'affects_health',
    level: 4,
    color: '#F04646', // rgb(240, 70, 70)
    colorName: { th: 'แดง', en: 'red' },
    label: { th: 'มีผลกระทบต่อสุขภาพ', en: 'Affecting health' },
    advice: {
      general: {
        th: 'ทุกคนควรหลีกเลี่ยงกิจกรรมกลางแจ้งและพื้นที่ที่มีมลพิษสูง ใช้อุปกรณ์ป้องกันตนเองเมื่อต้องออกนอกอาคาร หากมีอาการควรไปพบแพทย์',
        en: 'Everyone should avoid outdoor activities and polluted areas, wear protection when going out, and see a doctor if symptoms appear.',
      },
      sensitive: {
        th: 'ควรอยู่ในอาคารและงดกิจกรรมกลางแจ้ง ใช้อุปกรณ์ป้องกันตนเองเมื่อจำเป็นต้องออกนอกอาคาร หากมีอาการควรรีบไปพบแพทย์',
        en: 'Stay indoors and avoid outdoor activity; wear protection if you must go out, and see a doctor promptly if symptoms appear.',
      },
    },
  },
];

/** Round a concentration to the precision the PCD table is written with (see header). */
export function thaiInputConcentration(pollutant: AqiPollutant, concentration: number): number {
  return roundTo(concentration, TH_PCD_2023_BREAKPOINTS[pollutant].decimals);
}

/**
 * Thai AQI sub-index for one pollutant's 24-hour mean (µg/m³). Undefined for a negative or
 * non-finite concentration.
 */
export function thaiAqi(pollutant: AqiPollutant, concentration: number): AqiResult | undefined {
  if (!isValidConcentration(concentration)) return undefined;
  const table = TH_PCD_2023_BREAKPOINTS[pollutant];
  const c = thaiInputConcentration(pollutant, concentration);
  const row = findBreakpoint(table.rows, c);
  if (row) {
    return makeResult(
      TH_PCD_2023_SCHEME,
      pollutant,
      TH_PCD_2023_BANDS[row.band]!,
      interpolate(row, c),
      c,
      concentration,
      'standard',
    );
  }
  const orange = table.rows[table.rows.length - 1]!;
  const slope = (orange.iHi - orange.iLo) / (orange.cHi - orange.cLo);
  const value = roundTo(TH_RED_BAND_START_INDEX + slope * (c - table.redFrom), 0);
  const red = TH_PCD_2023_BANDS[TH_PCD_2023_BANDS.length - 1]!;
  return makeResult(TH_PCD_2023_SCHEME, pollutant, red, value, c, concentration, 'cnx-extrapolated');
}
