import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type CityPack, loadCityPack, resolveCityDir } from '@cnx/city-pack';
import type { Result } from '@cnx/domain';
import {
  type BusParseError,
  type NormalizedReadingPayload,
  parseDeadLetter,
  parseDeviceEvent,
  parseReadingsBatch,
} from '@cnx/protocol';
import { createLogger, type Logger } from '@cnx/runtime';
import { type ModbusConfig, parseModbusConfig } from '../../src/modbus/config';
import { ModbusPoller } from '../../src/modbus/poller.service';
import { Spool } from '../../src/spool/spool';
import { ingestStages } from '../stages';

export { waitFor } from '../helpers';

export const CANAL_DEVICES = [
  'cm-canal-changphueak-probe',
  'cm-canal-sriphum-probe',
  'cm-canal-rakaeng-probe',
  'cm-canal-pratukom-probe',
  'cm-canal-padaet-probe',
] as const;

export const quietLogger = (): Logger => createLogger('modbus-test', process.env.TEST_LOG_LEVEL ?? 'silent');

let packPromise: Promise<CityPack> | undefined;
export function chiangMai(): Promise<CityPack> {
  packPromise ??= loadCityPack(resolveCityDir('chiang-mai')).then((r) => {
    if (!r.ok) throw new Error('chiang-mai city pack invalid');
    return r.value;
  });
  return packPromise;
}

/** parseModbusConfig that throws with every problem (tests build valid configs). */
export function modbusConfig(pack: CityPack, doc: unknown): ModbusConfig {
  const r = parseModbusConfig(doc, { pack });
  if (!r.ok) throw new Error(`invalid modbus config:\n${r.error.join('\n')}`);
  return r.value;
}

/** A bus message read with the bus contract's parser (@cnx/protocol bus.ts): throws if the producer broke it. */
export function onContract<T>(parse: (p: string) => Result<T, BusParseError>, m: Published): T {
  const r = parse(m.payload);
  if (!r.ok)
    throw new Error(`${m.topic}: not what the bus contract describes (${r.error}): ${m.payload.slice(0, 300)}`);
  return r.value;
}

export interface Published {
  topic: string;
  payload: string;
}

/**
 * The real ingest stages (step -> sink -> republisher, dead letters) on a Spool in a temp dir, with
 * the bus captured. `spooled()` reads back every record committed so far.
 */
export async function pipelineHarness() {
  const pack = await chiangMai();
  const dir = mkdtempSync(path.join(tmpdir(), 'cnx-modbus-spool-'));
  const spool = new Spool({ dir, fsync: 'never' });
  await spool.start();
  // busBatchMs 0: these tests check the bus right after each poll.
  const stages = ingestStages({ pack, log: spool, busBatchMs: 0 });
  const { published, stats } = stages;
  const records: NormalizedReadingPayload[] = [];
  return {
    pack,
    ingest: { step: stages.step, sink: stages.sink, deadLetters: stages.deadLetters },
    stats,
    published,
    publish: (topic: string, payload: string) => published.push({ topic, payload }),
    spooled(): NormalizedReadingPayload[] {
      for (;;) {
        const batch = spool.readBatch(10_000);
        if (!batch || batch.records.length === 0) break;
        for (const r of batch.records) records.push(JSON.parse(r) as NormalizedReadingPayload);
      }
      return records;
    },
    readings: (device?: string) =>
      published
        .filter((p) => p.topic.endsWith('/readings'))
        .flatMap((p) => onContract(parseReadingsBatch, p).readings)
        .filter((r) => !device || r.device === device),
    deadLetters: () =>
      published
        .filter((p) => p.topic.includes('/deadletter/'))
        .map((p) => ({ busTopic: p.topic, ...onContract(parseDeadLetter, p) })),
    events: (kind: 'device-offline' | 'device-online') =>
      published.filter((p) => p.topic.endsWith(`/events/${kind}`)).map((p) => onContract(parseDeviceEvent, p)),
    async stop() {
      await spool.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export type PipelineHarness = Awaited<ReturnType<typeof pipelineHarness>>;

/** A started poller on the harness's pipeline, and the health of CANAL_DEVICES[i]. */
export async function startPoller(h: PipelineHarness, config: ModbusConfig) {
  const poller = new ModbusPoller({
    config,
    city: h.pack.city.id,
    ingest: h.ingest,
    bus: { publish: h.publish },
    logger: quietLogger(),
    busyRetryDelayMs: 20,
  });
  await poller.start();
  const health = (i: number) => poller.healths().find((x) => x.deviceId === CANAL_DEVICES[i])!;
  return { poller, health };
}

/**
 * Bounds for the number of polls of a healthy device with period `intervalMs` over `windowMs`:
 * floor(window / interval) slots, ± 1 for where the window's edges fall, − `slack` more for timer
 * jitter on a loaded CI machine.
 */
export function expectedPolls(windowMs: number, intervalMs: number, slack = 1): { min: number; max: number } {
  const n = windowMs / intervalMs;
  return { min: Math.max(0, Math.floor(n) - 1 - slack), max: Math.ceil(n) + 1 };
}
