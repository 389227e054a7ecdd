import { join } from 'node:path';
import { loadCityPack, resolveCityDir } from '@cnx/city-pack';
import { deviceIntervalMs, expectedSamples } from '@cnx/domain';
import { createLogger } from '@cnx/runtime';
import { SqliteReadingStore } from '@cnx/store';
import { makeTempDir, removeDir } from '@cnx/testkit';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { RollupService } from '../src/rollup.service';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

describe('RollupService (the gateway rolls up on a timer)', () => {
  let dir: string;
  let store: SqliteReadingStore;

  beforeEach(async () => {
    dir = await makeTempDir('cnx-rollup-service-');
    store = new SqliteReadingStore({ path: join(dir, 'readings.db') });
    await store.start();
  });

  afterEach(async () => {
    await store.stop();
    await removeDir(dir);
  });

  it('rolls up in the local hours of the city pack, with coverage at each device cadence, and deletes raw past retention', async () => {
    const loaded = await loadCityPack(resolveCityDir('chiang-mai'));
    if (!loaded.ok) throw new Error('city pack');
    const pack = loaded.value;
    const device = pack.devices[0]!;
    const now = Date.now();
    // Local midnight (UTC+07:00) four days ago, one reading per device interval for two days.
    const t0 = Math.floor((now - 4 * DAY + 7 * HOUR) / DAY) * DAY - 7 * HOUR;
    const step = deviceIntervalMs(device);
    const readings = [];
    for (let ts = t0; ts < t0 + 2 * DAY; ts += step) {
      readings.push({
        city: pack.city.id,
        stationId: device.stationId,
        deviceId: device.id,
        ts,
        values: { pm25: 20 },
        corrections: [],
        qc: [],
      });
    }
    await store.write(readings);
    const logger = createLogger('test', 'silent');
    const service = new RollupService(store, pack, { intervalMs: 60_000, rawRetentionMs: 3 * DAY }, () => true, logger);
    const result = await service.runOnce(now);
    expect(result.rawFrom).toBe(Math.floor((now - 3 * DAY + 7 * HOUR) / DAY) * DAY - 7 * HOUR);
    const intervals = pack.devices.filter((d) => d.stationId === device.stationId).map(deviceIntervalMs);
    const days = await store.readRollups({ level: '1d', city: pack.city.id, from: t0, to: now, metrics: ['pm25'] });
    expect(days.map((d) => [d.start, d.count, d.expected])).toEqual([
      [t0, DAY / step, expectedSamples(DAY, intervals)],
      [t0 + DAY, DAY / step, expectedSamples(DAY, intervals)],
    ]);
    expect(await store.count({ from: 0, to: now })).toBe(DAY / step); // the first day is past retention

    // On its timer, once the store is started.
    let ready = false;
    const timed = new RollupService(store, pack, { intervalMs: 50, rawRetentionMs: 3 * DAY }, () => ready, logger);
    timed.start();
    ready = true;
    await vi.waitFor(() => expect(timed.status()?.ok).toBe(true), { timeout: 30_000, interval: 20 });
    await timed.stop();
  });
});
