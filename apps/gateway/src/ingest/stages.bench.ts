/**
 * Ingest stages micro-benchmark (not a test): CPU per reading of `IngestStep.message()` (UTF-8
 * check, parse and schema, QC, correction, normalised JSON), the sink's commit with the spool's
 * encoding (into memory, no system call) and the republisher's bus JSON, without sockets or disk,
 * so changes to the hot path can be compared without the whole-system bench's noise
 * (bench/README.md; docs/performance.md). Payloads are the load generator's.
 *
 *   npx tsx apps/gateway/src/ingest/stages.bench.ts [readings=400000] [rounds=5]
 */
import { DEFAULT_CITY_ID, loadCityPack, resolveCityDir } from '@cnx/city-pack';
import { DEFAULT_QC_CONFIG } from '@cnx/domain';
import { topics } from '@cnx/protocol';
import { createLogger } from '@cnx/runtime';
import { GatewayStats } from '../metrics';
import { Republisher } from './republisher';
import { type DurableLog, SpoolSink } from './sink';
import { IngestStep } from './step';

const N = Number(process.argv[2] ?? 400_000);
const ROUNDS = Number(process.argv[3] ?? 5);

/** "Writes" into a reused buffer: the spool's encoding, no system call. */
class MemoryLog implements DurableLog {
  readonly full = false;
  nextIndex = 0;
  private buf = Buffer.allocUnsafe(1 << 20);
  bytes = 0;
  appendMany(records: readonly string[]): boolean {
    let n = 0;
    for (const r of records) {
      n += this.buf.write(r, n);
      this.buf[n++] = 10;
    }
    this.bytes += n;
    this.nextIndex += records.length;
    return true;
  }
}

async function main(): Promise<void> {
  const loaded = await loadCityPack(resolveCityDir(DEFAULT_CITY_ID));
  if (!loaded.ok) throw new Error(`${DEFAULT_CITY_ID} city pack invalid`);
  const pack = loaded.value;
  const devices = pack.devices.filter((d) => pack.stationById.get(d.stationId)?.kind === 'air').map((d) => d.id);
  const spool = new MemoryLog();
  let busBytes = 0;
  const stats = new GatewayStats();
  const step = new IngestStep({ pack, qcConfig: DEFAULT_QC_CONFIG, stats, maxPayloadBytes: 16 * 1024 });
  const sink = new SpoolSink(spool, stats, createLogger('stages-bench', 'silent'));
  // The bus every 16 readings, as a 25 ms window holds at 640 readings/s (more at higher rates).
  const bus = new Republisher(
    topics.readings(pack.city.id),
    {
      publish: (_t, p) => {
        busBytes += p.length;
      },
    },
    1e9,
  );
  sink.onCommitted(bus.onCommitted);
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
  console.log(
    `ingest stages bench: ${N.toLocaleString('en-US')} readings over ${devices.length} devices, ${ROUNDS} rounds`,
  );
  for (let round = 0; round < ROUNDS; round++) {
    // Every round replays the same series, so QC sees duplicates after the first: offset the clock.
    const now = Date.now();
    const cpu0 = process.cpuUsage();
    for (let i = 0; i < N; i++) {
      const d = i % devices.length;
      const result = step.message(devices[d]!, payloads[i]!, now);
      if (result.ok) sink.commit(result.value, now);
      if (i % 16 === 15) bus.flush();
    }
    bus.flush();
    const cpu = process.cpuUsage(cpu0);
    console.log(`round ${round + 1}: ${((cpu.user + cpu.system) / N).toFixed(2)} µs CPU per reading`);
  }
  console.log(`spool ${(spool.bytes / 1e6).toFixed(0)} MB, bus ${(busBytes / 1e6).toFixed(0)} MB`);
}

await main();
