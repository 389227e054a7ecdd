import { randomBytes } from 'node:crypto';
import {
  isLive,
  isMetricId,
  type MetricId,
  type MetricValues,
  QC_FLAG_LIST,
  type QcFlag,
  type Reading,
  roundCorrections,
  roundMetric,
  usableFor,
} from '@cnx/domain';
import {
  type AlertEventPayload,
  type BusReading,
  filters,
  parseAlertEvent,
  parseReadingsBatchLenient,
  parseReportEvent,
  parseTopic,
  type ReportEventPayload,
} from '@cnx/protocol';
import type { Logger } from '@cnx/runtime';
import mqtt, { type MqttClient } from 'mqtt';
import { iso } from '../util/time';
import type { CityContext } from './city';

/** One event for live streams: the station's facts for filtering and the pre-serialised data. */
export interface LiveEvent {
  station: string;
  district: string;
  kind: 'air' | 'canal';
  /** SSE id: `<ts>-<device>`. */
  id: string;
  /** JSON of a LiveReading (schemas/live.ts). */
  data: string;
}

export type LiveListener = (event: LiveEvent) => void;

/** An alert transition from the bus (`cnx/v1/{city}/alerts/{rule}/{subject}`), validated. */
export type AlertListener = (event: AlertEventPayload) => void;
/** A citizen report approved by staff (`cnx/v1/{city}/reports/{id}`), validated. */
export type ReportListener = (event: ReportEventPayload) => void;

/** Where live events come from (the MQTT bus in production; tests may feed their own). */
export interface LiveSource {
  readonly connected: boolean;
  subscribe(listener: LiveListener): () => void;
  /** Alert transitions as they happen (never the retained state a new subscriber is handed). */
  subscribeAlerts?(listener: AlertListener): () => void;
  /** Reports as staff approve them. */
  subscribeReports?(listener: ReportListener): () => void;
  /** Every valid reading of the city's stations, live or not, as stored (the in-memory "now" view). */
  subscribeReadings?(listener: (reading: Reading) => void): () => void;
  /** The bus was not listening from `since` until now (ReadingFeed.subscribeGaps). */
  subscribeGaps?(listener: (since: number) => void): () => void;
}

export interface BusCounters {
  count(outcome: 'accepted' | 'invalid' | 'duplicate' | 'foreign' | 'not_live'): void;
}

/** The bus is at-least-once (docs/architecture.md): remember this many recent (device, ts) pairs. */
const DEDUPE_WINDOW = 20_000;
/** A batch carries every reading of one gateway flush (at most a few thousand, ~350 bytes each). */
const MAX_PAYLOAD = 4 * 1024 * 1024;

/**
 * Subscribes to the normalised readings of the city on the internal MQTT bus
 * (`cnx/v1/{city}/readings`, batches: ReadingsBatchPayload) and fans them out to live streams. Connects in the background and
 * keeps reconnecting: the API serves stored data while the bus is down (health says "degraded").
 */
export class BusService implements LiveSource {
  private client: MqttClient | undefined;
  private readonly listeners = new Set<LiveListener>();
  private readonly alertListeners = new Set<AlertListener>();
  private readonly reportListeners = new Set<ReportListener>();
  private readonly seen = new Set<string>();
  private readonly readingListeners = new Set<(reading: Reading) => void>();
  private readonly gapListeners = new Set<(since: number) => void>();
  /** Since when readings may have been missed: the start, then each time the connection is lost. */
  private missedSince: number | undefined;

  constructor(
    private readonly opts: { url: string; username?: string; password?: string },
    private readonly city: CityContext,
    private readonly logger: Logger,
    private readonly counters: BusCounters = { count: () => undefined },
    private readonly clock: () => number = Date.now,
  ) {}

  get connected(): boolean {
    return this.client?.connected ?? false;
  }

