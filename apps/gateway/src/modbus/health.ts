import { MODBUS_ERROR_KINDS, type ModbusErrorKind, type ModbusRequestError } from './errors';

/** Outcome of one scheduled slot of a device (the `result` label of gateway_modbus_polls_total). */
export const POLL_RESULTS = ['ok', 'failed', 'rejected', 'spool_full', 'skipped_backoff', 'skipped_busy'] as const;
export type PollResult = (typeof POLL_RESULTS)[number];

/**
 * Per-device health, kept by the poller and read by the status endpoint and the metrics at scrape
 * time (plain numbers: updating them costs nothing per request).
 */
export class DeviceHealth {
  state: 'unknown' | 'online' | 'offline' = 'unknown';
  /** Last poll in which the device answered every request (epoch ms). */
  lastSuccessAt?: number;
  /** Last poll whose reading the pipeline accepted. */
  lastAcceptedAt?: number;
  lastAttemptAt?: number;
  lastErrorAt?: number;
  lastError?: { kind: ModbusErrorKind; exceptionCode?: number; message: string };
  consecutiveFailures = 0;
  backoffUntil?: number;
  lastRttMs?: number;
  readonly polls: Record<PollResult, number> = {
    ok: 0,
    failed: 0,
    rejected: 0,
    spool_full: 0,
    skipped_backoff: 0,
    skipped_busy: 0,
  };
  /** Failed requests (every attempt, retries included) by kind. */
  readonly errors: Record<ModbusErrorKind, number> = Object.fromEntries(
    MODBUS_ERROR_KINDS.map((k) => [k, 0]),
  ) as Record<ModbusErrorKind, number>;
  /** Exception responses by exception code. */
  readonly exceptions = new Map<number, number>();
  requests = 0;
  /** The status bits the device's register map names. */
  statusBits: string[] = [];
  /** Status register: raw value and the names of the set bits (from the register map). */
  status?: { raw: number; active: string[]; since: number };
  /** Last values of every register read (with `diagnostics`, the non-metric ones too). */
  registers?: Record<string, number>;

  constructor(
    readonly deviceId: string,
    readonly stationId: string,
    readonly bus: string,
    readonly transport: 'modbus-tcp' | 'modbus-rtu',
    readonly unitId: number,
    readonly registerMap: string,
    readonly intervalMs: number,
    readonly offlineAfterMs: number,
  ) {}

  recordError(e: ModbusRequestError, at: number): void {
    this.errors[e.kind]++;
    if (e.kind === 'exception' && e.exceptionCode !== undefined)
      this.exceptions.set(e.exceptionCode, (this.exceptions.get(e.exceptionCode) ?? 0) + 1);
    this.lastErrorAt = at;
    this.lastError = { kind: e.kind, message: e.message };
    if (e.exceptionCode !== undefined) this.lastError.exceptionCode = e.exceptionCode;
  }

  /** JSON for GET /modbus/status. */
  toJSON(now: number) {
    const silentSince = this.lastSuccessAt;
    return {
      device: this.deviceId,
      station: this.stationId,
      bus: this.bus,
      transport: this.transport,
      unitId: this.unitId,
      registerMap: this.registerMap,
      intervalMs: this.intervalMs,
      state: this.state,
      up: this.state === 'online',
      lastSuccessAt: iso(this.lastSuccessAt),
      lastAcceptedAt: iso(this.lastAcceptedAt),
      lastAttemptAt: iso(this.lastAttemptAt),
      silenceMs: silentSince === undefined ? null : now - silentSince,
      consecutiveFailures: this.consecutiveFailures,
      backoffUntil: this.backoffUntil !== undefined && this.backoffUntil > now ? iso(this.backoffUntil) : null,
      lastRttMs: this.lastRttMs === undefined ? null : Math.round(this.lastRttMs * 100) / 100,
      requests: this.requests,
      polls: { ...this.polls },
      errors: { ...this.errors },
      exceptions: Object.fromEntries([...this.exceptions].map(([code, n]) => [String(code), n])),
      lastError: this.lastError ? { ...this.lastError, at: iso(this.lastErrorAt) } : null,
      status: this.status ? { raw: this.status.raw, active: this.status.active, since: iso(this.status.since) } : null,
      registers: this.registers ? jsonSafe(this.registers) : undefined,
    };
  }
}

export type DeviceHealthJson = ReturnType<DeviceHealth['toJSON']>;

const iso = (t: number | undefined): string | null => (t === undefined ? null : new Date(t).toISOString());

/** NaN/Infinity are not JSON: show them as strings. */
function jsonSafe(r: Record<string, number>): Record<string, number | string> {
  const out: Record<string, number | string> = {};
  for (const [k, v] of Object.entries(r)) out[k] = Number.isFinite(v) ? v : String(v);
  return out;
}
