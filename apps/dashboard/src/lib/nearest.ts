/** "Near me": the stations nearest a position (great-circle distance), for the browser. */

export interface Located {
  id: string;
  location: { lat: number; lon: number };
}

/** Great-circle distance in metres (haversine, mean Earth radius). */
export function distanceM(a: { lat: number; lon: number }, b: { lat: number; lon: number }): number {
  const rad = Math.PI / 180;
  const h =
    Math.sin(((b.lat - a.lat) * rad) / 2) ** 2 +
    Math.cos(a.lat * rad) * Math.cos(b.lat * rad) * Math.sin(((b.lon - a.lon) * rad) / 2) ** 2;
  return 2 * 6_371_008.8 * Math.asin(Math.min(1, Math.sqrt(h)));
}

/** The `n` stations nearest `at`, nearest first (ties by id), with their distances. */
export function nearest<S extends Located>(
  stations: readonly S[],
  at: { lat: number; lon: number },
  n = 3,
): { station: S; metres: number }[] {
  return stations
    .map((station) => ({ station, metres: distanceM(at, station.location) }))
    .sort((a, b) => a.metres - b.metres || a.station.id.localeCompare(b.station.id))
    .slice(0, n);
}
