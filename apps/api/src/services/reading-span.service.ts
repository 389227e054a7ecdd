import type { Reading } from '@cnx/domain';
import type { ReadingStore } from '@cnx/store';
import { iso } from '../util/time';
import type { ViewCache } from './cache';
import type { CityContext } from './city';
import type { ReadingFeed } from './now-view.service';

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
  /** With a feed: the spans read once from the store, then kept up to date from the bus. */
  private map?: Map<string, ReadingSpan>;
  private building?: Promise<Map<string, ReadingSpan>>;
  /** Readings that arrived while the spans were being read from the store. */
  private early: Reading[] = [];
  private readonly unsubscribe: (() => void)[] = [];

  constructor(
    private readonly city: CityContext,
    private readonly store: ReadingStore,
    private readonly cache: ViewCache,
    private readonly clock: () => number,
    /** The bus (as for the in-memory "now" view); without it the spans are cached like the views. */
    feed?: ReadingFeed,
  ) {
    if (!feed) return;
    this.unsubscribe.push(feed.subscribeReadings((r) => this.onReading(r)));
    // Readings missed while the bus was away: read the spans from the store again.
    if (feed.subscribeGaps) this.unsubscribe.push(feed.subscribeGaps(() => (this.map = undefined)));
  }

  spans(): Promise<Map<string, ReadingSpan>> {
    if (this.unsubscribe.length === 0) return this.cache.get('reading-spans', () => this.compute());
    if (this.map) return Promise.resolve(this.map);
    this.building ??= this.compute()
      .then((m) => {
        for (const r of this.early) apply(m, r, this.clock());
        this.map = m;
        return m;
      })
      .finally(() => {
        this.building = undefined;
        this.early = [];
      });
    return this.building;
  }

  stop(): void {
    for (const u of this.unsubscribe.splice(0)) u();
  }

  private onReading(r: Reading): void {
    if (r.city !== this.city.id) return;
    if (this.map) apply(this.map, r, this.clock());
    else if (this.building) this.early.push(r);
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

/** A reading widens its station's span, as the store would answer (never a reading stamped ahead). */
function apply(m: Map<string, ReadingSpan>, r: Reading, now: number): void {
  const span = m.get(r.stationId);
  if (!span || r.ts > now) return;
  const t = iso(r.ts);
  if (span.firstReading === null || r.ts < Date.parse(span.firstReading)) span.firstReading = t;
  if (span.lastReading === null || r.ts > Date.parse(span.lastReading)) span.lastReading = t;
}
