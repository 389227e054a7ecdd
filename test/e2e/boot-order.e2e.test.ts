import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import {
  type InfluxDBHandle,
  type MosquittoHandle,
  makeTempDir,
  removeDir,
  startInfluxDB,
  startMosquitto,
} from '@cnx/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import {
  keyOf,
  makeReadings,
  publishAcked,
  quarantineFiles,
  report,
  storedWhenDrained,
  until,
  writerCheck,
} from '../src/boot';
import { type GatewayHealth, GatewayProcess } from '../src/gateway-process';

/**
 * No acknowledged reading is lost at any boot order (issue 11, item 7): a power cut brings the
 * gateway, Mosquitto and InfluxDB back in any order. Real Mosquitto and influxd processes on free
 * loopback ports, the gateway as a process. Every wait is on a condition (bounded polls).
 */

const TEST_TIMEOUT = 240_000;

interface Rig {
  broker: MosquittoHandle;
  influx: InfluxDBHandle;
  gateway: GatewayProcess;
  dir: string;
  spoolDir: string;
  /** The gateway's database: not created by the suite, so the gateway must create it when InfluxDB is up. */
  database: string;
}

/**
 * Mosquitto and influxd started once to get their ports and directories, then stopped as the
 * scenario wants (`late`: not running when the gateway starts). The gateway is built, not started.
 */
async function rig(
  name: string,
  late: { broker?: boolean; store?: boolean },
  persistence = false,
  env: Record<string, string> = {},
): Promise<Rig> {
  const [broker, influx, dir] = await Promise.all([
    startMosquitto({ persistence }),
    startInfluxDB({ database: `${name}_other` }),
    makeTempDir(),
  ]);
  if (late.broker) await broker.stopProcess();
  if (late.store) await influx.stopProcess();
  const database = `${name}_db`;
  const spoolDir = join(dir, 'spool');
  const gateway = new GatewayProcess({
    GATEWAY_MQTT_URL: broker.url,
    INFLUX_URL: influx.url,
    INFLUX_DB: database,
    CNX_DATA_DIR: dir,
    GATEWAY_SPOOL_DIR: spoolDir,
    GATEWAY_MAX_BACKOFF_MS: '1000',
    ...env,
  });
  current = { broker, influx, gateway, dir, spoolDir, database };
  return current;
}

let current: Rig | undefined;

const accepting = (h: GatewayHealth) => h.checks?.mqtt?.ok === true;
const answering = (h: GatewayHealth) => h.status !== 'unreachable';

/** The gateway's /health while the store is not there: degraded, and the writer says why. */
async function expectStoreDownHealth(gateway: GatewayProcess): Promise<void> {
  const h = await until(
    '/health to report the writer not ok',
    () => gateway.health(),
    (v) => writerCheck(v)?.ok === false,
  );
  expect(h.status).toBe('degraded');
  expect(String(writerCheck(h)?.detail?.reason)).toMatch(/store/i);
}

