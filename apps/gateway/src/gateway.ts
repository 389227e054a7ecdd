import { randomBytes } from 'node:crypto';
import { loadCityPack, resolveCityDir } from '@cnx/city-pack';
import { DEFAULT_QC_CONFIG, type DeviceQcState } from '@cnx/domain';
import { topics } from '@cnx/protocol';
import { ConfigError, type Logger } from '@cnx/runtime';
import { createReadingStore, type ReadingStore } from '@cnx/store';
import type { FastifyInstance } from 'fastify';
import type { GatewayConfig } from './config';
import { EmbeddedBroker } from './embedded-broker';
import { gatewayHealth } from './health';
import { buildHttp, type HealthReport } from './http';
import { AirrohrPushStats, airrohrPushPlugin, loadAirrohrRegistry, registerAirrohrMetrics } from './http-push';
import { DeadLetters } from './ingest/dead-letters';
import { MqttTransport } from './ingest/mqtt.transport';
import { MqttConnection } from './ingest/mqtt-connection';
import { Republisher } from './ingest/republisher';
import { SpoolSink } from './ingest/sink';
import { IngestStep } from './ingest/step';
import { createMetrics, GatewayStats } from './metrics';
import { ModbusPoller, modbusConfigFromEnv, registerModbusMetrics, registerModbusStatusRoutes } from './modbus';
import { RollupService } from './rollup.service';
import { QcSnapshot } from './spool/qc-snapshot';
import { Spool } from './spool/spool';
import { StoreStarter } from './store-starter';
import { StoreWriter } from './writer.service';

/** A PUBLISH header is at most this long: fixed header 5, topic length 2 + 65535, packet id 2. */
const MAX_PUBLISH_HEADER = 5 + 2 + 65_535 + 2;

/**
 * The gateway: composes broker (embedded or external), city pack, spool, store writer, the ingest
 * stages and the operator HTTP endpoints. Constructor stores config only; start()/stop() do the
 * work in dependency order (docs/architecture.md house style 4).
 *
 * The ingest stages, each built once, in the order a reading passes them:
 *   transports (MqttTransport, ModbusPoller, airrohr push) decode and hand over
 *   -> IngestStep (pure: validate, QC, correct)
 *   -> SpoolSink.commit (durable; the transport acknowledges after it)
 *   -> "committed" listeners: Republisher (bus batches) and StoreWriter (in-memory window)
 *   StoreWriter: spool -> store in batches; the spool checkpoint moves once the store confirmed
 *   a record and the Republisher reports the bus done with it (at start the records after the
 *   checkpoint are published again).
 */
export class Gateway {
  readonly stats = new GatewayStats();
  private broker?: EmbeddedBroker;
  private spool?: Spool;
  private store?: ReadingStore;
  private storeStarter?: StoreStarter;
  private writer?: StoreWriter;
  private rollup?: RollupService;
  private connection?: MqttConnection;
  private mqtt?: MqttTransport;
  private republisher?: Republisher;
  private modbus?: ModbusPoller;
  private http?: FastifyInstance;
  private startedAt = 0;

  constructor(
    private readonly config: GatewayConfig,
    private readonly logger: Logger,
  ) {}

  /** Where the operator endpoints and the broker ended up (ports may be 0 = any in tests). */
  get addresses(): { http: string; mqtt: string } {
    const a = this.http?.server.address();
    const http = a && typeof a === 'object' ? `http://${this.config.http.host}:${a.port}` : '';
    return { http, mqtt: this.config.mqttUrl ?? this.broker?.url ?? '' };
  }

