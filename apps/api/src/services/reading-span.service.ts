import type { ReadingStore } from '@cnx/store';
import { iso } from '../util/time';
import type { ViewCache } from './cache';
import type { CityContext } from './city';

export interface ReadingSpan {
  /** Time of the oldest stored reading (any QC state), RFC 3339; null without readings. */
  firstReading: string | null;
  lastReading: string | null;
}

/**
 * First and last stored reading of every station (OpenAQ's datetimeFirst / datetimeLast, issue 14):
 * two one-row queries per station, each an indexed probe on (station, ts) in SQLite and a
 * `LIMIT 1` on the station's series in InfluxDB, computed city-wide and cached like the "now" views.
 */
export class ReadingSpanService {
  constructor(
    private readonly city: CityContext,
    private readonly store: ReadingStore,
    private readonly cache: ViewCache,
    private readonly clock: () => number,
  ) {}

  spans(): Promise<Map<string, ReadingSpan>> {
    return this.cache.get('reading-spans', () => this.compute());
  }

  private async compute(): Promise<Map<string, ReadingSpan>> {
    // Up to now: a reading stamped in the future (flagged `future`) is not the last one yet.
    const to = this.clock() + 1;
    const one = async (stationId: string, order: 'asc' | 'desc') => {
      const rows = await this.store.query({ from: 0, to, stationIds: [stationId], limit: 1, order });
      const r = rows.find((x) => x.city === this.city.id);
      return r ? iso(r.ts) : null;
    };
    const entries = await Promise.all(
      this.city.stations.map(async (s) => {
        const [firstReading, lastReading] = await Promise.all([one(s.id, 'asc'), one(s.id, 'desc')]);
        return [s.id, { firstReading, lastReading }] as const;
      }),
    );
    return new Map(entries);
  }
}
