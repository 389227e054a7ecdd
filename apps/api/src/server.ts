import { type CityPack, loadCityPack, resolveCityDir } from '@cnx/city-pack';
import type { Logger } from '@cnx/runtime';
import { createReadingStore, type ReadingStore, STORE_ERROR_CODES } from '@cnx/store';
import type { FastifyInstance } from 'fastify';
import { buildApp } from './app';
import { type ApiConfig, redactedConfig } from './config';
import { BusService } from './services/bus.service';
import { CityContext } from './services/city';

/** How often a store that failed to start is tried again. */
const STORE_RETRY_MS = 5000;

/**
 * The API process: city pack, store (read-only), bus subscriber and the HTTP server. The constructor
 * stores config only; start()/stop() do the work (docs/architecture.md house style 4). Starts even when the
 * store or the bus is not reachable yet: /health says so, data routes answer 503 until they are. A store
 * configuration that cannot work (STORE_INVALID_CONFIG, e.g. settings that do not fit the InfluxDB
 * version the server names) stops the start, as in the gateway.
 */
export class ApiServer {
  private store?: ReadingStore;
  private bus?: BusService;
  private app?: FastifyInstance;
  private retry?: NodeJS.Timeout;
  private storeUp = false;

  constructor(
    private readonly config: ApiConfig,
    private readonly logger: Logger,
  ) {}

  /** Base URL once listening (port 0 = any in tests). */
  get url(): string {
    const a = this.app?.server.address();
    return a && typeof a === 'object' ? `http://${this.config.host}:${a.port}` : '';
  }

  get instance(): FastifyInstance | undefined {
    return this.app;
  }

  async start(): Promise<void> {
    const { config, logger } = this;
    const pack = await loadPack(config);
    const storeLogger = logger.child({ component: 'store' });
    this.store = createReadingStore(
      config.store.backend === 'sqlite'
        ? { backend: 'sqlite', path: config.store.path, readonly: true, logger: storeLogger }
        : { ...config.store, timeoutMs: config.storeTimeoutMs, connections: 16, logger: storeLogger },
    );
    await this.startStore(true);
    const bus = config.mqtt
      ? new BusService(config.mqtt, new CityContext(pack), logger.child({ component: 'bus' }), {
          count: (outcome) => this.app?.metrics.busMessages.inc({ outcome }),
        })
      : undefined;
    this.app = buildApp({ config, pack, store: this.store, logger, ...(bus ? { live: bus } : {}) });
    this.bus = bus;
    await this.bus?.start();
    await this.app.listen({ host: config.host, port: config.port });
    logger.info({ url: this.url, config: redactedConfig(config) }, 'api started');
  }

  /** The store may be down at start-up (InfluxDB restarting, the gateway not yet created SQLite). */
  private async startStore(first = false): Promise<void> {
    try {
      await this.store!.start();
      this.storeUp = true;
    } catch (err) {
      if ((err as { code?: unknown }).code === STORE_ERROR_CODES.invalidConfig) {
        if (first) throw err;
        this.logger.error({ err }, 'store configuration is invalid; not starting it again');
        return;
      }
      this.logger.warn({ err }, 'store not ready; retrying in the background');
      this.retry = setTimeout(() => void this.startStore(), STORE_RETRY_MS);
    }
  }

  get storeReady(): boolean {
    return this.storeUp;
  }

  async stop(): Promise<void> {
    clearTimeout(this.retry);
    await this.app?.close();
    await this.bus?.stop();
    await this.store?.stop();
  }
}

async function loadPack(config: ApiConfig): Promise<CityPack> {
  const loaded = await loadCityPack(resolveCityDir(config.city, config.citiesDir));
  if (!loaded.ok) {
    const problems = loaded.error.map((e) => `  - ${e.file} ${e.path}: ${e.message}`).join('\n');
    throw new Error(`city pack ${config.city} is invalid:\n${problems}`);
  }
  return loaded.value;
}
