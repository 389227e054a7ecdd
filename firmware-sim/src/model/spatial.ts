import type { GeoPoint } from '@cnx/domain';
import { signed, unit } from '../util/random';

/**
 * Origin of the local kilometres for a site that carries no city centre (hand-made test sites): the
 * centre of the default city pack. Devices from a pack carry their own pack's centre (`reference`).
 */
export const DEFAULT_REFERENCE: GeoPoint = { lat: 18.7953, lon: 98.9986 };

/** Local east/north kilometres from a reference point (equirectangular: fine at city scale). */
export function toLocalKm(p: GeoPoint, ref: GeoPoint = DEFAULT_REFERENCE): { x: number; y: number } {
  const x = (p.lon - ref.lon) * 111.32 * Math.cos((ref.lat * Math.PI) / 180);
  const y = (p.lat - ref.lat) * 110.57;
  return { x, y };
}

const WAVES = 4;

/**
 * A smooth random field over space and time in about [-1, 1]: a sum of a few plane waves with
 * wavelengths of 3–12 km drifting over 3–12 hours. Stations a few hundred metres apart see almost the
 * same value; stations across the city differ, which is how neighbouring sensors correlate in reality.
 */
export function spatialField(seed: number, x: number, y: number, t: number): number {
  let sum = 0;
  for (let k = 0; k < WAVES; k++) {
    const theta = unit(seed, 'wave-dir', k) * 2 * Math.PI;
    const lambdaKm = 3 + 9 * unit(seed, 'wave-len', k);
    const periodMs = (3 + 9 * unit(seed, 'wave-period', k)) * 3_600_000;
    const phase = signed(seed, 'wave-phase', k) * Math.PI;
    const along = x * Math.cos(theta) + y * Math.sin(theta);
    sum += Math.sin((2 * Math.PI * along) / lambdaKm + (2 * Math.PI * t) / periodMs + phase);
  }
  return sum / Math.sqrt(WAVES * 0.5) / 2; // normalise: a sum of N unit sines has std sqrt(N/2)
}
