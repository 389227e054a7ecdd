import { join } from 'node:path';
import { makeTempDir, removeDir } from '@cnx/testkit';
import { SqliteReadingStore } from '../src/index';
import { runReadingStoreContract } from './contract';

// A file, not ':memory:', so the contract's stop()/start() persistence check is meaningful.
runReadingStoreContract('sqlite', async () => {
  const dir = await makeTempDir('cnx-sqlite-contract-');
  return {
    store: new SqliteReadingStore({ path: join(dir, 'nested', 'readings.db') }),
    teardown: () => removeDir(dir),
  };
});
