import { join } from 'node:path';
import { ApiServer, loadApiConfig } from '@cnx/api';
import { createLogger } from '@cnx/runtime';
import { SqliteReadingStore } from '@cnx/store';
import { makeTempDir, removeDir } from '@cnx/testkit';
// The API's own seeding helper (a few Chiang Mai stations over the 30 hours before `now`).
import { chiangMai, seedReadings } from '../../../apps/api/test/helpers';

export const ADMIN_KEY = 'client-test-admin-key-0123456789';
export const HOUR = 3_600_000;

export interface RunningApi {
  server: ApiServer;
  url: string;
  /** The seeding time (data runs up to it). */
  now: number;
  stop(): Promise<void>;
}

/**
 * The real API as it runs in production (ApiServer: city pack, read-only SQLite store, optional bus,
 * listening on 127.0.0.1 on a free port) over a SQLite file seeded by the API's test helper.
 */
export async function startApi(env: Record<string, string> = {}): Promise<RunningApi> {
  const dir = await makeTempDir('cnx-api-client-');
  const now = Math.floor(Date.now() / 60_000) * 60_000;
  const writer = new SqliteReadingStore({ path: join(dir, 'cnx.sqlite') });
  await writer.start();
  await writer.write(seedReadings(await chiangMai(), now));
  const server = new ApiServer(
    loadApiConfig({
      API_HOST: '127.0.0.1',
      API_PORT: '0',
      CNX_DATA_DIR: dir,
      API_LIVE: 'false',
      API_RATE_LIMIT_MAX: '100000',
      API_ADMIN_KEYS: ADMIN_KEY,
      // No load shedding: a busy test machine lags without the API being at fault (apps/api pressure.test.ts).
      API_MAX_EVENT_LOOP_DELAY_MS: '0',
      ...env,
    }),
    createLogger('api-client-test', process.env.TEST_LOG_LEVEL ?? 'silent'),
  );
  try {
    await server.start();
  } catch (err) {
    await writer.stop();
    await removeDir(dir);
    throw err;
  }
  return {
    server,
    url: server.url,
    now,
    async stop() {
      await server.stop();
      await writer.stop();
      await removeDir(dir);
    },
  };
}
