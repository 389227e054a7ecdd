import { isUtf8 } from 'node:buffer';
import type { CityPack } from '@cnx/city-pack';
import {
  applyQc,
  type Correction,
  correctPm25,
  createQcState,
  type Device,
  type DeviceQcState,
  historyQcConfig,
  METRIC_IDS,
  METRICS,
  type MetricId,
  PM25_CORRECTION_MODELS,
  type QcConfig,
  type Reading,
  roundTo,
  type Station,
} from '@cnx/domain';
import {
  type DeadLetterPayload,
  isValidId,
  normalizedReadingHead,
  normalizedReadingJson,
  parseTelemetry,
  readingsBatchJson,
  topics,
} from '@cnx/protocol';
import type { Logger } from '@cnx/runtime';
import { GATEWAY_ERRORS, type RejectReason } from '../errors';
import type { GatewayStats } from '../metrics';

/**
 * Where accepted readings go: the spool, usually through a BatchAppender that stages records until
 * `flush()`. Transports acknowledge a message only after `flush()` returned true.
 */
export interface SpoolAppender {
  readonly full: boolean;
  /** Number of failed flushes so far (see BatchAppender.failures). */
  readonly failures: number;
  /** Stage records (the spool lines) with the same readings as objects (kept for the writer). */
  appendMany(records: string[], readings: Reading[]): boolean;
  flush(): boolean;
  /** Called after each successful flush with the records written (the pipeline publishes them). */
  onFlush(listener: (firstIndex: number, records: readonly string[], readings: readonly Reading[]) => void): void;
}

/** How the pipeline publishes to the bus (normalised readings, dead letters). */
export type BusPublisher = (topic: string, payload: string) => void;

export type IngestResult = 'accepted' | 'rejected' | 'full';

function newContext(device: Device, station: Station, qc: DeviceQcState): DeviceContext {
  return {
    device,
    station,
    qc,
    head: normalizedReadingHead({
      city: station.city,
      station: station.id,
      device: device.id,
      kind: station.kind,
      district: station.district,
    }),
    corrects: PM25_CORRECTION_MODELS.has(device.model),
  };
}

/**
 * The reading's `qcMetrics`: the metrics QC flagged, plus a corrected metric whose correction used
 * a flagged one (the EPA PM2.5 correction uses the humidity: a humidity spike taints corrected
 * PM2.5). Registry order, as QC gives it.
 */
function qcMetricsOf(flagged: readonly MetricId[], corrections: readonly Correction[]): MetricId[] {
  const out = [...flagged];
  if (flagged.includes('humidity') && !flagged.includes('pm25') && corrections.some((c) => c.metric === 'pm25')) {
    out.push('pm25');
    out.sort((a, b) => METRIC_IDS.indexOf(a) - METRIC_IDS.indexOf(b));
  }
  return out;
}

/** A bus batch is published early once its records reach this many characters (~256 KB). */
const BUS_MAX_CHARS = 256 * 1024;

/** Shared by every reading without a correction (frozen: nothing may add to it). */
const NO_CORRECTIONS = Object.freeze([]) as unknown as Correction[];

/** Dead letters echo at most this much of the rejected payload. */
const DEADLETTER_ECHO_BYTES = 2048;

interface DeviceContext {
  device: Device;
  station: Station;
  qc: DeviceQcState;
  /**
   * QC of the device's history uploads, apart from its live telemetry: a log is judged in its own
   * time order whatever the device sent live since, and an upload that goes back in time (the same
   * log again) starts afresh, so it gets the same flags each time and never erases them.
   */
  history?: { qc: DeviceQcState; lastTs: number };
  /** The device's constant JSON head of a normalised reading (normalizedReadingHead). */
  head: string;
  corrects: boolean;
}

/**
 * validate -> QC -> correct -> spool -> republish, for one device message, independent of the
 * transport (MQTT today; Modbus polls and HTTP push use the same path). Never throws on bad input:
 * every rejection is counted and sent to the dead-letter topic with its reason.
 */