describe('boot order: published (broker-acked) = stored, whatever starts first', () => {
  afterEach(async () => {
    const r = current;
    current = undefined;
    if (!r) return;
    await r.gateway.stop();
    await Promise.all([r.broker.stop(), r.influx.stop()]);
    await removeDir(r.dir);
  });

  it(
    'store late: gateway and broker up, readings acknowledged, then InfluxDB starts',
    async () => {
      const r = await rig('boot_store_late', { store: true });
      await r.gateway.start(accepting, 'GET /health: connected to the broker');
      const readings = await makeReadings(40);
      const published = await publishAcked(r.broker.url, readings, 'boot-store-late');
      await until(
        'the gateway to spool every reading',
        () => r.gateway.metric('gateway_readings_spooled_total'),
        (n) => (n ?? 0) >= readings.length,
      );
      await expectStoreDownHealth(r.gateway);

      await r.influx.restart();
      const stored = await storedWhenDrained(r.gateway, r.influx, r.database, readings);
      expect(report('store-late', published, stored)).toEqual([]);
      expect(stored.length).toBe(published.length);
      expect(new Set(stored).size).toBe(stored.length);
      expect(quarantineFiles(r.spoolDir)).toEqual([]);
      expect(published).toEqual(readings.map(keyOf));
      await until(
        '/health ok once the store is up',
        () => r.gateway.health(),
        (h) => h.status === 'ok',
      );
    },
    TEST_TIMEOUT,
  );

  it(
    'broker late: after a power cut the gateway boots before Mosquitto; devices publish as soon as the broker is up',
    async () => {
      // A previous life: the gateway's persistent session (subscriptions) is in the broker's store.
      const r = await rig('boot_broker_late', {}, true);
      await r.gateway.start();
      await r.gateway.stop();
      await r.broker.stopProcess();

      await r.gateway.start(answering, 'GET /health to answer');
      const h = await r.gateway.health();
      expect(h.status).toBe('down');
      expect(h.checks?.mqtt?.ok).toBe(false);
      await r.broker.restart();
      // Devices publish at once, maybe before the gateway reconnected: the broker queues for its session.
      const readings = await makeReadings(40);
      const published = await publishAcked(r.broker.url, readings, 'boot-broker-late');
      const stored = await storedWhenDrained(r.gateway, r.influx, r.database, readings);
      expect(report('broker-late', published, stored)).toEqual([]);
      expect(stored.length).toBe(published.length);
      expect(new Set(stored).size).toBe(stored.length);
      expect(quarantineFiles(r.spoolDir)).toEqual([]);
      expect((await r.gateway.health()).status).toBe('ok');
    },
    TEST_TIMEOUT,
  );

  it(
    'both late: the gateway boots alone, outlives its broker start-up wait, then Mosquitto, then InfluxDB',
    async () => {
      const r = await rig('boot_both_late', { broker: true, store: true });
      await r.gateway.start(answering, 'GET /health to answer');
      const down = await r.gateway.health();
      expect(down.status).toBe('down');
      expect(writerCheck(down)?.ok).toBe(false);
      // The first connection attempt gives up after its start-up wait; the gateway keeps running and
      // keeps connecting (it used to exit here).
      await until(
        'the gateway to log that the broker was not reachable at start-up',
        async () => r.gateway.output(),
        (out) => out.includes('mqtt broker not reachable at start-up'),
      );
      await r.broker.restart();
      // First boot of this broker: no session yet, so devices publish once the gateway subscribed.
      await until('the gateway to connect to the broker', () => r.gateway.health(), accepting);
      const readings = await makeReadings(40);
      const published = await publishAcked(r.broker.url, readings, 'boot-both-late');
      await until(
        'the gateway to spool every reading',
        () => r.gateway.metric('gateway_readings_spooled_total'),
        (n) => (n ?? 0) >= readings.length,
      );
      await expectStoreDownHealth(r.gateway);
      await r.influx.restart();
      const stored = await storedWhenDrained(r.gateway, r.influx, r.database, readings);
      expect(report('both-late', published, stored)).toEqual([]);
      expect(stored.length).toBe(published.length);
      expect(new Set(stored).size).toBe(stored.length);
      expect(quarantineFiles(r.spoolDir)).toEqual([]);
      await until(
        '/health ok once both are up',
        () => r.gateway.health(),
        (h) => h.status === 'ok',
      );
    },
    TEST_TIMEOUT,
  );

  it(
    'gateway SIGKILLed while InfluxDB is down, devices publishing on; then everything back',
    async () => {
      const r = await rig('boot_kill', {});
      await r.gateway.start();
      const before = await makeReadings(20);
      const published = await publishAcked(r.broker.url, before, 'boot-kill-a');

      await r.influx.stopProcess();
      await expectStoreDownHealth(r.gateway);
      const during = await makeReadings(20);
      published.push(...(await publishAcked(r.broker.url, during, 'boot-kill-b')));
      await until(
        'the gateway to spool the readings sent while the store is down',
        () => r.gateway.metric('gateway_readings_spooled_total'),
        (n) => (n ?? 0) >= before.length + during.length,
      );
      await r.gateway.kill();
      // Gateway dead, store dead: the broker acknowledges and queues for the gateway's session.
      const dead = await makeReadings(20);
      published.push(...(await publishAcked(r.broker.url, dead, 'boot-kill-c')));

      await r.gateway.start(accepting, 'GET /health: connected to the broker');
      await until(
        'the spool to hold what the store has not got',
        () => r.gateway.metric('gateway_spool_pending_readings'),
        (n) => (n ?? 0) >= during.length + dead.length,
      );
      await expectStoreDownHealth(r.gateway);
      await r.influx.restart();
      const readings = [...before, ...during, ...dead];
      const stored = await storedWhenDrained(r.gateway, r.influx, r.database, readings);
      expect(report('sigkill-store-down', published, stored)).toEqual([]);
      expect(stored.length).toBe(published.length);
      expect(new Set(stored).size).toBe(stored.length);
      expect(quarantineFiles(r.spoolDir)).toEqual([]);
      await until(
        '/health ok once the store is up',
        () => r.gateway.health(),
        (h) => h.status === 'ok',
      );
    },
    TEST_TIMEOUT,
  );

  it(
    "the gateway's own disk failing (checkpoint not writable): logged, backed off, the process stays up; nothing lost",
    async () => {
      // Checkpoint at every commit, so the writer's commit itself meets the failure.
      const r = await rig('disk_fault', {}, false, { GATEWAY_SPOOL_CHECKPOINT_MS: '0' });
      await r.gateway.start();
      // A directory where the checkpoint's temp file goes: every checkpoint write fails (EISDIR).
      const obstacle = join(r.spoolDir, 'checkpoint.json.tmp');
      mkdirSync(obstacle);
      const readings = await makeReadings(30);
      const published = await publishAcked(r.broker.url, readings, 'disk-fault');
      const h = await until(
        '/health to report the filesystem error',
        () => r.gateway.health(),
        (v) => /filesystem error/.test(String(writerCheck(v)?.detail?.reason)),
      );
      expect(h.status).toBe('degraded');
      expect(String(writerCheck(h)?.detail?.reason)).toMatch(/EISDIR/);
      // Still running and still accepting. Whichever confirms a batch last meets the failure: the
      // store (the writer backs off, the readings stay pending) or the bus acknowledgement (the store
      // has them, the checkpoint file lags and the spool retries it). Both are reported the same way.
      expect(h.checks?.mqtt?.ok).toBe(true);
      rmSync(obstacle, { recursive: true });
      const stored = await storedWhenDrained(r.gateway, r.influx, r.database, readings);
      expect(report('disk-fault', published, stored)).toEqual([]);
      expect(stored.length).toBe(published.length);
      expect(new Set(stored).size).toBe(stored.length);
      await until(
        '/health ok once the disk is back',
        () => r.gateway.health(),
        (v) => v.status === 'ok',
      );
    },
    TEST_TIMEOUT,
  );
});
