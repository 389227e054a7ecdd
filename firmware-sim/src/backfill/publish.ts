/**
 * Publishing a backfill: one MQTT connection (a technician's upload tool, not the devices), QoS 1,
 * up to `maxInFlight` messages awaiting their PUBACK at once, and done only when every message has
 * been acknowledged by the broker. Messages are taken from the devices' generators in turns, one
 * each, so all devices advance through time together and each device's messages leave in time
 * order (MQTT keeps one connection's messages in order).
 */
import mqtt, { type MqttClient } from 'mqtt';
import { type HistoryFormat, type HistoryMessage, type HistorySource, historyMessages, readingTimes } from './history';

export interface BackfillOptions {
  city: string;
  sources: readonly HistorySource[];
  /** Window [from, until), epoch ms. */
  from: number;
  until: number;
  seed: number;
  format?: HistoryFormat;
  mqtt: { url: string; username?: string; password?: string; clientId?: string; connectTimeoutMs?: number };
  /** Messages awaiting a PUBACK at once (default 256). */
  maxInFlight?: number;
  maxPayloadBytes?: number;
  /** Called after each acknowledged message. */
  onProgress?: (p: BackfillProgress) => void;
}

export interface BackfillProgress {
  readings: number;
  messages: number;
  /** Readings the whole backfill will publish. */
  totalReadings: number;
}

export interface BackfillDeviceSummary {
  deviceId: string;
  readings: number;
  messages: number;
  /** First and last reading time, epoch ms (absent when the window holds none). */
  first?: number;
  last?: number;
}

export interface BackfillResult {
  city: string;
  from: number;
  until: number;
  format: HistoryFormat;
  readings: number;
  messages: number;
  /** Real seconds from connected to the last PUBACK. */
  seconds: number;
  devices: BackfillDeviceSummary[];
}

/** Connect, or fail with a message naming the broker. */
export async function connectBackfillClient(o: BackfillOptions['mqtt']): Promise<MqttClient> {
  const clientId = o.clientId ?? `cnx-sim-backfill-${process.pid}-${Math.floor(Math.random() * 1e9).toString(36)}`;
  const client = mqtt.connect(o.url, {
    clientId,
    clean: true,
    protocolVersion: 4,
    reconnectPeriod: 0,
    connectTimeout: o.connectTimeoutMs ?? 10_000,
    username: o.username,
    password: o.password,
  });
  let onError: (e: Error) => void = () => {};
  let onClose: () => void = () => {};
  try {
    await new Promise<void>((resolve, reject) => {
      onError = reject;
      onClose = () => reject(new Error('connection closed'));
      client.once('connect', () => resolve());
      client.on('error', onError);
      client.on('close', onClose);
    });
  } catch (e) {
    client.end(true);
    throw new Error(`cannot connect to the MQTT broker at ${o.url}: ${(e as Error).message}`);
  } finally {
    client.off('error', onError);
    client.off('close', onClose);
  }
  return client;
}

/** Publish every source's history in [from, until) and wait for every PUBACK. */
export async function publishBackfill(o: BackfillOptions): Promise<BackfillResult> {
  const format = o.format ?? 'senml';
  const maxInFlight = Math.max(1, o.maxInFlight ?? 256);
  const perDevice: BackfillDeviceSummary[] = [];
  const generators: Generator<HistoryMessage>[] = [];
  let totalReadings = 0;
  for (const s of o.sources) {
    const times = readingTimes(o.seed, s.deviceId, s.intervalMs, o.from, o.until);
    totalReadings += times.length;
    perDevice.push({ deviceId: s.deviceId, readings: 0, messages: 0 });
    generators.push(historyMessages(o.city, s, times, format, o.maxPayloadBytes));
  }
  const result: BackfillResult = {
    city: o.city,
    from: o.from,
    until: o.until,
    format,
    readings: 0,
    messages: 0,
    seconds: 0,
    devices: perDevice,
  };
  if (totalReadings === 0) return result;

  const client = await connectBackfillClient(o.mqtt);
  const started = performance.now();
  let lost: (() => void) | undefined;
  try {
    await new Promise<void>((resolve, reject) => {
      let inFlight = 0;
      let turn = 0;
      let exhausted = 0;
      let failed = false;
      const done = new Array<boolean>(generators.length).fill(false);
      const fail = (e: Error) => {
        if (failed) return;
        failed = true;
        reject(e);
      };
      client.on('error', (e) => fail(new Error(`MQTT broker ${o.mqtt.url}: ${e.message}`)));
      client.on('close', onLost);
      function onLost() {
        fail(
          new Error(
            `lost the connection to the MQTT broker at ${o.mqtt.url} after ${result.messages} acknowledged messages ` +
              '(a backfill can be run again: readings are keyed by device and time)',
          ),
        );
      }
      lost = onLost;
      /** The next message, taking the devices in turns. */
      const next = (): { i: number; m: HistoryMessage } | undefined => {
        while (exhausted < generators.length) {
          const i = turn;
          turn = (turn + 1) % generators.length;
          if (done[i]) continue;
          const r = generators[i]!.next();
          if (!r.done) return { i, m: r.value };
          done[i] = true;
          exhausted++;
        }
        return undefined;
      };
      const pump = () => {
        while (!failed && inFlight < maxInFlight) {
          const n = next();
          if (!n) {
            if (inFlight === 0) resolve();
            return;
          }
          inFlight++;
          client.publish(n.m.topic, n.m.payload, { qos: 1 }, (err) => {
            inFlight--;
            if (err) return fail(new Error(`MQTT broker ${o.mqtt.url}: publish failed: ${err.message}`));
            const d = perDevice[n.i]!;
            d.readings += n.m.readings;
            d.messages++;
            d.first = Math.min(d.first ?? n.m.first, n.m.first);
            d.last = Math.max(d.last ?? n.m.last, n.m.last);
            result.readings += n.m.readings;
            result.messages++;
            o.onProgress?.({ readings: result.readings, messages: result.messages, totalReadings });
            pump();
          });
        }
      };
      pump();
    });
  } finally {
    result.seconds = (performance.now() - started) / 1000;
    if (lost) client.off('close', lost);
    await client.endAsync().catch(() => {});
  }
  return result;
}

/** Readings a backfill of these sources over [from, until) will publish (for progress bars). */
export function countBackfillReadings(
  sources: readonly HistorySource[],
  seed: number,
  from: number,
  until: number,
): number {
  return sources.reduce((n, s) => n + readingTimes(seed, s.deviceId, s.intervalMs, from, until).length, 0);
}