export class IngestPipeline {
  private readonly devices = new Map<string, DeviceContext>();
  /** Spooled records not yet on the bus, and their total length. */
  private bus: string[] = [];
  private busChars = 0;
  private busTimer?: NodeJS.Timeout;
  private readonly busTopic: string;
  /** The metrics of the reading being handled that QC flagged (reused: no allocation when clean). */
  private readonly flaggedScratch: MetricId[] = [];
  /** QC for the history topic: deps.qcConfig without the lateness check (never `stale`). */
  private readonly historyQc: QcConfig;

  constructor(
    private readonly deps: {
      pack: CityPack;
      spool: SpoolAppender;
      stats: GatewayStats;
      qcConfig: QcConfig;
      publish: BusPublisher;
      logger: Logger;
      maxPayloadBytes: number;
      /**
       * How long spooled readings may wait to be published on the bus together (0: every spool
       * flush is its own bus message). Default 25 ms.
       */
      busBatchMs?: number;
      /**
       * Every device's QC state by device id: restored from the spool's QC snapshot before intake,
       * saved with its checkpoint (spool/qc-snapshot.ts). New devices' states are added to it.
       */
      qcStates?: Map<string, DeviceQcState>;
    },
  ) {
    // The bus carries batches: one QoS 1 publish per reading cost more CPU than all the rest of
    // ingest, and one per spool flush (hundreds a second at 10k readings/s) still ~4 µs a reading
    // (docs/performance.md). Readings join the bus only after they are in the spool.
    this.busTopic = topics.readings(deps.pack.city.id);
    this.historyQc = historyQcConfig(deps.qcConfig);
    const wait = deps.busBatchMs ?? 25;
    deps.spool.onFlush((_first, records) => {
      if (wait <= 0) {
        deps.publish(this.busTopic, readingsBatchJson(records));
        return;
      }
      for (const r of records) {
        this.bus.push(r);
        this.busChars += r.length;
      }
      if (this.busChars >= BUS_MAX_CHARS) this.publishBus();
      else this.busTimer ??= setTimeout(() => this.publishBus(), wait);
    });
  }

  /** Publish the readings waiting for the bus now (also on shutdown). */
  publishBus(): void {
    clearTimeout(this.busTimer);
    this.busTimer = undefined;
    if (this.bus.length === 0) return;
    const records = this.bus;
    this.bus = [];
    this.busChars = 0;
    this.deps.publish(this.busTopic, readingsBatchJson(records));
  }

  private context(deviceId: string): DeviceContext | undefined {
    let ctx = this.devices.get(deviceId);
    if (ctx) return ctx;
    const device = this.deps.pack.deviceById.get(deviceId);
    const station = device && this.deps.pack.stationById.get(device.stationId);
    if (!device || !station) return undefined;
    ctx = newContext(device, station, this.qcState(deviceId));
    this.devices.set(deviceId, ctx);
    return ctx;
  }

  /** The QC state a reading is judged with: the device's live one, or that of its history uploads. */
  private qcFor(ctx: DeviceContext, ts: number, history: boolean): DeviceQcState {
    if (!history) return ctx.qc;
    if (!ctx.history || ts < ctx.history.lastTs) ctx.history = { qc: createQcState(), lastTs: ts };
    else ctx.history.lastTs = ts;
    return ctx.history.qc;
  }

  /** The device's QC state: the restored one if any (qcStates), else a new one kept there. */
  private qcState(deviceId: string): DeviceQcState {
    let state = this.deps.qcStates?.get(deviceId);
    if (!state) {
      state = createQcState();
      this.deps.qcStates?.set(deviceId, state);
    }
    return state;
  }

  /**
   * Make everything handled so far durable (one write for the batch). Acknowledge the messages only
   * if this returns true.
   */
  flush(): boolean {
    return this.deps.spool.flush();
  }

  /** Failed flushes so far: a transport acknowledges only if this did not change while it staged. */
  get flushFailures(): number {
    return this.deps.spool.failures;
  }

  /** Whether the device is registered in the city pack. */
  knows(deviceId: string): boolean {
    return this.deps.pack.deviceById.has(deviceId);
  }

