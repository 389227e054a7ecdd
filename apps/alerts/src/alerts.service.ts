/**
 * The alerts service: bus consumer → evaluator (SQLite transaction per message, PUBACK after the
 * commit) → outbox → dispatcher → channels; a wall-clock tick for offline rules, re-notification
 * and staff escalation; the HTTP API. start()/stop() as every long-lived part.
 */
import { type CityPack, formatCityPackIssue, loadCityPackById } from '@cnx/city-pack';
import { topics } from '@cnx/protocol';
import type { Logger } from '@cnx/runtime';
import type { FastifyInstance } from 'fastify';
import mqtt, { type IPublishPacket, type MqttClient } from 'mqtt';
import { Counter, collectDefaultMetrics, Gauge, Registry } from 'prom-client';

import webpush from 'web-push';
import { parseReadingsMessage, readingsBatchTopic } from './bus';
import { EmailChannel } from './channels/email.adapter';
import { LineChannel } from './channels/line.adapter';
import { MqttAlertChannel } from './channels/mqtt.adapter';
import type { Channel } from './channels/types';
import { WebhookChannel } from './channels/webhook.adapter';
import { WebPushChannel } from './channels/webpush.adapter';
import type { AlertsConfig } from './config';
import { Dispatcher } from './dispatcher';
import { escalate } from './escalation';
import { type CityInfo, Evaluator } from './evaluator';
import { buildHttp } from './http/app';
import { LeaseLostError, SenderLease } from './lease';
import { PrivacyService } from './privacy';
import { ReportStore } from './reports/report.store';
import { ReportsService } from './reports/reports.service';
import { loadRuleSet } from './rules.config';
import { AlertStore } from './store';
import { SubscriptionService } from './subscriptions.service';

