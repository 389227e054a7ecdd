import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { type CityPack, loadCityPack, resolveCityDir } from '@cnx/city-pack';
import type { DeadLetterPayload, NormalizedReadingPayload, ReadingsBatchPayload } from '@cnx/protocol';
import { createLogger } from '@cnx/runtime';
import Fastify, { type FastifyInstance } from 'fastify';
import { AIRROHR_DEFAULTS, type AirrohrPushConfig } from '../../src/http-push/airrohr.config';
import { AirrohrPushStats, registerAirrohrMetrics } from '../../src/http-push/airrohr.metrics';
import { type AirrohrPushDeps, airrohrPushPlugin } from '../../src/http-push/airrohr.plugin';
import { type AirrohrRegistration, buildAirrohrRegistry } from '../../src/http-push/airrohr.registry';
import { createMetrics, GatewayStats } from '../../src/metrics';
import { Spool } from '../../src/spool/spool';
import { ingestStages } from '../stages';

export const CITY = 'chiang-mai';
export const STATION = 'cm-air-nimman-01';
export const CHIP = '13463418';
export const SENSOR = `esp8266-${CHIP}`;
export const DEVICE = 'cm-air-citizen-0001';
export const VERSION = 'NRZ-2020-133';

/**
 * The body of the firmware's "custom API" POST, byte for byte: airrohr-firmware.ino builds
 * `data` = data_first_part `{"software_version": "<v>", "sensordatavalues":[` + one
 * `{"value_type":"<t>","value":"<v>"},` per value (add_Value2Json, utils.cpp), drops the last comma,
 * appends `]}`; sendDataToOptionalApis() then replaces the leading `{` with
 * `{"esp8266id": "<chip id>", `.
 */
export function firmwareBody(values: [string, string][], chipId = CHIP, version = VERSION): string {
  let data = `{"software_version": "${version}", "sensordatavalues":[`;
  for (const [t, v] of values) data += `{"value_type":"${t}","value":"${v}"},`;
  if (data.endsWith(',')) data = data.slice(0, -1);
  data += ']}';
  return `{"esp8266id": "${chipId}", ${data.slice(1)}`;
}

/** An SDS011 + DHT22 node's POST (the airrohr kit), as the firmware sends it. */
export const CAPTURED_BODY =
  '{"esp8266id": "13463418", "software_version": "NRZ-2020-133", "sensordatavalues":[' +
  '{"value_type":"SDS_P1","value":"12.30"},{"value_type":"SDS_P2","value":"7.50"},' +
  '{"value_type":"temperature","value":"29.40"},{"value_type":"humidity","value":"71.20"},' +
  '{"value_type":"samples","value":"5128463"},{"value_type":"min_micro","value":"28"},' +
  '{"value_type":"max_micro","value":"20132"},{"value_type":"signal","value":"-67"}]}';

/** The headers sendData() adds (Content-Type, X-Sensor, X-MAC-ID); HTTPClient adds the others. */
export const FIRMWARE_HEADERS = {
  'content-type': 'application/json',
  'x-sensor': SENSOR,
  'x-mac-id': 'esp8266-a0b1c2d3e4f5',
  'user-agent': `${VERSION}/${CHIP}/a0b1c2d3e4f5`,
  connection: 'close',
  'accept-encoding': 'identity;q=1,chunked;q=0.1,*;q=0',
};

let packPromise: Promise<CityPack> | undefined;
export function chiangMai(): Promise<CityPack> {
  packPromise ??= loadCityPack(resolveCityDir(CITY)).then((r) => {
    if (!r.ok) throw new Error('chiang-mai city pack invalid');
    return r.value;
  });
  return packPromise;
}

const dirs: string[] = [];
export function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cnx-airrohr-test-'));
  dirs.push(dir);
  return dir;
}
export function removeTempDirs(): void {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
}

