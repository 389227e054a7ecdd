/**
 * The simulator's `stuck` fault ("exactly the same values, ts/seq advance") against the real gateway
 * (issue 11, item 9): a field technician's run publishing through a real Mosquitto to the gateway
 * in-process, QC flags read back from the bus. Every frozen device must be flagged `stuck` from its
 * 30th identical reading (stuckCount) on, at the city pack's cadence (one reading a minute), also in
 * clean air: on a July afternoon most frozen frames are below 10 µg/m³, where the old floor never
 * counted them (docs/qc.md#stuck).
 */
import { join } from 'node:path';
import { createFleet, loadCityFleet, type PublishedEvent } from '@cnx/firmware-sim';
import { filters } from '@cnx/protocol';
import { type MosquittoHandle, makeTempDir, removeDir, startMosquitto } from '@cnx/testkit';
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Gateway } from '../src/gateway';
import { collect, connect, startTestGateway, waitFor } from './helpers';

const CITY = 'chiang-mai';
const MIN = 60_000;
const STUCK_AFTER = 5 * MIN;

describe('the simulator’s stuck fault through the real gateway', () => {
  let broker: MosquittoHandle;
  let dir: string;
  let gateway: Gateway;
  let observer: MqttClient;
  let bus: Awaited<ReturnType<typeof collect>>;

  beforeAll(async () => {
    [broker, dir] = await Promise.all([startMosquitto(), makeTempDir('cnx-gw-stuck-')]);
    gateway = await startTestGateway({
      GATEWAY_MQTT_URL: broker.url,
      CNX_DATA_DIR: dir,
      GATEWAY_SPOOL_DIR: join(dir, 'spool'),
    });
    observer = await connect(broker.url, 'stuck-observer');
    bus = await collect(observer, filters.allReadings(CITY));
  });

  afterAll(async () => {
    observer?.end(true);
    await gateway?.stop();
    await broker?.stop();
    if (dir) await removeDir(dir);
  });

  /**
   * A technician's run of `devices` from `simStart` for 44 simulated minutes at the pack's cadence,
   * every device stuck from 5 minutes in. Distinct devices per case: each case starts with fresh QC
   * state (no seq or run left over from the other).
   */
  async function technicianRun(slice: [number, number], simStart: number) {
    const { devices } = await loadCityFleet(CITY);
    const chosen = devices.slice(...slice);
    const fleet = createFleet({
      city: CITY,
      devices: chosen,
      mqtt: { url: broker.url },
      clientIdSuffix: 'stuck-test',
      seed: 1, // the CLI's default
      timeScale: 600,
      simStart,
      simDuration: '44m',
      faults: [{ device: '*', mode: 'stuck', after: '5m' }],
    });
    const published = new Map<string, PublishedEvent>();
    const acked: string[] = [];
    fleet.on('published', (e) => published.set(`${e.deviceId}/${e.seq}`, e));
    fleet.on('acked', (e) => acked.push(`${e.deviceId}/${e.seq}`));
    await fleet.start();
    await fleet.finished;
    await fleet.stop();
    const ids = new Set(chosen.map((d) => d.id));
    const ours = () =>
      bus.readings().filter((r) => ids.has(r.device) && r.ts >= simStart && r.ts < simStart + 45 * MIN);
    await waitFor(() => ours().length >= acked.length, 30_000, `${acked.length} readings on the bus`);
    return { chosen, published, readings: ours() };
  }

  it.each([
    ['a clean July afternoon', Date.parse('2026-07-20T13:00:00+07:00'), [0, 11] as [number, number]],
    ['the last 45 minutes', Math.floor(Date.now() / MIN) * MIN - 45 * MIN, [11, 22] as [number, number]],
  ])('%s: every frozen device is flagged from its 30th identical reading on', async (_name, simStart, slice) => {
    const { chosen, published, readings } = await technicianRun(slice, simStart);
    let cleanAir = 0;
    for (const d of chosen) {
      const mine = readings.filter((r) => r.device === d.id).sort((a, b) => a.ts - b.ts);
      // One reading a minute (the pack's cadence), the window from 5 minutes in to the end.
      expect(mine.length, d.id).toBeGreaterThanOrEqual(43);
      const frozen = mine.filter((r) => (published.get(`${d.id}/${r.seq}`)?.t ?? 0) >= simStart + STUCK_AFTER);
      expect(new Set(frozen.map((r) => JSON.stringify(r.values))).size, `${d.id} repeats one frame`).toBe(1);
      if ((frozen[0]?.values.pm10 ?? 0) <= 10) cleanAir++;
      const before = mine.filter((r) => !frozen.includes(r));
      expect(
        before.filter((r) => r.qc.includes('stuck')).map((r) => r.seq),
        `${d.id} before`,
      ).toEqual([]);
      // The 30th identical reading and every one after it. (A reading just before the freeze may share
      // one metric's value by chance, one-decimal values repeat now and then: the run then starts a
      // reading or two earlier, so the 28th/29th may be flagged too.)
      const flagged = frozen.map((r) => r.qc.includes('stuck'));
      const what = `${d.id} ${JSON.stringify(frozen[0]?.values)}`;
      expect(flagged.slice(0, 27), what).toEqual(Array(27).fill(false));
      expect(flagged.slice(29), what).toEqual(Array(frozen.length - 29).fill(true));
    }
    // The July case is the one the floor used to hide: most frames are at or below 10 µg/m³ of PM10.
    if (slice[0] === 0) expect(cleanAir).toBeGreaterThanOrEqual(6);
  });
});
