/**
 * Water stations along their waterways: each canal station may name the line in waterways.geojson
 * its gauge stands on; lines are drawn in the direction of flow, so a station's distance along its
 * line is its place from upstream to downstream. Pure: validate.ts calls it with parsed documents.
 */
import type { Station } from '@cnx/domain';
import type { CityPackError, CityPackWarning } from './errors';
import { locateOnLine, type WaterwayFeature } from './geo';
import { pointer } from './schema-errors';

/** How far a gauge may stand from the line of its waterway (lines are approximate, hand-drawn). */
export const MAX_WATERWAY_OFFSET_M = 300;

/** A canal station's place on its waterway. */
export interface FlowPosition {
  stationId: string;
  /** Waterway id from waterways.geojson, or null when the station names none. */
  waterway: string | null;
  /** Metres from the start (upstream end) of the line to the gauge; null without a waterway. */
  alongM: number | null;
}

export interface FlowResult {
  /** Canal stations upstream to downstream, waterway by waterway (in waterways.geojson order), then those without one. */
  order: FlowPosition[];
  errors: CityPackError[];
  warnings: CityPackWarning[];
}

/**
 * Checks the `canal.waterway` of every canal station (known line, gauge near it) and orders the
 * stations along their waterways. `stationWaterway` gives each station's declared waterway id (if any)
 * and its index in stations.json (for the JSON Pointer).
 */
export function flowOrder(
  stations: readonly Station[],
  stationWaterway: ReadonlyMap<string, { waterway?: string; index: number }>,
  waterways: readonly WaterwayFeature[] | undefined,
): FlowResult {
  const errors: CityPackError[] = [];
  const warnings: CityPackWarning[] = [];
  const byId = new Map((waterways ?? []).map((w) => [w.properties.id, w]));
  const placed: FlowPosition[] = [];
  const loose: FlowPosition[] = [];
  for (const s of stations) {
    if (s.kind !== 'canal') continue;
    const decl = stationWaterway.get(s.id);
    const path = pointer('stations', decl?.index ?? 0, 'canal', 'waterway');
    if (decl?.waterway === undefined) {
      const msg = `canal station "${s.id}" names no waterway (canal.waterway), so it is listed after those that do`;
      warnings.push({ code: 'station_without_waterway', file: 'stations.json', path, message: msg });
      loose.push({ stationId: s.id, waterway: null, alongM: null });
      continue;
    }
    if (!waterways) continue; // waterways.geojson itself is broken: reported there
    const line = byId.get(decl.waterway);
    if (!line) {
      const message = `station "${s.id}" names waterway "${decl.waterway}", which is not in waterways.geojson`;
      errors.push({ code: 'unknown_waterway', file: 'stations.json', path, message, value: decl.waterway });
      continue;
    }
    const at = locateOnLine(s.location, line.geometry.coordinates);
    if (!at || at.offsetM > MAX_WATERWAY_OFFSET_M) {
      const off = at ? `${Math.round(at.offsetM)} m` : 'unknown distance';
      const message = `station "${s.id}" is ${off} from waterway "${decl.waterway}" (at most ${MAX_WATERWAY_OFFSET_M} m)`;
      errors.push({ code: 'off_waterway', file: 'stations.json', path, message, value: s.location });
      continue;
    }
    placed.push({ stationId: s.id, waterway: decl.waterway, alongM: Math.round(at.alongM) });
  }
  const rank = new Map((waterways ?? []).map((w, i) => [w.properties.id, i]));
  placed.sort(
    (a, b) =>
      (rank.get(a.waterway ?? '') ?? 0) - (rank.get(b.waterway ?? '') ?? 0) ||
      (a.alongM ?? 0) - (b.alongM ?? 0) ||
      a.stationId.localeCompare(b.stationId),
  );
  loose.sort((a, b) => a.stationId.localeCompare(b.stationId));
  return { order: [...placed, ...loose], errors, warnings };
}
