/**
 * Climatology of the valley cities of upper northern Thailand used as the seasonal baseline, one value
 * per month (Jan..Dec), interpolated smoothly between mid-months. The city packs of the region share it
 * (their smoke season and monsoon are the same within the model's accuracy).
 *
 * PM2.5: representative monthly means (µg/m³) in the shape of Pollution Control Department (Air4Thai)
 * stations of the upper north in recent years: the dry / burning season (Feb–Apr, peak March) is
 * several times the rainy season (Jun–Sep). These are plausible simulation targets, not official
 * statistics. Temperature / humidity: approximate Thai Meteorological Department normals of the
 * region's valley cities (hot dry April, cool dry Dec–Jan with a wide daily range, humid rainy season
 * with a narrow one).
 */
const PM25_MONTHLY = [38, 55, 80, 62, 25, 13, 10, 10, 12, 16, 24, 32];
const TEMP_MEAN_MONTHLY = [21.5, 23.5, 26.5, 29.0, 28.5, 27.5, 27.0, 26.5, 26.5, 25.5, 23.5, 21.0];
/** Half the daily range (°C): dry season days swing ~15 °C, rainy season days ~7 °C. */
const TEMP_HALF_RANGE_MONTHLY = [7.5, 8.0, 8.0, 7.0, 5.5, 4.0, 3.5, 3.5, 3.5, 4.5, 6.0, 7.0];
const RH_MEAN_MONTHLY = [68, 58, 52, 56, 70, 78, 81, 84, 83, 79, 75, 72];

export interface SeasonalBaseline {
  pm25: number;
  temperatureMean: number;
  temperatureHalfRange: number;
  humidityMean: number;
  /** 0 (rainy season) .. 1 (peak burning season): drives inversion strength and smoke share. */
  dryness: number;
}

const DAY_MS = 86_400_000;

/** Fractional month position (0 = mid-January) of a local-time instant; wraps over the year. */
function monthPosition(localMs: number): number {
  const d = new Date(localMs);
  const y = d.getUTCFullYear();
  const m = d.getUTCMonth();
  const daysInMonth = new Date(Date.UTC(y, m + 1, 1)).getTime() / DAY_MS - Date.UTC(y, m, 1) / DAY_MS;
  const dayFrac = (localMs - Date.UTC(y, m, 1)) / DAY_MS / daysInMonth;
  return m + dayFrac - 0.5;
}

function interp(table: readonly number[], pos: number): number {
  const n = table.length;
  const k = Math.floor(pos);
  const f = pos - k;
  const a = table[((k % n) + n) % n] as number;
  const b = table[(((k + 1) % n) + n) % n] as number;
  const s = (1 - Math.cos(Math.PI * f)) / 2; // cosine interpolation: no kinks at mid-month
  return a + (b - a) * s;
}

export function seasonalBaseline(localMs: number): SeasonalBaseline {
  const pos = monthPosition(localMs);
  const pm25 = interp(PM25_MONTHLY, pos);
  return {
    pm25,
    temperatureMean: interp(TEMP_MEAN_MONTHLY, pos),
    temperatureHalfRange: interp(TEMP_HALF_RANGE_MONTHLY, pos),
    humidityMean: interp(RH_MEAN_MONTHLY, pos),
    dryness: Math.min(1, Math.max(0, (pm25 - 10) / 70)),
  };
}

const bump = (h: number, centre: number, width: number): number => {
  let d = Math.abs(h - centre);
  if (d > 12) d = 24 - d; // hours wrap around midnight
  return Math.exp(-(d * d) / (2 * width * width));
};

/**
 * Daily PM multiplier by local hour (mean ≈ 1). The nocturnal inversion traps emissions from the
 * evening until the morning traffic peak (~07–09); the afternoon mixed layer dilutes them, so the
 * minimum is mid-afternoon — the pattern the region's stations show most clearly in the dry season.
 */
export function dailyPmFactor(localHour: number): number {
  return (
    0.86 +
    0.36 * bump(localHour, 7.5, 2.2) +
    0.3 * bump(localHour, 21.5, 2.8) +
    0.12 * bump(localHour, 2, 3) -
    0.34 * bump(localHour, 15, 2.6)
  );
}

/** Daily temperature shape in [-1, 1]: minimum near sunrise (06), maximum mid-afternoon (15). */
export function dailyTemperatureShape(localHour: number): number {
  const h = ((localHour % 24) + 24) % 24;
  if (h >= 6 && h < 15) return -Math.cos((Math.PI * (h - 6)) / 9);
  const since = h >= 15 ? h - 15 : h + 9; // hours since 15:00, 0..15
  return Math.cos((Math.PI * since) / 15);
}
