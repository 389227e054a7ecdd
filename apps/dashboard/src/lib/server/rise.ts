import type { CnxApiClient } from '@cnx/api-client';
import { estimateRise, RISE_DEFAULTS, type RiseEstimate, type RiseSample } from '@cnx/domain';

/**
 * The canal page's rate of rise over RISE_WINDOW (the dashboard's 30 minutes; the API's `rise`
 * looks back an hour), computed here from the water-level readings the quality policy lets in
 * (`qc=usable`), through the typed API client. The computation is `estimateRise` (@cnx/domain,
 * canal-rise.ts), as in the API and the canal_rise alert rule: fixed window, minimum samples and
 * span, and "rising fast" only when the slope minus its 95 % uncertainty is above the threshold.
 */
export const RISE_WINDOW_MS = RISE_DEFAULTS.windowMs;
/** A runaway device must not cost unbounded memory: at most this many readings per station. */
export const RISE_MAX_SAMPLES = 20_000;
const PAGE = 5_000;
/** The estimate is reused for this long: the page's data refreshes every 5 s while readings stream. */
export const RISE_CACHE_MS = 10_000;

type ReadingsClient = Pick<CnxApiClient, 'stationReadingPages'>;

/** Water-level samples of one station in [now − window, now] that the quality policy lets in. */
export async function levelSamples(client: ReadingsClient, stationId: string, now: number): Promise<RiseSample[]> {
  const out: RiseSample[] = [];
  const pages = client.stationReadingPages(stationId, {
    from: new Date(now - RISE_WINDOW_MS),
    to: new Date(now + 1),
    metrics: 'water_level',
    qc: 'usable',
    limit: PAGE,
  });
  for await (const page of pages) {
    for (const r of page.data) {
      const v = r.values.water_level;
      if (typeof v === 'number') out.push({ ts: Date.parse(r.ts), value: v });
    }
    if (out.length >= RISE_MAX_SAMPLES) break;
  }
  return out;
}

const cache = new Map<string, { at: number; estimate: RiseEstimate | null }>();

/**
 * The estimate per canal station (null when its history could not be read: the page then says so,
 * rather than failing as a whole). `thresholdMPerHour` is the city pack's rise-rate warning.
 */
export async function canalRises(
  client: ReadingsClient,
  stations: readonly { id: string; thresholdMPerHour: number }[],
  now: number,
  useCache = true,
): Promise<Record<string, RiseEstimate | null>> {
  const entries = await Promise.all(
    stations.map(async (s): Promise<[string, RiseEstimate | null]> => {
      const hit = useCache ? cache.get(s.id) : undefined;
      if (hit && now - hit.at < RISE_CACHE_MS && now >= hit.at) return [s.id, hit.estimate];
      let estimate: RiseEstimate | null;
      try {
        const samples = await levelSamples(client, s.id, now);
        estimate = estimateRise(samples, { thresholdMPerHour: s.thresholdMPerHour, now, windowMs: RISE_WINDOW_MS });
      } catch {
        estimate = null;
      }
      if (useCache) cache.set(s.id, { at: now, estimate });
      return [s.id, estimate];
    }),
  );
  return Object.fromEntries(entries);
}
