import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { type CanalFleet, canalStationsFromPack, createCanalFleet } from '@cnx/firmware-sim';
import { filters } from '@cnx/protocol';
import { SqliteReadingStore } from '@cnx/store';
import { freePort, type MosquittoHandle, makeTempDir, removeDir, startMosquitto } from '@cnx/testkit';
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Gateway } from '../src/gateway';
import { chiangMaiPack, collect, connect, startTestGateway } from './helpers';

/**
 * The whole gateway, configured by GATEWAY_MODBUS_CONFIG, polling the canal simulator over real
 * Modbus TCP: readings reach the store through the same path as MQTT, and /modbus/status and
 * /metrics report the devices.
 */
describe('gateway polling canal stations over Modbus TCP (GATEWAY_MODBUS_CONFIG)', () => {
  let broker: MosquittoHandle;
  let dir: string;
  let fleet: CanalFleet;
  let gateway: Gateway;
  let observer: MqttClient;
  const DEVICES = ['cm-canal-sriphum-probe', 'cm-canal-rakaeng-probe'];

  beforeAll(async () => {
    const pack = await chiangMaiPack();
    [broker, dir] = await Promise.all([startMosquitto(), makeTempDir()]);
    const ports = [await freePort(), await freePort()];
    const stations = canalStationsFromPack(pack, { devices: DEVICES });
    // One fleet per station so each gets its own free port.
    fleet = createCanalFleet({ city: 'chiang-mai', stations, simStart: Date.now(), tcp: { basePort: ports[0]! } });
    await fleet.start();
    const config = {
      defaults: { intervalMs: 500, timeoutMs: 200, retries: 1 },
      buses: fleet.endpoints.map((e, i) => ({
        id: `lan-${i}`,
        transport: 'tcp',
        host: e.tcp!.host,
        port: e.tcp!.port,
      })),
      devices: fleet.endpoints.map((e, i) => ({
        deviceId: e.deviceId,
        bus: `lan-${i}`,
        unitId: e.unitId,
        wordOrder: e.wordOrder,
      })),
    };
    const file = path.join(dir, 'modbus.json');
    writeFileSync(file, JSON.stringify(config));
    gateway = await startTestGateway({
      GATEWAY_MQTT_URL: broker.url,
      CNX_DATA_DIR: dir,
      GATEWAY_SPOOL_DIR: path.join(dir, 'spool'),
      GATEWAY_MODBUS_CONFIG: file,
    });
    observer = await connect(broker.url, 'modbus-observer');
  });

  afterAll(async () => {
    observer?.end(true);
    await gateway?.stop();
    await fleet?.stop();
    await broker?.stop();
    if (dir) await removeDir(dir);
  });

  it('stores polled canal readings and reports device health', async () => {
    const bus = await collect(observer, filters.allReadings('chiang-mai'));
    const deadline = Date.now() + 20_000;
    const perDevice = () => DEVICES.map((d) => bus.readings().filter((r) => r.device === d).length);
    while (Math.min(...perDevice()) < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(Math.min(...perDevice())).toBeGreaterThanOrEqual(3);
    const first = bus.readings().find((r) => r.device === DEVICES[0])!;
    expect(first.kind).toBe('canal');
    expect(first.values.water_level).toBeTypeOf('number');
    expect(first.values.do).toBeTypeOf('number');
    expect(first.values.ph).toBeTypeOf('number');

    expect(await gateway.flush(15_000)).toBe(true);
    const store = new SqliteReadingStore({ path: path.join(dir, 'cnx.sqlite'), readonly: true });
    await store.start();
    const stored = await store.query({
      from: Date.now() - 3_600_000,
      to: Date.now() + 1000,
      stationIds: ['cm-canal-sriphum'],
      limit: 1000,
    });
    await store.stop();
    expect(stored.length).toBeGreaterThanOrEqual(3);
    expect(stored[0]?.values.water_level).toBeTypeOf('number');

    const base = gateway.addresses.http;
    const status = (await (await fetch(`${base}/modbus/status`)).json()) as {
      devices: { device: string; up: boolean }[];
    };
    expect(status.devices.map((d) => d.device).sort()).toEqual([...DEVICES].sort());
    expect(status.devices.every((d) => d.up)).toBe(true);
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toMatch(/gateway_modbus_polls_total\{device="cm-canal-sriphum-probe",result="ok"\} [1-9]/);
  });
});
