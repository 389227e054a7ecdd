import { AQI_BANDS, TH_PCD_2023_BREAKPOINTS } from '@cnx/domain';

/** One row of the map legend: a Thai AQI band with its colour, index range and PM2.5 range. */
export interface LegendRow {
  level: number;
  color: string;
  label: { th: string; en: string };
  /** "0–25", …, "> 200". */
  index: string;
  /** The 24-hour PM2.5 range in µg/m³: "0–15.0", …, "≥ 75.1". */
  pm25: string;
}

/**
 * The legend of the Thai index (PCD 2023), from the same tables the AQI is computed with, so the
 * legend can never disagree with the markers. Built on the server: the domain tables stay out of
 * the page's JavaScript.
 */
export function thaiLegend(): LegendRow[] {
  const table = TH_PCD_2023_BREAKPOINTS.pm25;
  return AQI_BANDS['th-pcd-2023'].map((b) => {
    const row = table.rows.find((r) => r.band === b.level);
    return {
      level: b.level,
      color: b.color,
      label: b.label,
      index: row ? `${row.iLo}–${row.iHi}` : `> ${table.rows[table.rows.length - 1]!.iHi}`,
      pm25: row ? `${row.cLo.toFixed(1)}–${row.cHi.toFixed(1)}` : `≥ ${table.redFrom.toFixed(1)}`,
    };
  });
}
