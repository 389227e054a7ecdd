import { join } from 'node:path';
import { type CityPack, loadCityPack, resolveCityDir } from '@cnx/city-pack';
import type { Reading } from '@cnx/domain';
import { createLogger } from '@cnx/runtime';
import { SqliteReadingStore } from '@cnx/store';
import { makeTempDir, removeDir } from '@cnx/testkit';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../src/app';
import { type ApiConfig, loadApiConfig } from '../src/config';
import type { LiveListener, LiveSource } from '../src/services/bus.service';

export const CITY = 'chiang-mai';
export const ADMIN_KEY = 'test-admin-key-0123456789abcdef';
export const HOUR = 3_600_000;
export const MIN = 60_000;
/** A fixed "now" on a whole hour + 30 min, so hourly windows are predictable. */
export const NOW = Date.UTC(2025, 2, 10, 5, 30, 0);

export async function chiangMai(): Promise<CityPack> {
  return cityPack(CITY);
}

/** A city pack of the repository's cities/ folder, validated. */
export async function cityPack(id: string): Promise<CityPack> {
  const loaded = await loadCityPack(resolveCityDir(id));
  if (!loaded.ok) throw new Error(`${id} city pack invalid`);
  return loaded.value;
}

export function testConfig(env: Record<string, string> = {}): ApiConfig {
  return loadApiConfig({
    API_PORT: '0',
    CNX_DATA_DIR: '/nonexistent-cnx-test',
    API_LIVE: 'false',
    API_ADMIN_KEYS: ADMIN_KEY,
    API_CACHE_TTL_S: '0',
    // Load shedding answers 503 when the event loop lags a second; a busy test machine lags like that
    // without the API being at fault. pressure.test.ts checks the shedding itself.
    API_MAX_EVENT_LOOP_DELAY_MS: '0',
    ...env,
  });
}

export const logger = createLogger('api-test', process.env.TEST_LOG_LEVEL ?? 'silent');

/** A live source the test drives by hand. */
export class ManualLive implements LiveSource {
  connected = true;
  readonly listeners = new Set<LiveListener>();
  subscribe(l: LiveListener): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }
}

/** Synthetic readings for a few Chiang Mai stations over the 30 hours before NOW. */
export function seedReadings(pack: CityPack, now = NOW): Reading[] {
  const out: Reading[] = [];
  const air = ['cm-air-oldcity-01', 'cm-air-oldcity-02', 'cm-air-nimman-01'];
  for (const [i, stationId] of air.entries()) {
    const deviceId = pack.devices.find((d) => d.stationId === stationId)!.id;
    for (let t = now - 30 * HOUR; t < now; t += 10 * MIN) {
      const hours = (now - t) / HOUR;
      const pm25 = 20 + 10 * i + hours; // older = dirtier: PM falls towards now
      out.push({
        city: CITY,
        stationId,
        deviceId,
        ts: t,
        seq: out.length,
        values: { pm1: pm25 * 0.7, pm25, pm10: pm25 * 1.4, temperature: 30, humidity: 60 },
        corrections: [{ metric: 'pm25', value: Math.round(pm25 * 6) / 10, method: 'epa-barkjohn-2021-extended@1' }],
        qc: t === now - 2 * HOUR ? ['spike'] : t === now - 3 * HOUR ? ['humidity'] : [],
      });
    }
  }
  const canal = 'cm-canal-sriphum';
  const probe = pack.devices.find((d) => d.stationId === canal)!.id;
  for (let t = now - 2 * HOUR; t < now; t += 5 * MIN) {
    const level = 1.0 + ((t - (now - 2 * HOUR)) / HOUR) * 0.4; // rising 0.4 m/h
    out.push({
      city: CITY,
      stationId: canal,
      deviceId: probe,
      ts: t,
      values: { water_level: Math.round(level * 1000) / 1000, do: 3.5, ph: 7.2 },
      corrections: [],
      qc: [],
    });
  }
  return out;
}

export interface TestApp {
  app: FastifyInstance;
  store: SqliteReadingStore;
  pack: CityPack;
  live: ManualLive;
  close(): Promise<void>;
}

/** An app over a fresh SQLite file seeded with seedReadings(), not listening (use inject). */
export async function testApp(
  env: Record<string, string> = {},
  seed = true,
  /** Change the city pack before the app is built (e.g. a device's reporting interval). */
  editPack: (pack: CityPack) => void = () => undefined,
  /** Another city pack, and the readings to seed it with (instead of seedReadings). */
  city?: { id: string; seed: (pack: CityPack) => Reading[] },
): Promise<TestApp> {
  const dir = await makeTempDir('cnx-api-test-');
  const pack = structuredClone(await cityPack(city?.id ?? CITY));
  editPack(pack);
  const store = new SqliteReadingStore({ path: join(dir, 'cnx.sqlite') });
  await store.start();
  if (seed) await store.write(city ? city.seed(pack) : seedReadings(pack));
  const live = new ManualLive();
  const app = buildApp({ config: testConfig(env), pack, store, logger, live, now: () => NOW });
  await app.ready();
  return {
    app,
    store,
    pack,
    live,
    close: async () => {
      await app.close();
      await store.stop();
      await removeDir(dir);
    },
  };
}
