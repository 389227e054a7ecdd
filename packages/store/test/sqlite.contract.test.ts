import { join } from 'node:path';
import { makeTempDir, removeDir } from '@cnx/testkit';
import { SqliteReadingStore } from '../src/index';
import { type ContractSubject, runReadingStoreContract } from './contract';
import { runReadingStoreReadContract } from './contract-reads';

// A file, not ':memory:', so the contract's stop()/start() persistence check is meaningful.
const subject = async (): Promise<ContractSubject> => {
  const dir = await makeTempDir('cnx-sqlite-contract-');
  return {
    store: new SqliteReadingStore({ path: join(dir, 'nested', 'readings.db') }),
    teardown: () => removeDir(dir),
  };
};

runReadingStoreContract('sqlite', subject);
runReadingStoreReadContract('sqlite', subject);
