/**
 * A gateway killed after readings are durable (spooled and even stored) but before the broker
 * acknowledged them on the bus publishes them when it starts again: the alerts service and the API's
 * "now" get every reading, not only the store. Reproduced deterministically with a real Mosquitto
 * down while readings arrive by HTTP push: the gateway spools and stores them, its bus publishes
 * wait in memory for the broker, and then the gateway is SIGKILLed.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { filters, parseReadingsBatch } from '@cnx/protocol';
import { type MosquittoHandle, makeTempDir, removeDir, startMosquitto } from '@cnx/testkit';
import mqtt from 'mqtt';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { GatewayProcess } from '../src/gateway-process';

const CITY = 'chiang-mai';
const SENSOR = 'esp8266-13463418';
const DEVICE = 'cm-air-citizen-0001';

let broker: MosquittoHandle;
let dir: string;
let gateway: GatewayProcess;
let observer: mqtt.MqttClient;
/** Every bus reading of the device: ts -> times seen. */
const seen = new Map<number, number>();

async function until(cond: () => Promise<boolean> | boolean, what: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}\n${gateway?.output()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** One airrohr push, as the firmware sends it; resolves once the gateway answered 200 (spooled). */
async function push(pm25: number): Promise<void> {
  const port = await gateway.httpPort;
  const res = await fetch(`http://127.0.0.1:${port}/push/airrohr`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-sensor': SENSOR },
    body: `{"esp8266id": "13463418", "software_version": "NRZ-2020-133", "sensordatavalues":[{"value_type":"SDS_P1","value":"${(pm25 * 1.5).toFixed(2)}"},{"value_type":"SDS_P2","value":"${pm25.toFixed(2)}"}]}`,
  });
  expect(res.status, await res.text()).toBe(200);
}

beforeAll(async () => {
  broker = await startMosquitto();
  dir = await makeTempDir('cnx-bus-replay-');
  const registry = join(dir, 'airrohr.json');
  writeFileSync(registry, JSON.stringify([{ sensor: SENSOR, deviceId: DEVICE, stationId: 'cm-air-nimman-01' }]));
  gateway = new GatewayProcess({
    GATEWAY_MQTT_URL: broker.url,
    CNX_DATA_DIR: join(dir, 'data'),
    GATEWAY_SPOOL_DIR: join(dir, 'spool'),
    GATEWAY_AIRROHR_REGISTRY: registry,
    GATEWAY_AIRROHR_DEDUPE_S: '0',
  });
  await gateway.start();
  await observe();
}, 120_000);

/** (Re)connect the observer of the readings bus; resolves once subscribed. */
async function observe(): Promise<void> {
  observer?.end(true);
  observer = await mqtt.connectAsync(broker.url, { clientId: 'bus-replay-observer', reconnectPeriod: 0 });
  observer.on('message', (_topic, payload) => {
    const batch = parseReadingsBatch(payload);
    if (!batch.ok) throw new Error(`bus batch breaks the contract: ${batch.error}`);
    for (const r of batch.value.readings) if (r.device === DEVICE) seen.set(r.ts, (seen.get(r.ts) ?? 0) + 1);
  });
  await observer.subscribeAsync(filters.allReadings(CITY), { qos: 1 });
}

afterAll(async () => {
  observer?.end(true);
  await gateway?.stop();
  await broker?.stop();
  if (dir) await removeDir(dir);
});

it('readings stored but not acknowledged on the bus when the gateway was killed are published at its next start', async () => {
  await push(20);
  await until(() => seen.size === 1, 'the first reading on the bus');

  // The broker goes down; HTTP push goes on, and the bus publishes wait in the gateway's memory.
  await broker.kill();
  for (let i = 1; i <= 5; i++) await push(20 + i); // each its own ts (the gateway keeps them increasing)
  // Durable and in the store (SQLite); not on the bus.
  await gateway.drained();
  expect(await gateway.metric('gateway_readings_accepted_total')).toBe(6);
  await gateway.kill();
  expect(seen.size).toBe(1);

  await broker.restart();
  await observe();
  await gateway.start();
  await until(() => seen.size === 6, 'all six readings on the bus after the restart');
  expect([...seen.values()].every((n) => n >= 1)).toBe(true);
  // Later readings go out as usual.
  await push(40);
  await until(() => seen.size === 7, 'a new reading on the bus');
}, 180_000);