  /**
   * Handle one message from `deviceId`. 'full' means the spool refused the reading (back-pressure):
   * the caller must NOT acknowledge it and must offer it again later. `history`: the message came on
   * the history topic (logged past readings): the same path, but QC does not judge lateness.
   */
  handle(deviceId: string, payload: Buffer, receivedAt: number, sourceTopic: string, history = false): IngestResult {
    const { stats } = this.deps;
    // Checked before anything is counted or QC state is touched: the message will be offered again.
    if (this.deps.spool.full) return 'full';
    stats.received++;
    if (payload.length > this.deps.maxPayloadBytes) {
      return this.reject(
        'payload_too_large',
        `${payload.length} bytes > ${this.deps.maxPayloadBytes}`,
        deviceId,
        payload,
        receivedAt,
        sourceTopic,
      );
    }
    const ctx = this.context(deviceId);
    if (!ctx)
      return this.reject(
        'unknown_device',
        `device ${JSON.stringify(deviceId)}`,
        deviceId,
        payload,
        receivedAt,
        sourceTopic,
      );
    if (!isUtf8(payload))
      return this.reject('invalid_utf8', 'payload bytes', deviceId, payload, receivedAt, sourceTopic);
    const parsed = parseTelemetry(payload.toString('utf8'));
    if (!parsed.ok)
      return this.reject(parsed.error.code, parsed.error.message, deviceId, payload, receivedAt, sourceTopic);

    const { station } = ctx;
    const qcConfig = history ? this.historyQc : this.deps.qcConfig;
    const records: string[] = [];
    const readings: Reading[] = [];
    // A history pack may list its readings in any order: judge them oldest first.
    const parsedReadings = history ? [...parsed.value].sort((a, b) => a.ts - b.ts) : parsed.value;
    for (const r of parsedReadings) {
      if (r.ignored) stats.ignoredValues += r.ignored.length;
      const flagged = this.flaggedScratch;
      flagged.length = 0;
      const qc = applyQc(this.qcFor(ctx, r.ts, history), r, receivedAt, qcConfig, flagged);
      for (const f of qc) stats.qc.set(f, (stats.qc.get(f) ?? 0) + 1);
      let corrections = NO_CORRECTIONS;
      if (ctx.corrects) {
        const c = correctPm25(r.values.pm25, r.values.humidity);
        // Computed values carry float noise (15.797275999999997); keep the metric's precision + 1.
        if (c) {
          c.value = roundTo(c.value, METRICS.pm25.decimals + 1);
          corrections = [c];
        }
      }
      const reading: Reading = {
        city: station.city,
        stationId: station.id,
        // The pack's string, not the one cut from the topic: its hash is cached and it is hot, so
        // the Map look-ups downstream (line-protocol prefixes) need not hash a new string.
        deviceId: ctx.device.id,
        ts: r.ts,
        values: r.values,
        corrections,
        qc,
      };
      if (flagged.length > 0) reading.qcMetrics = qcMetricsOf(flagged, corrections);
      if (r.seq !== undefined) reading.seq = r.seq;
      // The normalised reading (spool line and bus) is serialised from the same object.
      records.push(normalizedReadingJson(ctx.head, reading, receivedAt));
      readings.push(reading);
    }
    // Staged for the spool; the transport acknowledges only after flush(), which also publishes the
    // flushed readings on the bus as one batch (constructor).
    if (!this.deps.spool.appendMany(records, readings)) return 'full';
    stats.spooled += records.length;
    stats.accepted += records.length;
    if (history) stats.historyAccepted += records.length;
    return 'accepted';
  }

  /**
   * A message too big for the transport to even buffer (the MQTT decoder skipped all but `head`, the
   * start of its payload): counted as received and rejected as payload_too_large.
   */
  rejectOversized(deviceId: string, head: Buffer, payloadBytes: number, receivedAt: number, sourceTopic: string): void {
    this.deps.stats.received++;
    this.reject(
      'payload_too_large',
      `${payloadBytes} bytes > ${this.deps.maxPayloadBytes}`,
      deviceId,
      head,
      receivedAt,
      sourceTopic,
      payloadBytes > head.length,
    );
  }

