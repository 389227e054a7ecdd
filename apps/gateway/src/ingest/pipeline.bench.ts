/**
 * Ingest pipeline micro-benchmark (not a test): CPU per reading of `IngestPipeline.handle()` (UTF-8
 * check, parse and schema, QC, correction, normalised JSON) and of the spool encoding that follows,
 * without sockets or disk, so changes to the hot path can be compared without the whole-system
 * bench's noise (bench/README.md; docs/performance.md). Payloads are the load generator's.
 *
 *   npx tsx apps/gateway/src/ingest/pipeline.bench.ts [readings=400000] [rounds=5]
 */
import { DEFAULT_CITY_ID, loadCityPack, resolveCityDir } from '@cnx/city-pack';
import { DEFAULT_QC_CONFIG, type Reading } from '@cnx/domain';
import { createLogger } from '@cnx/runtime';
import { GatewayStats } from '../metrics';
import { IngestPipeline, type SpoolAppender } from './pipeline';

const N = Number(process.argv[2] ?? 400_000);
const ROUNDS = Number(process.argv[3] ?? 5);

/** Stages like BatchAppender and "writes" into a reused buffer: the spool's encoding, no system call. */
class MemoryAppender implements SpoolAppender {
  readonly full = false;
  readonly failures = 0;
  private staged: string[] = [];
  private readings: Reading[] = [];
  private buf = Buffer.allocUnsafe(1 << 20);
  private readonly listeners: ((first: number, records: readonly string[], readings: readonly Reading[]) => void)[] =
    [];
  bytes = 0;
  appendMany(records: string[], readings: Reading[]): boolean {
    for (const r of records) this.staged.push(r);
    for (const r of readings) this.readings.push(r);
    return true;
  }
  flush(): boolean {
    let n = 0;
    for (const r of this.staged) {
      n += this.buf.write(r, n);
      this.buf[n++] = 10;
    }
    this.bytes += n;
    for (const l of this.listeners) l(0, this.staged, this.readings);
    this.staged = [];
    this.readings = [];
    return true;
  }
  onFlush(listener: (first: number, records: readonly string[], readings: readonly Reading[]) => void): void {
    this.listeners.push(listener);
  }
}

async function main(): Promise<void> {
  const loaded = await loadCityPack(resolveCityDir(DEFAULT_CITY_ID));
  if (!loaded.ok) throw new Error(`${DEFAULT_CITY_ID} city pack invalid`);
  const pack = loaded.value;
  const devices = pack.devices.filter((d) => pack.stationById.get(d.stationId)?.kind === 'air').map((d) => d.id);
  const spool = new MemoryAppender();
  let busBytes = 0;
  const pipeline = new IngestPipeline({
    pack,
    spool,
    stats: new GatewayStats(),
    qcConfig: DEFAULT_QC_CONFIG,
    publish: (_topic, payload) => {
      busBytes += payload.length;
    },
    logger: createLogger('pipeline-bench', 'silent'),
    maxPayloadBytes: 16 * 1024,
    busBatchMs: 0,
  });
  const r1 = (x: number) => Math.round(x * 10) / 10;
  const start = Date.now() - 3_600_000;
  // The load generator's payloads (bench/src/loadgen.ts): a smooth series per device.
  const payloads = Array.from({ length: N }, (_, i) => {
    const seq = Math.floor(i / devices.length);
    const b = 20 + (i % devices.length) + Math.sin(seq / 50) * 5;
    return Buffer.from(
      `{"ts":${start + seq * 1000},"seq":${seq},"values":{"pm1":${r1(b * 0.7)},"pm25":${r1(b)},"pm10":${r1(b * 1.3)},"temperature":${r1(28 + Math.sin(seq / 300) * 3)},"humidity":${r1(60 + Math.sin(seq / 200) * 10)}}}`,
    );
  });
  const topicOf = devices.map((d) => `cnx/v1/${pack.city.id}/devices/${d}/telemetry`);
  console.log(`pipeline bench: ${N.toLocaleString('en-US')} readings over ${devices.length} devices, ${ROUNDS} rounds`);
  for (let round = 0; round < ROUNDS; round++) {
    // Every round replays the same series, so QC sees duplicates after the first: offset the clock.
    const now = Date.now();
    const cpu0 = process.cpuUsage();
    for (let i = 0; i < N; i++) {
      const d = i % devices.length;
      pipeline.handle(devices[d]!, payloads[i]!, now, topicOf[d]!);
      if (i % 16 === 15) pipeline.flush();
    }
    pipeline.flush();
    const cpu = process.cpuUsage(cpu0);
    console.log(`round ${round + 1}: ${((cpu.user + cpu.system) / N).toFixed(2)} µs CPU per reading`);
  }
  console.log(`spool ${(spool.bytes / 1e6).toFixed(0)} MB, bus ${(busBytes / 1e6).toFixed(0)} MB`);
}

await main();
