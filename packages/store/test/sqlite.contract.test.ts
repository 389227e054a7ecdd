import { join } from 'node:path';
import { makeTempDir, removeDir } from '@cnx/testkit';
import Database from 'better-sqlite3';
import { SqliteReadingStore } from '../src/index';
import { type ContractSubject, runReadingStoreContract } from './contract';
import { runReadingStoreQcMetricsContract } from './contract-qc-metrics';
import { runReadingStoreReadContract } from './contract-reads';
import { runRollupContract } from './contract-rollups';

// A file, not ':memory:', so the contract's stop()/start() persistence check is meaningful.
const subject = async (): Promise<ContractSubject> => {
  const dir = await makeTempDir('cnx-sqlite-contract-');
  const path = join(dir, 'nested', 'readings.db');
  const store = new SqliteReadingStore({ path });
  return {
    store,
    teardown: () => removeDir(dir),
    // Rows as a file from before qc_metrics holds them after its migration: NULL in the column.
    legacy: async (readings) => {
      await store.write(readings);
      const db = new Database(path);
      try {
        const clear = db.prepare(
          'UPDATE readings SET qc_metrics = NULL WHERE city = ? AND station = ? AND device = ? AND ts = ?',
        );
        for (const r of readings) clear.run(r.city, r.stationId, r.deviceId, r.ts);
      } finally {
        db.close();
      }
    },
  };
};

runReadingStoreContract('sqlite', subject);
runReadingStoreReadContract('sqlite', subject);
runReadingStoreQcMetricsContract('sqlite', subject);
runRollupContract('sqlite', subject);