  /** Count, log (debug: bad devices can be noisy) and dead-letter one rejected message. */
  reject(
    reason: RejectReason,
    detail: string,
    deviceId: string,
    payload: Buffer,
    receivedAt: number,
    sourceTopic: string,
    /** The payload given is already only the head of a bigger one. */
    cut = false,
  ): 'rejected' {
    this.deps.stats.reject(reason);
    const message = detail.startsWith(GATEWAY_ERRORS[reason]) ? detail : `${GATEWAY_ERRORS[reason]}: ${detail}`;
    this.deps.logger.debug({ reason, device: deviceId, topic: sourceTopic, detail: message }, 'message rejected');
    const truncated = cut || payload.length > DEADLETTER_ECHO_BYTES;
    const echo = truncated ? payload.subarray(0, DEADLETTER_ECHO_BYTES) : payload;
    const utf8 = isUtf8(echo);
    const dl: DeadLetterPayload = {
      v: 1,
      reason,
      message,
      topic: sourceTopic,
      receivedAt,
      payload: utf8 ? echo.toString('utf8') : echo.toString('base64'),
      encoding: utf8 ? 'utf8' : 'base64',
      truncated,
    };
    const safeId = isValidId(deviceId) ? deviceId : 'invalid-device-id';
    this.deps.publish(topics.deadletter(this.deps.pack.city.id, safeId), JSON.stringify(dl));
    return 'rejected';
  }

  /**
   * `handle()` for a device that may be registered outside the city pack: an airrohr sensor from
   * the HTTP-push registry (docs/airrohr.md) whose station is in the pack. The transport has
   * already decoded its wire format into our JSON telemetry, so validation, QC, correction, spool,
   * republish and dead letters are exactly those of `handle()`. A device the pack already knows
   * keeps the pack's record.
   */
  handleRegistered(device: Device, payload: Buffer, receivedAt: number, sourceTopic: string): IngestResult {
    if (!this.devices.has(device.id) && !this.deps.pack.deviceById.has(device.id)) {
      const station = this.deps.pack.stationById.get(device.stationId);
      // No station: leave it to handle(), which rejects it as unknown_device.
      if (station) {
        this.devices.set(device.id, newContext(device, station, this.qcState(device.id)));
      }
    }
    return this.handle(device.id, payload, receivedAt, sourceTopic);
  }

  /**
   * A reading the gateway fetched itself (a Modbus poll) rather than received as a message: the
   * poller decoded `values` from registers and `ts` is the poll time (ms). It goes through exactly
   * the path of `handle()` (device lookup, hard limits, QC, correction, spool, republish, dead
   * letters) as our JSON telemetry, and is flushed to the spool before this returns. NaN/Infinity
   * (a float32 register holding NaN) cannot be written as JSON: such a reading is rejected here as
   * `impossible_value`, its echo naming the bad values. `source` is the dead letters' `topic`, e.g.
   * `modbus-tcp://canal-lan/1`.
   */
  ingestPolled(
    deviceId: string,
    reading: { ts: number; values: Readonly<Record<string, number | undefined>> },
    receivedAt: number,
    source: string,
  ): IngestResult {
    if (this.deps.spool.full) return 'full';
    const bad = Object.entries(reading.values).filter(([, v]) => v !== undefined && !Number.isFinite(v));
    if (bad.length > 0) {
      this.deps.stats.received++;
      const echo = JSON.stringify({ ts: reading.ts, values: reading.values }, (_k, v) =>
        typeof v === 'number' && !Number.isFinite(v) ? String(v) : v,
      );
      const detail = bad.map(([k, v]) => `${k}=${v}`).join(', ');
      return this.reject('impossible_value', detail, deviceId, Buffer.from(echo), receivedAt, source);
    }
    const payload = Buffer.from(JSON.stringify({ ts: reading.ts, values: reading.values }));
    const result = this.handle(deviceId, payload, receivedAt, source);
    if (result === 'accepted' && !this.flush()) return 'full';
    return result;
  }
}
