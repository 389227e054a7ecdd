import type { CityPack } from '@cnx/city-pack';
import { deviceIntervalMs, timeZoneOffsetMs } from '@cnx/domain';
import type { Logger } from '@cnx/runtime';
import { type ReadingStore, RollupRunner, type RollupRunResult } from '@cnx/store';

export interface RollupServiceOptions {
  /** Between the end of one run and the start of the next, ms; 0 = never (another instance rolls up). */
  intervalMs: number;
  rawRetentionMs: number;
}

/**
 * The gateway rolls up and applies retention (README "Rollups and retention"): it owns the writes, so
 * one process per store does it, on a timer, while the store is started. Each run is incremental and
 * idempotent (@cnx/store RollupRunner); a failed run is logged and retried at the next tick.
 * House style 4: start()/stop(), stop() clears the timer and waits for a run in progress.
 */
export class RollupService {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> | undefined;
  private stopped = true;
  private last: { at: number; ok: boolean; result?: RollupRunResult; error?: string } | undefined;

  constructor(
    private readonly store: ReadingStore,
    private readonly pack: CityPack,
    private readonly opts: RollupServiceOptions,
    private readonly ready: () => boolean,
    private readonly log: Logger,
  ) {}

  start(): void {
    if (this.opts.intervalMs === 0) {
      this.log.info({}, 'rollups off on this instance');
      return;
    }
    this.stopped = false;
    this.schedule(1_000);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.running;
  }

  status() {
    return this.last;
  }

  /** One run now (tests, and the timer). */
  async runOnce(now = Date.now()): Promise<RollupRunResult> {
    const { pack } = this;
    const runner = new RollupRunner(this.store, {
      city: pack.city.id,
      // The city's local hours and days, as the API's series (its offset now; DST zones: see README).
      offsetMs: -timeZoneOffsetMs(pack.city.timezone, now),
      stations: pack.stations.map((s) => ({
        id: s.id,
        intervalsMs: pack.devices.filter((d) => d.stationId === s.id).map(deviceIntervalMs),
      })),
      rawRetentionMs: this.opts.rawRetentionMs,
      logger: this.log,
    });
    return runner.run(now);
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (!this.ready()) return this.schedule(this.opts.intervalMs);
      const started = Date.now();
      const run = this.runOnce().then(
        (result) => {
          this.last = { at: started, ok: true, result };
          const rows = result.rows['1h'] + result.rows['1d'];
          if (rows > 0 || result.lateHours > 0) {
            this.log.info(
              { ms: Date.now() - started, rows: result.rows, lateHours: result.lateHours, state: result.state },
              'rollup run',
            );
          }
        },
        (err: unknown) => {
          this.last = { at: started, ok: false, error: (err as Error).message };
          this.log.warn({ err }, 'rollup run failed');
        },
      );
      this.running = run.finally(() => {
        this.running = undefined;
        this.schedule(this.opts.intervalMs);
      });
    }, delayMs);
    this.timer.unref?.();
  }
}
