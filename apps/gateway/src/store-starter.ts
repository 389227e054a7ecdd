import type { Logger } from '@cnx/runtime';
import { type ReadingStore, STORE_ERROR_CODES } from '@cnx/store';

export interface StoreStarterOptions {
  /** First pause before starting the store again; it doubles up to `maxBackoffMs`. */
  minBackoffMs: number;
  maxBackoffMs: number;
  /**
   * The store creates its database when it starts (InfluxDB 1.x with INFLUX_CREATE_DB): a write that
   * finds the database gone (InfluxDB reinstalled with an empty data directory) starts it again.
   */
  createsDatabase: boolean;
}

export interface StoreStarterStatus {
  started: boolean;
  /** Failed start attempts since the store was last started. */
  failedAttempts: number;
  /** Why the last attempt failed. */
  lastError?: string;
  /** When the store stopped being usable (epoch ms), while it is not started. */
  downSince?: number;
}

const errorCode = (error: unknown): unknown => (error as { code?: unknown } | undefined)?.code;

/**
 * Keeps the reading store started. A gateway must ingest whatever the store does: when start()
 * fails (InfluxDB not up yet after a power cut, a volume not mounted) it is tried again in the
 * background with exponential backoff, each failure logged, until it succeeds; the writer does not
 * write until then (`started`). A write that finds the store not started, or its database gone
 * when starting creates it, hands it back here (`lost`) to be started again. Only an invalid
 * configuration is not retried: the first start() throws it, so the gateway refuses to start.
 */
export class StoreStarter {
  private state: 'stopped' | 'starting' | 'started' = 'stopped';
  private stopping = false;
  private timer?: NodeJS.Timeout;
  private attempt?: Promise<void>;
  private backoffMs = 0;
  private failures = 0;
  private lastError?: string;
  private downSince?: number;

  constructor(
    private readonly store: ReadingStore,
    private readonly opts: StoreStarterOptions,
    private readonly logger: Logger,
  ) {}

  /** The store is started: the writer may write. */
  get started(): boolean {
    return this.state === 'started';
  }

  status(): StoreStarterStatus {
    const s: StoreStarterStatus = { started: this.started, failedAttempts: this.failures };
    if (this.lastError !== undefined) s.lastError = this.lastError;
    if (!this.started && this.downSince !== undefined) s.downSince = this.downSince;
    return s;
  }

  /**
   * The first attempt, awaited. If it fails the gateway goes on (spooling) and the store is started
   * in the background; only an invalid configuration is thrown.
   */
  async start(): Promise<void> {
    this.stopping = false;
    this.downSince = Date.now();
    await this.tryStart(true);
  }

  /** A write found the store unusable as started (see the class comment): start it again. */
  lost(error: unknown): void {
    const code = errorCode(error);
    const restart =
      code === STORE_ERROR_CODES.notStarted ||
      (code === STORE_ERROR_CODES.databaseNotFound && this.opts.createsDatabase);
    if (!restart || this.state !== 'started' || this.stopping) return;
    this.state = 'starting';
    this.downSince = Date.now();
    this.logger.warn({ err: error }, 'store lost; starting it again');
    this.attempt = this.store
      .stop()
      .catch((err: unknown) => this.logger.warn({ err }, 'store did not stop cleanly'))
      .then(() => this.tryStart(false));
  }

  private async tryStart(first: boolean): Promise<void> {
    this.state = 'starting';
    try {
      await this.store.start();
    } catch (error) {
      if (errorCode(error) === STORE_ERROR_CODES.invalidConfig) {
        this.lastError = (error as Error).message;
        if (first) throw error;
        this.logger.error({ err: error }, 'store configuration is invalid; not starting it again');
        return;
      }
      const message = (error as Error).message;
      // The whole error (stack, cause) when it is new; then its message only (an outage may last hours).
      const detail = message === this.lastError ? { error: message } : { err: error };
      this.failures++;
      this.lastError = message;
      if (this.stopping) return;
      this.backoffMs = Math.min(this.opts.maxBackoffMs, Math.max(this.opts.minBackoffMs, this.backoffMs * 2));
      this.logger.warn(
        { ...detail, attempt: this.failures, retryInMs: this.backoffMs },
        'store not ready; starting it again later (readings are kept in the spool)',
      );
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.attempt = this.tryStart(false).catch((err: unknown) =>
          this.logger.error({ err }, 'store start attempt failed unexpectedly'),
        );
      }, this.backoffMs);
      return;
    }
    if (this.stopping) {
      await this.store.stop();
      return;
    }
    if (this.failures > 0) {
      this.logger.info(
        { failedAttempts: this.failures, downMs: Date.now() - (this.downSince ?? Date.now()) },
        'store started',
      );
    }
    this.state = 'started';
    this.failures = 0;
    this.backoffMs = 0;
    this.lastError = undefined;
    this.downSince = undefined;
  }

  /** Stop retrying, wait for an attempt in flight, stop the store. */
  async stop(): Promise<void> {
    this.stopping = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.attempt;
    this.state = 'stopped';
    await this.store.stop();
  }
}