  subscribe(listener: LiveListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  subscribeAlerts(listener: AlertListener): () => void {
    this.alertListeners.add(listener);
    return () => this.alertListeners.delete(listener);
  }

  subscribeReports(listener: ReportListener): () => void {
    this.reportListeners.add(listener);
    return () => this.reportListeners.delete(listener);
  }

  subscribeReadings(listener: (reading: Reading) => void): () => void {
    this.readingListeners.add(listener);
    return () => this.readingListeners.delete(listener);
  }

  subscribeGaps(listener: (since: number) => void): () => void {
    this.gapListeners.add(listener);
    return () => this.gapListeners.delete(listener);
  }

  /** Once subscribed after a (re)connect: whatever was published since `missedSince` was missed. */
  private gapClosed(): void {
    const since = this.missedSince;
    this.missedSince = undefined;
    if (since === undefined) return;
    for (const l of this.gapListeners) {
      try {
        l(since);
      } catch (err) {
        this.logger.warn({ err }, 'gap listener failed');
      }
    }
  }

  async start(): Promise<void> {
    const filter = filters.allReadings(this.city.id);
    const client = mqtt.connect(this.opts.url, {
      clientId: `cnx-api-${this.city.id}-${randomBytes(4).toString('hex')}`,
      clean: true,
      reconnectPeriod: 2000,
      connectTimeout: 10_000,
      ...(this.opts.username ? { username: this.opts.username, password: this.opts.password } : {}),
    });
    this.client = client;
    this.missedSince = this.clock();
    client.on('connect', () => {
      this.logger.info({ url: this.opts.url, filter }, 'bus connected');
      client.subscribe(filter, { qos: 0 }, (err) => {
        if (err) this.logger.warn({ err }, 'bus subscribe failed');
        else this.gapClosed();
      });
      // Alert transitions: QoS 1 (rare and worth having); the retained state handed over on
      // subscribing is the past, not an event (GET /v1/alerts gives the current state).
      client.subscribe(filters.allAlerts(this.city.id), { qos: 1 }, (err) => {
        if (err) this.logger.warn({ err }, 'bus subscribe failed');
      });
      client.subscribe(filters.allReports(this.city.id), { qos: 1 }, (err) => {
        if (err) this.logger.warn({ err }, 'bus subscribe failed');
      });
    });
    client.on('close', () => {
      this.missedSince ??= this.clock();
    });
    client.on('offline', () => this.logger.warn({ url: this.opts.url }, 'bus offline; reconnecting'));
    client.on('error', (err) => this.logger.warn({ err: err.message }, 'bus error'));
    client.on('message', (topic, payload, packet) => {
      if (topic.startsWith(this.alertPrefix)) {
        if (!packet.retain) this.onAlert(payload);
      } else if (topic.startsWith(this.reportPrefix)) this.onReport(payload);
      else this.onMessage(topic, payload);
    });
  }

  async stop(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    this.listeners.clear();
    this.alertListeners.clear();
    this.reportListeners.clear();
    this.readingListeners.clear();
    this.gapListeners.clear();
    await client?.endAsync(true);
  }

  private get alertPrefix(): string {
    return filters.allAlerts(this.city.id).replace('+/+', '');
  }

  private get reportPrefix(): string {
    return filters.allReports(this.city.id).replace('+', '');
  }

  /** One approved report (public for tests: the same path as MQTT deliveries). */
  onReport(payload: Buffer): void {
    const parsed = parseReportEvent(payload);
    if (!parsed.ok || parsed.value.city !== this.city.id) {
      this.logger.warn({ reason: parsed.ok ? 'foreign_city' : parsed.error }, 'report event refused');
      return;
    }
    for (const l of this.reportListeners) {
      try {
        l(parsed.value);
      } catch (err) {
        this.logger.warn({ err }, 'report listener failed');
      }
    }
  }

  /** One alert transition (public for tests: the same path as MQTT deliveries). */
  onAlert(payload: Buffer): void {
    const parsed = parseAlertEvent(payload);
    if (!parsed.ok || parsed.value.city !== this.city.id) {
      this.logger.warn({ reason: parsed.ok ? 'foreign_city' : parsed.error }, 'alert event refused');
      return;
    }
    const msg = parsed.value;
    for (const l of this.alertListeners) {
      try {
        l(msg);
      } catch (err) {
        this.logger.warn({ err }, 'alert listener failed');
      }
    }
  }

  /** Handles one bus message, a batch of readings (public for tests: the same path as MQTT deliveries). */
  onMessage(topic: string, payload: Buffer): void {
    const t = parseTopic(topic);
    if (t?.kind !== 'readings' || t.city !== this.city.id || payload.length > MAX_PAYLOAD) {
      this.counters.count('foreign');
      return;
    }
    // The one bus contract (@cnx/protocol bus.ts): a reading that breaks it is counted, not forwarded.
    const parsed = parseReadingsBatchLenient(payload);
    if (!parsed.ok) {
      this.counters.count('invalid');
      return;
    }
    for (let i = 0; i < parsed.value.invalid; i++) this.counters.count('invalid');
    for (const reading of parsed.value.readings) this.onReading(reading);
  }

  private onReading(msg: BusReading): void {
    const station = this.city.pack.stationById.get(msg.station);
    if (!station || msg.city !== this.city.id) {
      this.counters.count('foreign');
      return;
    }
    if (this.readingListeners.size > 0) this.toView(msg);
    // The stream is live only, by the reading's own time: a replay, a history upload or a stale
    // reading is data for charts, never "now" (@cnx/domain freshness.ts).
    if (!isLive(msg.ts, this.clock())) {
      this.counters.count('not_live');
      return;
    }
    const key = `${msg.device}\u0000${msg.ts}`;
    if (this.seen.has(key)) {
      this.counters.count('duplicate');
      return;
    }
    this.seen.add(key);
    if (this.seen.size > DEDUPE_WINDOW) this.seen.delete(this.seen.values().next().value as string);
    const values: MetricValues = {};
    for (const [k, v] of Object.entries(msg.values)) if (isMetricId(k)) values[k] = roundMetric(k, v);
    const qc = msg.qc.filter((f): f is QcFlag => (QC_FLAG_LIST as readonly string[]).includes(f));
    const qcMetrics = msg.qcMetrics?.filter(isMetricId);
    // Usable for what the station shows: PM2.5 on an air station, the level on a canal station.
    const primary = station.kind === 'air' ? 'pm25' : 'water_level';
    const data = JSON.stringify({
      ts: iso(msg.ts),
      station: station.id,
      device: msg.device,
      district: station.district,
      kind: station.kind,
      ...(msg.seq === undefined ? {} : { seq: msg.seq }),
      values,
      corrections: roundCorrections(
        msg.corrections.filter((c): c is typeof c & { metric: MetricId } => isMetricId(c.metric)),
      ),
      qc,
      ...(qcMetrics && qcMetrics.length > 0 ? { qcMetrics } : {}),
      usable: usableFor('latest', qc, { metric: primary, qcMetrics }),
      receivedAt: iso(msg.receivedAt),
    });
    this.counters.count('accepted');
    const event: LiveEvent = {
      station: station.id,
      district: station.district,
      kind: station.kind,
      id: `${msg.ts}-${msg.device}`,
      data,
    };
    for (const l of this.listeners) {
      try {
        l(event);
      } catch (err) {
        this.logger.warn({ err }, 'live listener failed');
      }
    }
  }

  /** The reading as the gateway stored it, for the in-memory "now" view (every reading: history counts too). */
  private toView(msg: BusReading): void {
    const values: MetricValues = {};
    for (const [k, v] of Object.entries(msg.values)) if (isMetricId(k)) values[k] = v;
    const reading: Reading = {
      city: msg.city,
      stationId: msg.station,
      deviceId: msg.device,
      ts: msg.ts,
      values,
      corrections: msg.corrections.filter((c): c is Reading['corrections'][number] => isMetricId(c.metric)),
      qc: msg.qc.filter((f): f is QcFlag => (QC_FLAG_LIST as readonly string[]).includes(f)),
    };
    const qcMetrics = msg.qcMetrics?.filter(isMetricId);
    if (qcMetrics && qcMetrics.length > 0) reading.qcMetrics = qcMetrics;
    if (msg.seq !== undefined) reading.seq = msg.seq;
    for (const l of this.readingListeners) {
      try {
        l(reading);
      } catch (err) {
        this.logger.warn({ err }, 'reading listener failed');
      }
    }
  }
}
