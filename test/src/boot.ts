import { readdirSync } from 'node:fs';
import { loadCityPack, resolveCityDir } from '@cnx/city-pack';
import { topics } from '@cnx/protocol';
import type { InfluxDBHandle } from '@cnx/testkit';
import mqtt from 'mqtt';
import type { GatewayHealth, GatewayProcess } from './gateway-process';
import { storedRows } from './influx';

/** Helpers of the boot-order fault suite (test/e2e/boot-order.e2e.test.ts). */

const CITY = 'chiang-mai';
const POLL_MS = 100;

/**
 * Poll `probe` until `ok` holds for its value, at most `polls` times (a bound on the loop, not a
 * deadline the test is judged by); throws with `what` and the last value otherwise.
 */
export async function until<T>(what: string, probe: () => Promise<T>, ok: (v: T) => boolean, polls = 1800): Promise<T> {
  let last: T | undefined;
  for (let i = 0; i < polls; i++) {
    last = await probe();
    if (ok(last)) return last;
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
  throw new Error(`gave up waiting for ${what} after ${polls} polls; last: ${JSON.stringify(last)}`);
}

export interface TestReading {
  device: string;
  ts: number;
  seq: number;
  pm25: number;
}

let clock = Math.floor(Date.now() / 1000) * 1000 - 20 * 60_000;

/**
 * `n` readings spread over the city's first air devices, each with its own device time (recent:
 * nothing is flagged stale) and a sequence number per device. Every call continues the clocks.
 */
export async function makeReadings(n: number): Promise<TestReading[]> {
  const pack = await loadCityPack(resolveCityDir(CITY));
  if (!pack.ok) throw new Error('chiang-mai city pack invalid');
  const devices = pack.value.devices
    .filter((d) => pack.value.stationById.get(d.stationId)?.kind === 'air')
    .slice(0, 4)
    .map((d) => d.id);
  const out: TestReading[] = [];
  for (let i = 0; i < n; i++) {
    clock += 1000;
    out.push({
      device: devices[i % devices.length]!,
      ts: clock,
      seq: Math.floor(clock / 1000) % 1_000_000,
      pm25: 10 + (i % 7),
    });
  }
  return out;
}

export const keyOf = (r: { device: string; ts: number }): string => `${r.device}@${r.ts}`;

/**
 * Publish each reading QoS 1 as its device would and return the keys the broker acknowledged
 * (PUBACK): what the gateway owes the store. The client connects (retrying) until the broker is up.
 */
export async function publishAcked(brokerUrl: string, readings: TestReading[], clientId: string): Promise<string[]> {
  const client = mqtt.connect(brokerUrl, { clientId, reconnectPeriod: 200, connectTimeout: 5_000 });
  try {
    await new Promise<void>((resolve) => client.once('connect', () => resolve()));
    const acked: string[] = [];
    for (const r of readings) {
      const body = JSON.stringify({ ts: r.ts, seq: r.seq, values: { pm25: r.pm25, humidity: 55 } });
      await client.publishAsync(topics.telemetry(CITY, r.device), body, { qos: 1 });
      acked.push(keyOf(r));
    }
    return acked;
  } finally {
    await client.endAsync();
  }
}

/** Keys of the readings stored in `database` over the readings' time span (none if it does not exist). */
export async function storedKeys(influx: InfluxDBHandle, database: string, readings: TestReading[]): Promise<string[]> {
  const from = Math.min(...readings.map((r) => r.ts));
  const to = Math.max(...readings.map((r) => r.ts)) + 1;
  try {
    return (await storedRows(influx, from, to, database)).map(keyOf);
  } catch (err) {
    if (/database not found/.test(String(err))) return [];
    throw err;
  }
}

/**
 * Wait until the store holds at least `expected` readings and the gateway's spool is drained, then
 * return what is stored. Gives up after a bounded number of polls and returns what is there, so the
 * caller's exact comparison reports the figures.
 */
export async function storedWhenDrained(
  gateway: GatewayProcess,
  influx: InfluxDBHandle,
  database: string,
  readings: TestReading[],
  polls = 600,
): Promise<string[]> {
  let stored: string[] = [];
  try {
    await until(
      'every reading stored and the spool drained',
      async () => {
        stored = await storedKeys(influx, database, readings);
        return { stored: stored.length, pending: await gateway.metric('gateway_spool_pending_readings') };
      },
      (v) => v.stored >= readings.length && v.pending === 0,
      polls,
    );
  } catch {
    // reported by the caller's comparison
  }
  return stored;
}

/** Print the figures (CI logs carry them) and return the acknowledged keys that are not stored. */
export function report(name: string, published: string[], stored: string[]): string[] {
  const unique = new Set(stored);
  const missing = published.filter((k) => !unique.has(k));
  console.info(
    `[boot-order:${name}] published(acked)=${published.length} stored=${stored.length} unique=${unique.size} duplicates=${stored.length - unique.size} missing=${missing.length}`,
  );
  return missing;
}

/** Quarantine files in the spool directory (there must be none: nothing here is invalid). */
export function quarantineFiles(spoolDir: string): string[] {
  return readdirSync(spoolDir).filter((f) => f.startsWith('quarantine'));
}

/** The writer check of a /health answer. */
export function writerCheck(h: GatewayHealth): { ok: boolean; detail?: Record<string, unknown> } | undefined {
  return h.checks?.writer as { ok: boolean; detail?: Record<string, unknown> } | undefined;
}
