/**
 * Runs the gateway's Modbus poller for the bench: TCP devices (one bus per host:port) and/or one
 * RTU line, a given poll interval, and one of three ingest paths: 'noop' (count only), 'record'
 * (keep accepted poll times per device) or 'pipeline' (the gateway's real IngestPipeline with a
 * BatchAppender and a Spool in a temp dir; bus publishes go nowhere).
 *
 * The bench polls faster than the config allows in production (intervalMs >= 100): it validates a
 * config with a production interval, then sets the devices' interval on the parsed objects.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CityPack } from '@cnx/city-pack';
import { DEFAULT_QC_CONFIG } from '@cnx/domain';
import { createLogger } from '@cnx/runtime';
// The gateway's modules, by path: @cnx/gateway's package entry does not export the Modbus module (yet).
import { DeadLetters } from '../../apps/gateway/src/ingest/dead-letters';
import { SpoolSink } from '../../apps/gateway/src/ingest/sink';
import { IngestStep } from '../../apps/gateway/src/ingest/step';
import { GatewayStats } from '../../apps/gateway/src/metrics';
import {
  type DeviceHealthJson,
  interFrameMs,
  ModbusPoller,
  type PolledIngest,
  parseModbusConfig,
} from '../../apps/gateway/src/modbus/index';
import { Spool } from '../../apps/gateway/src/spool/spool';

export interface PollerRunOptions {
  pack: CityPack;
  intervalMs: number;
  timeoutMs: number;
  retries: number;
  maxBackoffMs?: number;
  /** Silence before a device-offline event (default 60 s: saturation runs must not flap). */
  offlineAfterMs?: number;
  /** Measured window, after `warmupMs` (connections, JIT, lazily loaded modules) that is not counted. */
  durationMs: number;
  warmupMs?: number;
  tcp?: { deviceId: string; unitId: number; tcp: { host: string; port: number } }[];
  rtu?: { path: string; baudRate: number; devices: { deviceId: string; unitId: number }[] };
  ingest: 'noop' | 'record' | 'pipeline';
}

export interface PollerRun {
  /** Successful polls in the measured window. */
  ok: number;
  /** Failed polls, whole run. */
  failed: number;
  requests: number;
  elapsedMs: number;
  cpuUs: number;
  rttP50Ms?: number;
  rttP99Ms?: number;
  /** Poll times (ts) of accepted readings per device, for 'record'. */
  accepted: Map<string, number[]>;
  health: DeviceHealthJson[];
  events: { device: string; event: string; ts: number }[];
}

const pct = (sorted: number[], p: number) =>
  sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] : undefined;

