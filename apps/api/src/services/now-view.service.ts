import type { Logger } from '@cnx/runtime';
import type { QcFilter, ReadingStore, StoredReading } from '@cnx/store';
import type { CityContext } from './city';
import { type MeanSummation, ReadingWindow, WINDOW_MS } from './reading-window';

/** Where the view's readings come from after the rebuild: the bus (BusService) or a test's feed. */
export interface ReadingFeed {
  /** Every valid reading of the city's stations as it arrives, live or not (history counts in means). */
  subscribeReadings(listener: (reading: StoredReading) => void): () => void;
  /**
   * The feed was not listening from `since` until now (a reconnect, or the first connect): readings
   * published meanwhile were missed and must be read from the store.
   */
  subscribeGaps?(listener: (since: number) => void): () => void;
}

export interface NowViewSettings {
  /** "Last seen" lookback (API_LAST_SEEN_DAYS). */
  lastSeenLookbackMs: number;
  /** The latestPerStation filters the views ask (NowService.LATEST_FILTERS). */
  latestFilters: readonly (QcFilter | undefined)[];
}

/** A failed rebuild (store down) is tried again after this. */
const REBUILD_RETRY_MS = 5_000;
/** The window lets go of readings older than WINDOW_MS this often. */
const PRUNE_EVERY_MS = 60_000;
/**
 * A gap is read from the store from this long before it began (a reading's own time can be a little
 * older than when it was published) ...
 */
const GAP_MARGIN_MS = 5 * 60_000;
/**
 * ... once at the reconnect, and again this much later: readings published during the gap reach the
 * store only after the gateway's writer has flushed them (100 ms batches, at most 10 s of backoff).
 */
export const GAP_REREAD_MS = 30_000;
/** Readings ahead of the clock (flagged `future`) are still read at a rebuild, up to this far ahead. */
const AHEAD_MS = 24 * 3_600_000;
const PAGE = 10_000;
/** Readings held while the store is down at start (a city's fleet sends ~30 a minute). */
const MAX_PENDING = 100_000;

/**
 * The "now" views' readings in memory (issue 14 item 3): the last WINDOW_MS of every station and
 * each station's newest reading before it, rebuilt from the store at start and kept up to date
 * from the bus, so /v1/latest, the districts and the canal cost no store query. Until the first
 * rebuild has succeeded `window` is undefined and the views read the store, as without a bus.
 * A reading is put into the window as the store would hold it (same identity and merge), and the
 * window answers the views' queries with the stores' own rules, so both paths give the same answers
 * (apps/api/test/now-view.test.ts checks it on SQLite and InfluxDB).
 */
export class NowViewService {
  window: ReadingWindow | undefined;
  private pending: StoredReading[] | undefined;
  private readonly timers = new Set<NodeJS.Timeout>();
  private unsubscribe: (() => void)[] = [];
  private stopped = false;
  private building: Promise<boolean> | undefined;

  constructor(
    private readonly city: CityContext,
    private readonly store: ReadingStore,
    private readonly feed: ReadingFeed,
    private readonly settings: NowViewSettings,
    private readonly clock: () => number,
    private readonly logger: Logger,
  ) {}

  /** Subscribes, then builds the window from the store (retried in the background if the store is down). */
  async start(): Promise<void> {
    this.stopped = false;
    this.pending = [];
    this.unsubscribe.push(this.feed.subscribeReadings((r) => this.onReading(r)));
    if (this.feed.subscribeGaps) this.unsubscribe.push(this.feed.subscribeGaps((since) => this.onGap(since)));
    const prune = setInterval(() => this.window?.prune(), PRUNE_EVERY_MS);
    prune.unref();
    this.timers.add(prune);
    if (!(await this.rebuild())) this.retry();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const u of this.unsubscribe) u();
    this.unsubscribe = [];
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    await this.building;
  }

  private later(ms: number, fn: () => void): void {
    const t = setTimeout(() => {
      this.timers.delete(t);
      if (!this.stopped) fn();
    }, ms);
    this.timers.add(t);
  }

  private retry(): void {
    this.later(REBUILD_RETRY_MS, () => void this.rebuild().then((ok) => ok || this.retry()));
  }

  private onReading(r: StoredReading): void {
    if (!this.pending) this.window?.put(r);
    else if (this.pending.push(r) > MAX_PENDING) this.pending.shift(); // the rebuild reads them from the store
  }

  /** Reads the missed span from the store now and once more after GAP_REREAD_MS. */
  private onGap(since: number): void {
    if (!this.window) return; // the rebuild will read it
    const from = since - GAP_MARGIN_MS;
    void this.reread(from);
    this.later(GAP_REREAD_MS, () => void this.reread(from));
  }

  private async reread(from: number): Promise<void> {
    const w = this.window;
    if (!w) return;
    try {
      let n = 0;
      const q = { from: Math.max(from, w.coverageFrom), to: this.clock() + AHEAD_MS, stationIds: this.stationIds };
      for await (const page of this.store.scan(q, PAGE)) for (const r of page) if (w.put(r)) n++;
      this.logger.info({ from: new Date(q.from).toISOString(), readings: n }, 'now view gap read from the store');
    } catch (err) {
      this.logger.warn({ err }, 'now view gap read failed');
    }
  }

  private get stationIds(): string[] {
    return this.city.stations.map((s) => s.id);
  }

  /** Builds a new window from the store; readings arriving meanwhile are applied after it. */
  rebuild(): Promise<boolean> {
    this.building ??= this.build().finally(() => {
      this.building = undefined;
    });
    return this.building;
  }

  private async build(): Promise<boolean> {
    const started = Date.now();
    const now = this.clock();
    this.pending ??= [];
    const summation: MeanSummation = this.store.backend === 'sqlite' ? 'kbn' : 'plain';
    const w = new ReadingWindow(this.city.id, this.stationIds, summation, this.clock, now - WINDOW_MS);
    try {
      for await (const page of this.store.scan(
        { from: w.coverageFrom, to: now + AHEAD_MS, stationIds: this.stationIds },
        PAGE,
      )) {
        for (const r of page) w.put(r);
      }
      const since = now - this.settings.lastSeenLookbackMs;
      for (const qc of this.settings.latestFilters) {
        w.seedBefore(qc, await this.store.latestPerStation(since, this.stationIds, qc));
      }
    } catch (err) {
      this.logger.warn({ err }, 'now view rebuild failed; the views read the store meanwhile');
      return false;
    }
    if (this.stopped) return false;
    for (const r of this.pending) w.put(r);
    this.pending = undefined;
    this.window = w;
    this.logger.info({ readings: w.size, ms: Date.now() - started }, 'now view built from the store');
    // Readings published before the bus subscription and stored after the scan above: read once more.
    this.later(GAP_REREAD_MS, () => void this.reread(now - GAP_MARGIN_MS));
    return true;
  }
}