export class StartupError extends Error {
  constructor(readonly problems: string[]) {
    super(`alerts cannot start:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}

export function cityInfo(pack: CityPack): CityInfo {
  return {
    id: pack.city.id,
    name: pack.city.name,
    timeZone: pack.city.timezone,
    stations: new Map(
      pack.stations.map((s) => [s.id, { id: s.id, kind: s.kind, district: s.district, name: s.name, canal: s.canal }]),
    ),
    districts: new Map([...pack.districtById.values()].map((d) => [d.id, d.name])),
  };
}

export class AlertsService {
  private store?: AlertStore;
  private client?: MqttClient;
  private http?: FastifyInstance;
  private dispatcher?: Dispatcher;
  private subscriptions?: SubscriptionService;
  private privacy?: PrivacyService;
  private reports?: ReportsService;
  private evaluator?: Evaluator;
  private tickTimer?: NodeJS.Timeout;
  private lease?: SenderLease;
  private readonly channels = new Map<string, Channel>();
  private mqttConnected = false;
  private badMessages = 0;
  port = 0;

  constructor(
    private readonly cfg: AlertsConfig,
    private readonly logger: Logger,
    private readonly now: () => number = Date.now,
  ) {}

  async start(): Promise<void> {
    const cfg = this.cfg;
    const rules = loadRuleSet(cfg.rulesFile, cfg.city);
    const pack = await loadCityPackById(cfg.city);
    const problems = [...(rules.ok ? [] : rules.problems), ...(pack.ok ? [] : pack.error.map(formatCityPackIssue))];
    if (!rules.ok || !pack.ok) throw new StartupError(problems);
    const store = new AlertStore(cfg.dbFile);
    this.store = store;
    const evaluator = new Evaluator(
      store,
      cityInfo(pack.value),
      rules.value.rules,
      cfg,
      this.logger.child({ component: 'evaluator' }),
    );
    this.evaluator = evaluator;
    evaluator.restore(this.now());
    // One sender per store (lease.ts): the holder evaluates and sends; another process answers HTTP.
    const lease = new SenderLease(
      store.db,
      { holder: cfg.instanceId, ttlMs: cfg.leaseTtlMs, renewMs: cfg.leaseRenewMs },
      this.logger.child({ component: 'lease' }),
      { lead: () => this.lead(), stepDown: () => this.stepDown() },
    );
    this.lease = lease;

    this.channels.set('mqtt', new MqttAlertChannel(() => this.client));
    this.channels.set('webhook', new WebhookChannel({ timeoutMs: cfg.sendTimeoutMs, now: this.now }));
    if (cfg.smtpUrl)
      this.channels.set(
        'email',
        new EmailChannel({ smtpUrl: cfg.smtpUrl, from: cfg.mailFrom, timeoutMs: cfg.sendTimeoutMs }),
      );
    if (cfg.lineToken)
      this.channels.set(
        'line',
        new LineChannel({ baseUrl: cfg.lineBaseUrl, token: cfg.lineToken, timeoutMs: cfg.sendTimeoutMs }),
      );
    if (!cfg.vapid) {
      // No keys configured: generate once and keep them (subscriptions are bound to the public key).
      const saved = store.kvGet('vapid');
      const keys = saved
        ? (JSON.parse(saved) as { publicKey: string; privateKey: string })
        : webpush.generateVAPIDKeys();
      if (!saved) store.kvSet('vapid', JSON.stringify(keys));
      cfg.vapid = { ...keys, subject: cfg.vapidSubject };
    }
    this.channels.set(
      'webpush',
      new WebPushChannel({ vapid: cfg.vapid, timeoutMs: cfg.sendTimeoutMs, allowHttp: cfg.webpushAllowHttp }),
    );

    const dispatcher = new Dispatcher(
      store,
      evaluator,
      this.channels,
      cfg,
      this.logger.child({ component: 'dispatcher' }),
      this.now,
      lease,
    );
    this.dispatcher = dispatcher;
    const registry = this.metrics();
    this.subscriptions = new SubscriptionService(
      store,
      evaluator,
      cfg,
      new Set(this.channels.keys()),
      this.logger.child({ component: 'subscriptions' }),
      this.now,
      () => dispatcher.kick(),
    );
    this.privacy = new PrivacyService(
      store,
      this.subscriptions,
      cfg,
      this.logger.child({ component: 'privacy' }),
      this.now,
    );
    const reportCity = {
      id: pack.value.city.id,
      bbox: pack.value.city.bbox,
      stations: new Map(pack.value.stations.map((s) => [s.id, { ...s.location, district: s.district }])),
    };
    this.reports = new ReportsService(
      new ReportStore(store.db),
      store,
      evaluator,
      reportCity,
      new Map(cfg.staff.map((s) => [s.id, s.name ?? s.id])),
      (id, payload) => {
        // QoS 1, not retained: GET /v1/reports is the state; MQTT.js queues it while the bus is down.
        // A standby holds no bus session: an approval made through it is not announced.
        if (!this.client) this.logger.warn({ report: id }, 'report event not published: standby, not on the bus');
        this.client?.publish(topics.report(cfg.city, id), JSON.stringify(payload), { qos: 1 }, (e) => {
          if (e) this.logger.warn({ err: e.message, report: id }, 'report event not published');
        });
      },
      this.logger.child({ component: 'reports' }),
      this.now,
    );
    this.http = buildHttp({
      reports: this.reports,
      logger: this.logger,
      registry,
      store,
      evaluator,
      cfg,
      subscriptions: this.subscriptions,
      privacy: this.privacy,
      now: this.now,
      // A standby is ready (it serves the HTTP API from the shared store); it holds no bus session.
      health: async () => {
        const sender = lease.state();
        const leads = sender.role === 'leader';
        return {
          status: !leads || this.mqttConnected ? 'ok' : 'degraded',
          role: sender.role,
          checks: {
            sender: { ok: true, detail: sender },
            mqtt: { ok: this.mqttConnected || !leads, detail: leads ? undefined : 'standby: not connected' },
            outbox: { ok: true, detail: { pending: store.outboxCount('pending') } },
          },
        };
      },
    });
    await this.http.listen({ host: cfg.httpHost, port: cfg.httpPort });
    const addr = this.http.server.address();
    this.port = typeof addr === 'object' && addr ? addr.port : cfg.httpPort;
    await lease.start(); // leads at once when no other process holds the lease
    this.logger.info(
      { port: this.port, rules: rules.value.rules.length, channels: [...this.channels.keys()], ...lease.state() },
      'alerts started',
    );
  }

  /** This process took the sender lease: reload the state the previous sender left, then evaluate and send. */
  private async lead(): Promise<void> {
    this.evaluator!.restore(this.now());
    this.dispatcher!.start();
    this.tickTimer = setInterval(() => this.tick(), this.cfg.tickMs);
    await this.connectBus();
  }

  /** The lease is lost (lease.ts logged why): stop at once; un-acknowledged bus messages go to the new sender. */
  private stepDown(): void {
    clearInterval(this.tickTimer);
    void this.dispatcher?.stop();
    this.client?.end(true);
    this.client = undefined;
    this.mqttConnected = false;
  }

  private async connectBus(): Promise<void> {
    const cfg = this.cfg;
    const client = mqtt.connect(cfg.mqttUrl, {
      clientId: cfg.mqttClientId,
      clean: false,
      reconnectPeriod: 1000,
      connectTimeout: 10_000,
      ...(cfg.mqttUsername ? { username: cfg.mqttUsername, password: cfg.mqttPassword } : {}),
    });
    this.client = client;
    // PUBACK only after the evaluation transaction committed (MQTT.js sends it when the callback runs).
    client.handleMessage = (packet, callback) => {
      try {
        // Fenced: a replaced sender writes nothing and does not acknowledge (the new one gets it again).
        const queued = this.lease!.fenced(() => this.onMessage(packet as IPublishPacket));
        callback();
        if (queued > 0) this.dispatcher!.kick();
      } catch (e) {
        if (!(e instanceof LeaseLostError)) this.logger.error({ err: e }, 'evaluation failed; not acknowledging');
        client.end(true);
      }
    };
    client.on('connect', () => {
      this.mqttConnected = true;
      client.subscribe({ [readingsBatchTopic(cfg.city)]: { qos: 1 } });
      this.dispatcher?.kick();
    });
    client.on('close', () => {
      this.mqttConnected = false;
    });
    client.on('error', (e) => this.logger.warn({ err: e.message }, 'mqtt error'));
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, 5000); // start degraded when the broker is not up yet; MQTT.js keeps retrying
      client.once('connect', () => {
        clearTimeout(t);
        resolve();
      });
    });
  }

  /** Returns the number of deliveries queued. */
  private onMessage(packet: IPublishPacket): number {
    const parsed = parseReadingsMessage(packet.topic, packet.payload as Buffer);
    if (!parsed.ok) {
      this.badMessages++;
      this.logger.debug({ topic: packet.topic, error: parsed.error }, 'ignored bus message');
      return 0;
    }
    return this.evaluator!.onReadings(parsed.readings, this.now());
  }

  /**
   * The wall-clock tick (every ALERTS_TICK_MS): offline rules, re-notification, staff escalation.
   * Public so that tests with an injected clock can run it right after moving the clock.
   * Returns the number of deliveries queued.
   */
  tick(): number {
    try {
      const queued = this.lease!.fenced(() => {
        const now = this.now();
        this.privacy?.purgeIfDue();
        this.reports?.purge(this.cfg.reportRetentionDays);
        return this.evaluator!.tick(now) + this.escalate(now);
      });
      if (queued > 0) this.dispatcher!.kick();
      return queued;
    } catch (e) {
      if (!(e instanceof LeaseLostError)) this.logger.error({ err: e }, 'tick failed');
      return 0;
    }
  }

  /** Tell the next on-call tier about alerts nobody acknowledged in time (escalation.ts). */
  escalate(now: number): number {
    return escalate(this.store!, this.cfg, now);
  }

  private metrics(): Registry {
    const registry = new Registry();
    // Node process metrics (alerts_process_cpu_seconds_total, alerts_nodejs_eventloop_lag_seconds, ...).
    collectDefaultMetrics({ register: registry, prefix: 'alerts_' });
    const ev = this.evaluator!;
    const store = this.store!;
    const g = (name: string, help: string, fn: () => number) =>
      new Gauge({
        name,
        help,
        registers: [registry],
        collect() {
          this.set(fn());
        },
      });
    // Monotonic totals are counters (Prometheus naming: _total), read from the service at scrape time.
    const c = (name: string, help: string, fn: () => number) =>
      new Counter({
        name,
        help,
        registers: [registry],
        collect() {
          this.reset();
          this.inc(fn());
        },
      });
    c('alerts_readings_total', 'Readings taken in (after de-duplication)', () => ev.stats.readings);
    c(
      'alerts_readings_duplicate_total',
      'Readings ignored as already seen (at-least-once bus)',
      () => ev.stats.duplicates,
    );
    c(
      'alerts_readings_suspect_total',
      'Readings with a QC flag that keeps them out of air and water signals (docs/qc.md)',
      () => ev.stats.suspect,
    );
    c(
      'alerts_readings_not_live_total',
      'Readings not live by their own time (history, replays, stale): kept, never evaluated',
      () => ev.stats.notLive,
    );
    c('alerts_bus_messages_ignored_total', 'Bus messages that were not readings', () => this.badMessages);
    c('alerts_events_total', 'Alert transitions recorded', () => ev.stats.events);
    g('alerts_active', 'Alerts firing or acknowledged', () => store.activeAlerts().length);
    g('alerts_outbox_pending', 'Deliveries waiting', () => store.outboxCount('pending'));
    c(
      'alerts_deliveries_sent_total',
      'Deliveries confirmed by their channel (this process)',
      () => this.dispatcher?.stats.sent ?? 0,
    );
    c(
      'alerts_delivery_failures_total',
      'Failed delivery attempts (this process)',
      () => this.dispatcher?.stats.failedAttempts ?? 0,
    );
    // Failed outbox rows are final (never retried or deleted), so their count only grows: a counter.
    c('alerts_deliveries_failed_total', 'Deliveries given up', () => store.outboxCount('failed'));
    const purged = (): Record<string, number> => this.privacy?.stats ?? {};
    new Counter({
      name: 'alerts_subscriptions_purged_total',
      help: 'Subscriptions deleted with their personal data: unconfirmed, unsubscribed (after the retention), erased on request',
      labelNames: ['reason'],
      registers: [registry],
      collect() {
        this.reset();
        for (const [reason, n] of Object.entries(purged())) this.inc({ reason }, n);
      },
    });
    g('alerts_mqtt_connected', '1 when connected to the bus', () => (this.mqttConnected ? 1 : 0));
    g('alerts_sender_leader', '1 while this process holds the sender lease', () => (this.lease?.isLeader() ? 1 : 0));
    c(
      'alerts_sender_takeovers_total',
      'Times this process took the sender lease (a new epoch): 1 after a start, more after failovers',
      () => this.lease?.takeovers ?? 0,
    );
    return registry;
  }

  async stop(): Promise<void> {
    clearInterval(this.tickTimer);
    await this.http?.close();
    await this.dispatcher?.stop();
    await this.client?.endAsync().catch(() => undefined);
    this.lease?.stop(); // released: a standby takes over within one renew interval
    for (const c of this.channels.values()) await c.close?.();
    this.store?.close();
    this.store = undefined;
  }
}