  async start(): Promise<void> {
    const { config, logger } = this;
    this.startedAt = Date.now();
    const loaded = await loadCityPack(resolveCityDir(config.city, config.citiesDir));
    if (!loaded.ok) {
      throw new Error(
        `city pack ${config.city} is invalid:\n${loaded.error.map((e) => `  - ${e.file} ${e.path}: ${e.message}`).join('\n')}`,
      );
    }
    const pack = loaded.value;

    // Every device's QC state is kept with the spool's checkpoint and restored before intake.
    const qcStates = new Map<string, DeviceQcState>();
    const spoolLogger = logger.child({ component: 'spool' });
    const qc = new QcSnapshot(
      config.spool.dir,
      qcStates,
      DEFAULT_QC_CONFIG,
      config.spool.fsync === 'always',
      spoolLogger,
    );
    this.spool = new Spool({
      ...config.spool,
      logger: spoolLogger,
      beforeCheckpoint: (end, must) => qc.save(end, must),
      // The checkpoint waits for the bus too: what a crash kept off the bus is replayed at start.
      busGate: true,
    });
    await this.spool.start();
    qc.restore();

    this.store = createReadingStore(
      config.store.backend === 'sqlite'
        ? { backend: 'sqlite', path: config.store.path, logger: logger.child({ component: 'store' }) }
        : { ...config.store, logger: logger.child({ component: 'store' }) },
    );
    // The gateway must ingest even when the store is down at start-up: the spool holds the data
    // and the store is started in the background (with backoff) until it is up.
    this.storeStarter = new StoreStarter(
      this.store,
      {
        minBackoffMs: 250,
        maxBackoffMs: config.writer.maxBackoffMs,
        createsDatabase: config.store.backend === 'influxdb' && config.store.createDatabase,
      },
      logger.child({ component: 'store' }),
    );
    await this.storeStarter.start();

    const metrics = createMetrics(this.stats, this.spool);
    this.writer = new StoreWriter(
      this.spool,
      this.store,
      { ...config.writer, quarantineDir: config.spool.dir },
      this.stats,
      metrics,
      logger.child({ component: 'writer' }),
      this.storeStarter,
    );
    this.writer.start();
    const starter = this.storeStarter;
    this.rollup = new RollupService(
      this.store,
      pack,
      config.rollup,
      () => starter.started,
      logger.child({ component: 'rollup' }),
    );
    this.rollup.start();

    let mqttUrl = config.mqttUrl;
    let credentials = { username: config.mqttUsername, password: config.mqttPassword };
    if (!mqttUrl) {
      // The embedded broker reserves the gateway's client id for this process: a secret per start.
      const owner = {
        clientId: config.mqttClientId,
        username: config.mqttUsername ?? 'cnx-gateway',
        password: randomBytes(24).toString('base64url'),
      };
      credentials = owner;
      this.broker = new EmbeddedBroker({ ...config.embeddedBroker, owner }, logger.child({ component: 'broker' }));
      await this.broker.start();
      mqttUrl = this.broker.url;
    }
    const city = pack.city.id;
    const mqttLogger = logger.child({ component: 'mqtt' });
    // One MQTT connection: intake (subscriptions) and the bus (publishes).
    this.connection = new MqttConnection(
      {
        url: mqttUrl,
        clientId: config.mqttClientId,
        username: credentials.username,
        password: credentials.password,
        protocolVersion: config.mqttVersion,
        tls: config.mqttTls,
        busQos: config.busQos,
        sessionExpirySec: config.mqttSessionExpirySec,
        maxPacketBytes: config.maxPayloadBytes + MAX_PUBLISH_HEADER,
      },
      this.stats,
      mqttLogger,
    );
    const step = new IngestStep({
      pack,
      qcConfig: DEFAULT_QC_CONFIG,
      stats: this.stats,
      maxPayloadBytes: config.maxPayloadBytes,
      qcStates,
    });
    const sink = new SpoolSink(this.spool, this.stats, logger.child({ component: 'ingest' }));
    const deadLetters = new DeadLetters(city, this.connection, this.stats, logger.child({ component: 'ingest' }));
    const spool = this.spool;
    this.republisher = new Republisher(topics.readings(city), this.connection, config.busBatchMs, (index) =>
      spool.busPublished(index),
    );
    sink.onCommitted(this.writer.onCommitted);
    sink.onCommitted(this.republisher.onCommitted);
    this.mqtt = new MqttTransport(
      { city, shareGroup: config.mqttShareGroup },
      this.connection,
      step,
      sink,
      deadLetters,
      this.stats,
      mqttLogger,
    );

    const mb = await modbusConfigFromEnv({ GATEWAY_MODBUS_CONFIG: config.modbusConfigPath }, { pack });
    if (!mb.ok) throw new ConfigError(mb.error);
    if (mb.value) {
      this.modbus = new ModbusPoller({
        config: mb.value,
        city,
        ingest: { step, sink, deadLetters },
        bus: this.connection,
        logger: logger.child({ component: 'modbus' }),
      });
      registerModbusMetrics(metrics.registry, this.modbus);
    }

    this.http = buildHttp({ logger, registry: metrics.registry, health: () => this.health() });
    if (this.modbus) registerModbusStatusRoutes(this.http, this.modbus);
    if (config.airrohr.enabled && config.airrohr.registryPath) {
      const loaded = await loadAirrohrRegistry(config.airrohr.registryPath, pack);
      if (!loaded.ok)
        throw new Error(`airrohr registry is invalid:\n${loaded.error.map((e) => `  - ${e}`).join('\n')}`);
      for (const warning of loaded.value.warnings) logger.warn({ warning }, 'airrohr registry');
      const pushStats = new AirrohrPushStats();
      registerAirrohrMetrics(metrics.registry, pushStats, () => loaded.value.registry.size);
      await this.http.register(
        airrohrPushPlugin({
          ingest: { step, sink, deadLetters },
          stats: this.stats,
          registry: loaded.value.registry,
          pushStats,
          config: config.airrohr,
          logger: logger.child({ component: 'airrohr' }),
        }),
      );
    }
    // Connecting starts now (the bus is there for HTTP push and Modbus); a broker that is not up yet
    // (a reboot) is not fatal: MQTT.js keeps reconnecting, /health says so meanwhile.
    const connected = this.mqtt.start();
    // Before any new reading is committed: the readings after the checkpoint go on the bus again
    // (those a crash kept off it among them; consumers deduplicate on device and time).
    const replay = spool.nextIndex;
    if (replay > 0) logger.info({ readings: replay }, 'bus: publishing the spooled readings again after a restart');
    this.republisher.replay(spool.replayReader(), replay);
    await this.http.listen({ host: config.http.host, port: config.http.port });
    await connected.catch((error) =>
      logger.warn({ err: error }, 'mqtt broker not reachable at start-up; still connecting'),
    );
    await this.modbus?.start();
    if (config.mqttShareGroup)
      logger.warn(
        { shareGroup: config.mqttShareGroup, clientId: config.mqttClientId },
        'shared subscription: per-device QC (spike, stuck, sequence) needs each device on one gateway; use a sticky broker strategy (docs/architecture.md, Scaling out)',
      );
    logger.info(
      {
        city,
        shareGroup: config.mqttShareGroup,
        clientId: config.mqttClientId,
        stations: pack.stations.length,
        devices: pack.devices.length,
        store: config.store.backend,
        ...this.addresses,
      },
      'gateway started',
    );
  }

  health(): Promise<HealthReport> {
    return gatewayHealth({
      stats: this.stats,
      spool: this.spool?.stats(),
      store: this.store,
      starter: this.storeStarter?.status(),
      writer: this.writer?.status(),
      rollup: this.rollup?.status(),
      startedAt: this.startedAt,
    });
  }

  /** Wait until everything accepted so far is in the store (tests, shutdown). */
  flush(timeoutMs = 30_000): Promise<boolean> {
    return this.writer?.flush(timeoutMs) ?? Promise.resolve(true);
  }

  async stop(): Promise<void> {
    // Stop intake first (Modbus, MQTT and HTTP push), then drain briefly, then close store, spool, broker.
    await this.modbus?.stop();
    this.mqtt?.stop();
    await this.http?.close();
    // The readings committed last go on the bus before the connection closes (those the broker does
    // not acknowledge by then stay after the spool checkpoint for the next start).
    this.republisher?.close();
    await this.connection?.stop();
    await this.rollup?.stop();
    if (this.writer) {
      await this.writer.flush(5_000);
      await this.writer.stop();
    }
    await (this.storeStarter ?? this.store)?.stop();
    await this.spool?.stop();
    await this.broker?.stop();
  }
}
