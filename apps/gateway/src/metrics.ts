import { QC_FLAG_LIST, type QcFlag } from '@cnx/domain';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import { REJECT_REASONS, type RejectReason } from './errors';

/**
 * Hot-path counters are plain numbers (an increment per message must cost nanoseconds); prom-client
 * reads them at scrape time through `collect()`. Histograms are observed per batch, not per message.
 */
export class GatewayStats {
  received = 0;
  accepted = 0;
  /** Of `accepted`, the readings that came on the history topic (logged past readings). */
  historyAccepted = 0;
  ignoredValues = 0;
  spooled = 0;
  written = 0;
  storeErrors = 0;
  storeRejected = 0;
  mqttReconnects = 0;
  /** Bus messages (normalised readings, dead letters) dropped because the broker did not acknowledge. */
  busDropped = 0;
  mqttConnected = false;
  /** Why the broker refused a subscription (undefined: all granted); /health is down meanwhile. */
  subscriptionRefused: string | undefined = undefined;
  spoolBlocked = 0;
  readonly rejected = new Map<RejectReason, number>();
  readonly qc = new Map<QcFlag, number>();
  readonly devicesOnline = new Set<string>();

  reject(reason: RejectReason): void {
    this.rejected.set(reason, (this.rejected.get(reason) ?? 0) + 1);
  }

  rejectedTotal(): number {
    let n = 0;
    for (const v of this.rejected.values()) n += v;
    return n;
  }
}

export interface SpoolGaugeSource {
  stats(): { bytes: number; pendingRecords: number; full: boolean; segments: number };
}

export function createMetrics(stats: GatewayStats, spool: SpoolGaugeSource) {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'gateway_' });
  const counter = (name: string, help: string, get: () => number) =>
    new Counter({
      name,
      help,
      registers: [registry],
      collect() {
        this.reset();
        this.inc(get());
      },
    });
  counter('gateway_messages_received_total', 'Device messages received (all transports)', () => stats.received);
  counter('gateway_readings_accepted_total', 'Readings accepted (validated, flagged, spooled)', () => stats.accepted);
  counter(
    'gateway_history_readings_accepted_total',
    'Of the readings accepted, those uploaded on the history topic (logged past readings, e.g. a backfill)',
    () => stats.historyAccepted,
  );
  counter('gateway_readings_spooled_total', 'Readings appended to the durable spool', () => stats.spooled);
  counter('gateway_readings_written_total', 'Readings confirmed written by the store', () => stats.written);
  counter(
    'gateway_values_ignored_total',
    'Values of unknown metrics ignored in accepted messages',
    () => stats.ignoredValues,
  );
  counter('gateway_store_write_errors_total', 'Failed store batch writes (retried)', () => stats.storeErrors);
  counter(
    'gateway_store_rejected_readings_total',
    'Readings the store refused permanently (quarantined on disk)',
    () => stats.storeRejected,
  );
  counter('gateway_mqtt_reconnects_total', 'MQTT reconnect attempts', () => stats.mqttReconnects);
  counter(
    'gateway_bus_dropped_total',
    'Bus messages dropped: too many unacknowledged by the broker (readings stay in the spool and store)',
    () => stats.busDropped,
  );
  counter(
    'gateway_spool_blocked_total',
    'Times intake paused because the spool was full (or its write failed)',
    () => stats.spoolBlocked,
  );
  new Counter({
    name: 'gateway_messages_rejected_total',
    help: 'Messages rejected, by reason (each also sent to the dead-letter topic)',
    labelNames: ['reason'],
    registers: [registry],
    collect() {
      this.reset();
      for (const r of REJECT_REASONS) this.inc({ reason: r }, stats.rejected.get(r) ?? 0);
    },
  });
  new Counter({
    name: 'gateway_qc_flags_total',
    help: 'Quality-control flags attached to accepted readings, by flag',
    labelNames: ['flag'],
    registers: [registry],
    collect() {
      this.reset();
      for (const f of QC_FLAG_LIST) this.inc({ flag: f }, stats.qc.get(f) ?? 0);
    },
  });
  const gauge = (name: string, help: string, get: () => number) =>
    new Gauge({
      name,
      help,
      registers: [registry],
      collect() {
        this.set(get());
      },
    });
  gauge('gateway_spool_bytes', 'Bytes in the durable spool', () => spool.stats().bytes);
  gauge(
    'gateway_spool_pending_readings',
    'Readings spooled but not yet confirmed by the store (lag)',
    () => spool.stats().pendingRecords,
  );
  gauge('gateway_spool_full', '1 while the spool is full and intake is paused', () => (spool.stats().full ? 1 : 0));
  gauge('gateway_mqtt_connected', '1 while connected to the broker', () => (stats.mqttConnected ? 1 : 0));
  gauge(
    'gateway_mqtt_subscription_refused',
    '1 while the broker refuses one of the gateway subscriptions (nothing arrives on it)',
    () => (stats.subscriptionRefused ? 1 : 0),
  );
  gauge('gateway_devices_online', 'Devices whose retained status is online', () => stats.devicesOnline.size);
  const writeDuration = new Histogram({
    name: 'gateway_store_write_duration_seconds',
    help: 'Store batch write latency',
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  const ingestLag = new Histogram({
    name: 'gateway_ingest_to_store_seconds',
    help: 'Time from receipt to confirmed store write, per batch (oldest reading in the batch)',
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
    registers: [registry],
  });
  return { registry, writeDuration, ingestLag };
}

export type GatewayMetrics = ReturnType<typeof createMetrics>;
