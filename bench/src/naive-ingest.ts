/**
 * The naive baseline: MQTT -> InfluxDB the way someone would write it in an afternoon. One mqtt.js
 * client (QoS 1, persistent session), JSON.parse each message, build a line-protocol line, push it to
 * an array and POST the array to /write every 5000 lines or 100 ms. No validation, no QC, no spool,
 * no retry. Deliberately kept simple: it is the reference the gateway's CPU cost is compared with.
 *
 * Standalone process:
 *   GATEWAY_MQTT_URL=mqtt://127.0.0.1:1883 INFLUX_URL=http://127.0.0.1:8086 INFLUX_DB=cnx CNX_CITY=bench \
 *   [CNX_CITIES_DIR=dir] node --import tsx bench/src/naive-ingest.ts
 *
 * Writes the same measurement, tags and fields as the gateway: `reading,city=..,station=..,device=..
 * pm1=..,pm25=..,...,seq=42i,qc="" <ts ms>`. The device -> station map comes from
 * <CNX_CITIES_DIR>/<city>/devices.json when present (otherwise station = device).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import mqtt from 'mqtt';

const MQTT_URL = process.env.GATEWAY_MQTT_URL ?? 'mqtt://127.0.0.1:1883';
const INFLUX_URL = process.env.INFLUX_URL ?? 'http://127.0.0.1:8086';
const INFLUX_DB = process.env.INFLUX_DB ?? 'cnx';
const CITY = process.env.CNX_CITY ?? 'chiang-mai';
const CITIES_DIR = process.env.CNX_CITIES_DIR;

const stationOf = new Map<string, string>();
if (CITIES_DIR) {
  try {
    const raw = JSON.parse(readFileSync(join(CITIES_DIR, CITY, 'devices.json'), 'utf8'));
    const list = Array.isArray(raw) ? raw : (raw.devices ?? []);
    for (const d of list) stationOf.set(d.id, d.stationId ?? d.station ?? d.id);
  } catch (err) {
    console.error('naive-ingest: no devices.json, station = device', (err as Error).message);
  }
}

const writeUrl = `${INFLUX_URL}/write?db=${encodeURIComponent(INFLUX_DB)}&precision=ms`;
let buffer: string[] = [];
let writeErrors = 0;

function flush() {
  if (buffer.length === 0) return;
  const body = buffer.join('\n');
  buffer = [];
  fetch(writeUrl, { method: 'POST', body })
    .then(async (res) => {
      if (!res.ok) {
        writeErrors++;
        console.error(`naive-ingest: write failed HTTP ${res.status}: ${(await res.text()).slice(0, 200)}`);
      }
    })
    .catch((err) => {
      writeErrors++;
      console.error('naive-ingest: write failed', err.message);
    });
}

setInterval(flush, 100);

const client = mqtt.connect(MQTT_URL, { clientId: `naive-ingest-${CITY}`, clean: false });
const filter = `cnx/v1/${CITY}/devices/+/telemetry`;

client.on('connect', () => {
  client.subscribe(filter, { qos: 1 }, (err) => {
    if (err) console.error('naive-ingest: subscribe failed', err.message);
    else console.log(`naive-ingest: subscribed ${filter}`);
  });
});
client.on('error', (err) => console.error('naive-ingest: mqtt error', err.message));

client.on('message', (topic, payload) => {
  try {
    const device = topic.split('/')[4]!;
    const msg = JSON.parse(payload.toString());
    const ts = typeof msg.ts === 'number' ? msg.ts : Date.parse(msg.ts);
    const fields: string[] = [];
    for (const [k, v] of Object.entries(msg.values)) fields.push(`${k}=${v}`);
    if (msg.seq !== undefined) fields.push(`seq=${msg.seq}i`);
    fields.push('qc=""');
    const station = stationOf.get(device) ?? device;
    buffer.push(`reading,city=${CITY},station=${station},device=${device} ${fields.join(',')} ${ts}`);
    if (buffer.length >= 5000) flush();
  } catch (err) {
    console.error('naive-ingest: bad message', (err as Error).message);
  }
});

function shutdown() {
  flush();
  client.end(false, () => {
    if (writeErrors > 0) console.error(`naive-ingest: ${writeErrors} failed writes`);
    setTimeout(() => process.exit(0), 200);
  });
}
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
