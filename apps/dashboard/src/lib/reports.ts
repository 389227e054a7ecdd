/**
 * Citizen reports on the dashboard (issue 12 item 3): the server's approved reports (GET /v1/reports)
 * merged with the live ones (reports.svelte.ts), and the browser helpers of the report page.
 */
import type { ReportFeature } from '@cnx/api-client';
import type { CityMap } from './geo';

/** The server's approved reports and the live ones, oldest first, each once. */
export function mergedReports(
  server: readonly ReportFeature[] | null | undefined,
  live: Record<number, ReportFeature>,
): ReportFeature[] {
  const byId = new Map<number, ReportFeature>();
  for (const r of server ?? []) byId.set(r.id, r);
  for (const r of Object.values(live)) byId.set(r.id, r);
  return [...byId.values()].sort((a, b) => a.id - b.id);
}

/** [lon, lat] of a map point: the inverse of projectMercator (spherical Mercator, CityMap.mercator). */
export function invertMercator(m: CityMap['mercator'], x: number, y: number): [number, number] {
  const deg = 180 / Math.PI;
  const lon = ((x - m.tx) / m.k) * deg;
  const lat = (2 * Math.atan(Math.exp((m.ty - y) / m.k)) - Math.PI / 2) * deg;
  return [lon, lat];
}

/** Largest photo the API takes (decoded bytes); checked here too so a resident hears it at once. */
export const MAX_PHOTO_BYTES = 4 * 1024 * 1024;

/** A file's bytes as base64 (what POST /v1/reports takes), without a data: prefix. */
export async function fileToBase64(file: Blob): Promise<string> {
  const bytes = new Uint8Array(await file.arrayBuffer());
  let bin = '';
  const CHUNK = 0x8000;
  for (let i = 0; i < bytes.length; i += CHUNK) bin += String.fromCharCode(...bytes.subarray(i, i + CHUNK));
  return btoa(bin);
}

export const REPORT_CATEGORIES = ['smoke', 'open_burning', 'canal_flooding', 'polluted_water'] as const;

/** The map and legend symbol of a citizen report: a pin whose tip is the reported point (0, 0). */
export const REPORT_PIN = 'M0 0 L-5 -8 A6.5 6.5 0 1 1 5 -8 Z';
