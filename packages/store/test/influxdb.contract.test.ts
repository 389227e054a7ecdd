import type { Reading } from '@cnx/domain';
import { type InfluxDBHandle, startInfluxDB } from '@cnx/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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

// Raw readings in a retention policy of their own, rollups in one kept for good (INFLUX_RP,
// INFLUX_ROLLUP_RP): the same contract, and the points land where they should.
const separate = async (): Promise<ContractSubject & { database: string }> => {
  const server = influx!;
  const database = `contract_${++n}`;
  const db = ident(database).text;
  await server.query(`CREATE DATABASE ${db}`);
  await server.query(`CREATE RETENTION POLICY "raw" ON ${db} DURATION 3650d REPLICATION 1`);
  await server.query(`CREATE RETENTION POLICY "forever" ON ${db} DURATION INF REPLICATION 1`);
  return {
    database,
    store: new InfluxDbReadingStore({
      url: server.url,
      database,
      retentionPolicy: 'raw',
      rollupRetentionPolicy: 'forever',
      timeoutMs: 15_000,
    }),
    teardown: async () => {
      await server.query(`DROP DATABASE ${db}`);
    },
    legacy: () => Promise.reject(new Error('not used')),
  };
};
runRollupContract('influxdb, INFLUX_RP=raw, INFLUX_ROLLUP_RP=forever', separate);

describe('InfluxDB rollups in their own retention policy', () => {
  it('writes rollups and state to INFLUX_ROLLUP_RP, readings and late marks to INFLUX_RP', async () => {
    const s = await separate();
    await s.store.start();
    try {
      const ts = Date.UTC(2025, 2, 1, 6);
      await s.store.write([
        { city: 'cnx', stationId: 's1', deviceId: 'd1', ts, values: { pm25: 1 }, corrections: [], qc: [] },
      ]);
      const row = {
        level: '1h' as const,
        city: 'cnx',
        stationId: 's1',
        metric: 'pm25',
        start: ts,
        mean: 1,
        min: 1,
        max: 1,
        count: 1,
        flagged: 0,
        expected: 60,
      };
      await s.store.replaceRollups({ level: '1h', city: 'cnx', from: ts, to: ts + 3_600_000 }, [row]);
      await s.store.saveRollupState('cnx', { hour: ts, day: 0, lateCursor: 0, rawFrom: 0 });
      const count = async (rp: string, m: string) => {
        const res = await influx!.query(`SELECT count(*) FROM ${ident(s.database).text}."${rp}"."${m}"`);
        const v = res.results?.[0]?.series?.[0]?.values?.[0];
        return v ? Number(v[1]) : 0;
      };
      expect(await count('forever', 'rollup')).toBe(1);
      expect(await count('forever', 'rollup_state')).toBe(1);
      expect(await count('raw', 'rollup')).toBe(0);
      expect(await count('raw', 'reading')).toBe(1);
      expect(await count('raw', 'rollup_late')).toBe(1);
      expect(await s.store.readRollups({ level: '1h', city: 'cnx', from: ts, to: ts + 1 })).toEqual([row]);
    } finally {
      await s.store.stop();
      await s.teardown?.();
    }
  });
});
