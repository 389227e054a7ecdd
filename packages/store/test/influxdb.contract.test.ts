import type { Reading } from '@cnx/domain';
import { type InfluxDBHandle, startInfluxDB } from '@cnx/testkit';
import { afterAll, beforeAll } from 'vitest';
import { InfluxDbReadingStore, ident, ReadingEncoder } from '../src/index';
import { type ContractSubject, runReadingStoreContract } from './contract';
import { runReadingStoreQcMetricsContract } from './contract-qc-metrics';
import { runReadingStoreReadContract } from './contract-reads';
import { runRollupContract } from './contract-rollups';

let influx: InfluxDBHandle | undefined;
let n = 0;

beforeAll(async () => {
  influx = await startInfluxDB();
});

afterAll(async () => {
  await influx?.stop();
});

/** Points as written before the qc_metrics field existed: today's line without it. */
async function writeLegacy(url: string, database: string, readings: readonly Reading[]): Promise<void> {
  const encoder = new ReadingEncoder();
  const lines = readings.map((r) => encoder.encode(r).replace(',qc_metrics=""', '')).join('\n');
  if (lines.includes('qc_metrics')) throw new Error('legacy readings must not carry qcMetrics');
  const params = new URLSearchParams({ db: database, precision: 'ms' });
  const res = await fetch(`${url}/write?${params}`, { method: 'POST', body: lines });
  if (res.status !== 204) throw new Error(`legacy write: ${res.status} ${await res.text()}`);
}

// A fresh database per test on one real influxd (Debian's 1.x), started by the suite itself.
const subject = async (): Promise<ContractSubject> => {
  const server = influx!;
  const database = `contract_${++n}`;
  return {
    store: new InfluxDbReadingStore({ url: server.url, database, createDatabase: true, timeoutMs: 15_000 }),
    teardown: async () => {
      await server.query(`DROP DATABASE ${ident(database).text}`);
    },
    legacy: (readings) => writeLegacy(server.url, database, readings),
  };
};

runReadingStoreContract('influxdb', subject);
runReadingStoreReadContract('influxdb', subject);
runReadingStoreQcMetricsContract('influxdb', subject);
runRollupContract('influxdb', subject);