export async function runPoller(o: PollerRunOptions): Promise<PollerRun> {
  const logger = createLogger('modbus-bench', 'silent');
  const doc = {
    // Valid production values; the bench's own interval is set on the parsed devices below.
    defaults: { intervalMs: 60_000, timeoutMs: o.timeoutMs, retries: o.retries },
    buses: [
      ...(o.tcp ?? []).map((d, i) => ({ id: `tcp-${i}`, transport: 'tcp', host: d.tcp.host, port: d.tcp.port })),
      ...(o.rtu ? [{ id: 'rtu', transport: 'rtu', path: o.rtu.path, baudRate: o.rtu.baudRate }] : []),
    ],
    devices: [
      ...(o.tcp ?? []).map((d, i) => ({ deviceId: d.deviceId, bus: `tcp-${i}`, unitId: d.unitId })),
      ...(o.rtu?.devices ?? []).map((d) => ({ deviceId: d.deviceId, bus: 'rtu', unitId: d.unitId })),
    ],
  };
  const parsed = parseModbusConfig(doc, { pack: o.pack });
  if (!parsed.ok) throw new Error(`bench modbus config invalid:\n${parsed.error.join('\n')}`);
  for (const d of parsed.value.devices) {
    d.intervalMs = o.intervalMs;
    d.maxBackoffMs = o.maxBackoffMs ?? Math.max(o.intervalMs, 1000);
    d.offlineAfterMs = o.offlineAfterMs ?? 60_000;
  }

  const accepted = new Map<string, number[]>();
  const nothing = { ok: true as const, value: { readings: [], records: [], history: false } };
  const noBus = { publish: () => {} };
  let ingest: PolledIngest = {
    step: { decoded: () => nothing },
    sink: { full: false, commit: () => true },
    deadLetters: { publish: () => {} },
  };
  let cleanup = async () => {};
  if (o.ingest === 'record') {
    ingest = {
      ...ingest,
      step: {
        decoded(deviceId, reading) {
          const list = accepted.get(deviceId) ?? [];
          if (list.length === 0) accepted.set(deviceId, list);
          list.push(reading.ts);
          return nothing;
        },
      },
    };
  } else if (o.ingest === 'pipeline') {
    const dir = await mkdtemp(join(tmpdir(), 'cnx-modbus-bench-spool-'));
    const spool = new Spool({ dir });
    await spool.start();
    const stats = new GatewayStats();
    // The gateway's ingest stages (apps/gateway/src/gateway.ts), the bus not published.
    ingest = {
      step: new IngestStep({ pack: o.pack, qcConfig: DEFAULT_QC_CONFIG, stats, maxPayloadBytes: 16 * 1024 }),
      sink: new SpoolSink(spool, stats, logger),
      deadLetters: new DeadLetters(o.pack.city.id, noBus, stats, logger),
    };
    cleanup = async () => {
      await spool.stop();
      await rm(dir, { recursive: true, force: true });
    };
  }

  const events: PollerRun['events'] = [];
  const poller = new ModbusPoller({
    config: parsed.value,
    city: o.pack.city.id,
    ingest,
    bus: {
      publish: (topic, payload) => {
        if (topic.includes('/events/')) {
          const e = JSON.parse(payload) as { device: string; event: string; ts: number };
          events.push({ device: e.device, event: e.event, ts: e.ts });
        }
      },
    },
    logger,
  });
  const rtt: number[] = [];
  poller.onRtt((_d, s) => {
    if (rtt.length < 1_000_000) rtt.push(s * 1000);
  });
  const okNow = () => poller.healths().reduce((n, h) => n + h.polls.ok, 0);
  await poller.start();
  await new Promise((r) => setTimeout(r, o.warmupMs ?? 0));
  const ok0 = okNow();
  rtt.length = 0;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, o.durationMs));
  const elapsedMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const okInWindow = okNow() - ok0;
  const status = poller.status();
  await poller.stop();
  await cleanup();
  rtt.sort((a, b) => a - b);
  const sum = (k: 'ok' | 'failed') => status.devices.reduce((n, d) => n + d.polls[k], 0);
  return {
    ok: okInWindow,
    failed: sum('failed'),
    requests: status.devices.reduce((n, d) => n + d.requests, 0),
    elapsedMs,
    cpuUs: cpu.user + cpu.system,
    rttP50Ms: pct(rtt, 50),
    rttP99Ms: pct(rtt, 99),
    accepted,
    health: status.devices,
    events,
  };
}

/**
 * Wire-time ceiling of one "read N holding registers" transaction on an RTU line ("Modbus over
 * serial line" v1.02): request 8 chars (unit, fn, address 2, count 2, CRC 2), response 5 + 2N chars
 * (unit, fn, byte count, 2N data, CRC 2), each char `bitsPerChar` bits (8N1 = 10; the spec's 11-bit
 * frame = 8E1 or 8N2), plus t3.5 of silence after each frame.
 */
export function rtuCeiling(registers: number, baudRate: number, bitsPerChar: number) {
  const charMs = (bitsPerChar * 1000) / baudRate;
  const t35Ms = interFrameMs({
    baudRate,
    dataBits: 8,
    parity: bitsPerChar === 11 ? 'even' : 'none',
    stopBits: 1,
  });
  const chars = 8 + 5 + 2 * registers;
  const wireMs = chars * charMs;
  const perRequestMs = wireMs + 2 * t35Ms;
  return { bitsPerChar, charMs, t35Ms, chars, wireMs, perRequestMs, perSecond: 1000 / perRequestMs };
}
