import { type InfluxDBHandle, startInfluxDB } from '@cnx/testkit';
import { afterAll, beforeAll } from 'vitest';
import { InfluxDbReadingStore, ident } from '../src/index';
import { type ContractSubject, runReadingStoreContract } from './contract';
import { runReadingStoreReadContract } from './contract-reads';

let influx: InfluxDBHandle | undefined;
let n = 0;

beforeAll(async () => {
  influx = await startInfluxDB();
});

afterAll(async () => {
  await influx?.stop();
});

// A fresh database per test on one real influxd (Debian's 1.x), started by the suite itself.
const subject = async (): Promise<ContractSubject> => {
  const server = influx!;
  const database = `contract_${++n}`;
  return {
    store: new InfluxDbReadingStore({ url: server.url, database, createDatabase: true, timeoutMs: 15_000 }),
    teardown: async () => {
      await server.query(`DROP DATABASE ${ident(database).text}`);
    },
  };
};

runReadingStoreContract('influxdb', subject);
runReadingStoreReadContract('influxdb', subject);