export interface PushHarness {
  app: FastifyInstance;
  spool: Spool;
  stats: GatewayStats;
  pushStats: AirrohrPushStats;
  ingest: AirrohrPushDeps['ingest'];
  published: { topic: string; payload: string }[];
  metricsText(): Promise<string>;
  /** Readings in the spool (what the store writer will get). */
  spooled(): NormalizedReadingPayload[];
  readings(): NormalizedReadingPayload[];
  deadLetters(): (DeadLetterPayload & { topicName: string })[];
  clock: { now: number };
  close(): Promise<void>;
}

export const DEFAULT_REGISTRATIONS: AirrohrRegistration[] = [
  { sensor: SENSOR, deviceId: DEVICE, stationId: STATION },
  { sensor: 'esp32-a1b2c3d4e5f6', deviceId: 'cm-air-citizen-0002', stationId: STATION, password: 'chiangmai-2024' },
];

/**
 * The plugin on a bare Fastify instance, with the real ingest stages, a real Spool in a temp dir and
 * the real Chiang Mai city pack. Bus publishes are captured.
 */
export async function pushHarness(
  opts: {
    registrations?: AirrohrRegistration[];
    config?: Partial<AirrohrPushConfig>;
    spoolMaxBytes?: number;
    maxPayloadBytes?: number;
    /** Replaces a stage of the real ones (a refusing step, a failing sink). */
    ingest?: Partial<AirrohrPushDeps['ingest']>;
  } = {},
): Promise<PushHarness> {
  const pack = await chiangMai();
  const built = buildAirrohrRegistry(opts.registrations ?? DEFAULT_REGISTRATIONS, pack);
  if (!built.ok) throw new Error(built.error.join('\n'));
  const spool = new Spool({ dir: tempDir(), fsync: 'never', maxBytes: opts.spoolMaxBytes ?? 64 * 1024 * 1024 });
  await spool.start();
  const stats = new GatewayStats();
  const logger = createLogger('airrohr-test', process.env.TEST_LOG_LEVEL ?? 'silent');
  // busBatchMs 0: these tests check the bus right after each request.
  const stages = ingestStages({ pack, log: spool, stats, maxPayloadBytes: opts.maxPayloadBytes, busBatchMs: 0 });
  const { published } = stages;
  const ingest = { step: stages.step, sink: stages.sink, deadLetters: stages.deadLetters, ...opts.ingest };
  const pushStats = new AirrohrPushStats();
  const metrics = createMetrics(stats, spool);
  registerAirrohrMetrics(metrics.registry, pushStats, () => built.value.registry.size);
  const clock = { now: Date.now() };
  const app = Fastify({ loggerInstance: logger }) as unknown as FastifyInstance;
  await app.register(
    airrohrPushPlugin({
      ingest,
      stats,
      registry: built.value.registry,
      pushStats,
      config: {
        path: AIRROHR_DEFAULTS.path,
        maxBodyBytes: AIRROHR_DEFAULTS.maxBodyBytes,
        dedupeWindowMs: AIRROHR_DEFAULTS.dedupeSeconds * 1000,
        registerInfo: 'Register at https://cnx-sense.example/register.',
        retryAfterSeconds: AIRROHR_DEFAULTS.retryAfterSeconds,
        ...opts.config,
      },
      now: () => clock.now,
    }),
  );
  await app.ready();
  return {
    app,
    spool,
    stats,
    pushStats,
    ingest,
    published,
    clock,
    metricsText: () => metrics.registry.metrics(),
    spooled() {
      const out: NormalizedReadingPayload[] = [];
      for (let b = spool.readBatch(1000); b; b = spool.readBatch(1000)) {
        for (const r of b.records) out.push(JSON.parse(r) as NormalizedReadingPayload);
        spool.commit(b.end);
      }
      return out;
    },
    readings: () =>
      published
        .filter((p) => p.topic.endsWith('/readings'))
        .flatMap((p) => (JSON.parse(p.payload) as ReadingsBatchPayload).readings),
    deadLetters: () =>
      published
        .filter((p) => p.topic.includes('/deadletter/'))
        .map((p) => ({ ...(JSON.parse(p.payload) as DeadLetterPayload), topicName: p.topic })),
    async close() {
      await app.close();
      await spool.stop();
    },
  };
}
