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
  normalizedReadingHead,
  normalizedReadingJson,
  type ParsedTelemetry,
  parseTelemetry,
  parseTelemetryObject,
} from '@cnx/protocol';
import type { RejectReason } from '../errors';
import type { GatewayStats } from '../metrics';

/** What the step made of one message: its readings, and each as its normalised JSON (spool line, bus). */
export interface Accepted {
  readings: Reading[];
  records: string[];
  /** It came on the history topic (counted apart once committed). */
  history: boolean;
}

/** Why a message was refused. `echo`: what the dead letter shows when it is not the payload itself. */
export interface Rejection {
  reason: RejectReason;
  detail: string;
  echo?: Buffer;
}

export type StepResult = { ok: true; value: Accepted } | { ok: false; error: Rejection };

/** A reading a transport decoded itself (Modbus registers, an airrohr body): values, no JSON. */
export interface DecodedReading {
  ts: number;
  values: Readonly<Record<string, number | undefined>>;
}

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

/** Shared by every reading without a correction (frozen: nothing may add to it). */
const NO_CORRECTIONS = Object.freeze([]) as unknown as Correction[];

const refuse = (reason: RejectReason, detail: string, echo?: Buffer): StepResult => ({
  ok: false,
  error: echo ? { reason, detail, echo } : { reason, detail },
});

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

/**
 * The pure step of ingest: validate, flag (QC) and correct one device message, whatever transport
 * brought it. No I/O: it returns the readings (and their normalised JSON) or the reason to refuse;
 * the transport hands accepted readings to the durable sink (sink.ts) and refusals to the dead
 * letters (dead-letters.ts). Its only state is every device's QC state (restored from and saved to
 * the spool's QC snapshot by its owner: spool/qc-snapshot.ts) and counters.
 *
 * Call it only when the sink has room (`sink.full` false): a message judged here and then not
 * committed is redelivered and judged again, which QC takes as a redelivery.
 */
export class IngestStep {
  private readonly devices = new Map<string, DeviceContext>();
  /** The metrics of the reading being handled that QC flagged (reused: no allocation when clean). */
  private readonly flaggedScratch: MetricId[] = [];
  /** QC for the history topic: deps.qcConfig without the lateness check (never `stale`). */
  private readonly historyQc: QcConfig;

  constructor(
    private readonly deps: {
      pack: CityPack;
      qcConfig: QcConfig;
      stats: GatewayStats;
      maxPayloadBytes: number;
      /** Every device's QC state by device id (restored before intake); new devices are added. */
      qcStates?: Map<string, DeviceQcState>;
    },
  ) {
    this.historyQc = historyQcConfig(deps.qcConfig);
  }

  /** Whether the device is registered in the city pack (or was registered with `register`). */
  knows(deviceId: string): boolean {
    return this.devices.has(deviceId) || this.deps.pack.deviceById.has(deviceId);
  }

  /**
   * A device registered outside the city pack (an airrohr sensor of the HTTP-push registry,
   * docs/airrohr.md) whose station is in the pack. A device the pack knows keeps the pack's record;
   * one whose station is not in the pack stays unknown (its messages: unknown_device).
   */
  register(device: Device): void {
    if (this.knows(device.id)) return;
    const station = this.deps.pack.stationById.get(device.stationId);
    if (station) this.devices.set(device.id, this.newContext(device, station));
  }

  /** One device message (MQTT, HTTP push). `history`: it came on the history topic (logged past readings). */
  message(deviceId: string, payload: Buffer, receivedAt: number, history = false): StepResult {
    this.deps.stats.received++;
    if (payload.length > this.deps.maxPayloadBytes)
      return refuse('payload_too_large', `${payload.length} bytes > ${this.deps.maxPayloadBytes}`);
    const ctx = this.context(deviceId);
    if (!ctx) return refuse('unknown_device', `device ${JSON.stringify(deviceId)}`);
    if (!isUtf8(payload)) return refuse('invalid_utf8', 'payload bytes');
    const parsed = parseTelemetry(payload.toString('utf8'));
    if (!parsed.ok) return refuse(parsed.error.code, parsed.error.message);
    return { ok: true, value: this.accept(ctx, parsed.value, receivedAt, history) };
  }

  /**
   * A reading a transport decoded itself (a Modbus poll, an airrohr push): the same checks, QC and
   * correction as `message()`, on the values as they are (no JSON in between). NaN/Infinity (a
   * float32 register holding NaN) is refused as `impossible_value`; the echo names the bad values.
   */
  decoded(deviceId: string, reading: DecodedReading, receivedAt: number): StepResult {
    this.deps.stats.received++;
    const values: Record<string, number> = {};
    const bad: string[] = [];
    for (const key in reading.values) {
      const v = reading.values[key];
      if (v === undefined) continue;
      if (Number.isFinite(v)) values[key] = v;
      else bad.push(`${key}=${v}`);
    }
    if (bad.length > 0) {
      const echo = JSON.stringify({ ts: reading.ts, values: reading.values }, (_k, v) =>
        typeof v === 'number' && !Number.isFinite(v) ? String(v) : v,
      );
      return refuse('impossible_value', bad.join(', '), Buffer.from(echo));
    }
    const ctx = this.context(deviceId);
    if (!ctx) return refuse('unknown_device', `device ${JSON.stringify(deviceId)}`);
    const parsed = parseTelemetryObject({ ts: reading.ts, values });
    if (!parsed.ok)
      return refuse(parsed.error.code, parsed.error.message, Buffer.from(JSON.stringify({ ts: reading.ts, values })));
    return { ok: true, value: this.accept(ctx, parsed.value, receivedAt, false) };
  }

  /** QC, correction and the normalised JSON of each parsed reading. */
  private accept(ctx: DeviceContext, parsed: ParsedTelemetry[], receivedAt: number, history: boolean): Accepted {
    const { stats } = this.deps;
    const { station } = ctx;
    const qcConfig = history ? this.historyQc : this.deps.qcConfig;
    const records: string[] = [];
    const readings: Reading[] = [];
    // A history pack may list its readings in any order: judge them oldest first.
    const ordered = history ? [...parsed].sort((a, b) => a.ts - b.ts) : parsed;
    for (const r of ordered) {
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
        // The pack's string, not the one cut from the topic: its hash is cached and it is hot.
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
    return { readings, records, history };
  }

  private context(deviceId: string): DeviceContext | undefined {
    let ctx = this.devices.get(deviceId);
    if (ctx) return ctx;
    const device = this.deps.pack.deviceById.get(deviceId);
    const station = device && this.deps.pack.stationById.get(device.stationId);
    if (!device || !station) return undefined;
    ctx = this.newContext(device, station);
    this.devices.set(deviceId, ctx);
    return ctx;
  }

  private newContext(device: Device, station: Station): DeviceContext {
    return {
      device,
      station,
      qc: this.qcState(device.id),
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
}
