import { loadCityPack, resolveCityDir } from '@cnx/city-pack';
import type { NormalizedReadingPayload, ReadingsBatchPayload } from '@cnx/protocol';
import { createLogger } from '@cnx/runtime';
import mqtt, { type MqttClient } from 'mqtt';
import { loadGatewayConfig } from '../src/config';
import { Gateway } from '../src/gateway';

export async function chiangMaiPack() {
  const pack = await loadCityPack(resolveCityDir('chiang-mai'));
  if (!pack.ok) throw new Error('chiang-mai city pack invalid');
  return pack.value;
}

export async function chiangMaiAirDevices(): Promise<string[]> {
  const pack = await loadCityPack(resolveCityDir('chiang-mai'));
  if (!pack.ok) throw new Error('chiang-mai city pack invalid');
  return pack.value.devices.filter((d) => pack.value.stationById.get(d.stationId)?.kind === 'air').map((d) => d.id);
}

/** An in-process gateway on free ports, with its data in `dir`. */
export async function startTestGateway(env: Record<string, string>): Promise<Gateway> {
  const config = loadGatewayConfig({ GATEWAY_HTTP_PORT: '0', LOG_LEVEL: 'warn', GATEWAY_FLUSH_MS: '20', ...env });
  const gateway = new Gateway(config, createLogger('gateway-test', process.env.TEST_LOG_LEVEL ?? 'warn'));
  await gateway.start();
  return gateway;
}

export async function connect(url: string, clientId?: string): Promise<MqttClient> {
  const client = mqtt.connect(url, { clientId, reconnectPeriod: 200 });
  await new Promise<void>((resolve, reject) => {
    client.once('connect', () => resolve());
    client.once('error', reject);
  });
  return client;
}

export function publishQos1(client: MqttClient, topic: string, payload: string | Buffer): Promise<void> {
  return new Promise((resolve, reject) =>
    client.publish(topic, payload, { qos: 1 }, (e) => (e ? reject(e) : resolve())),
  );
}

/** Collect messages on `filter`; `waitFor(n)` resolves once n have arrived (bounded). */
export async function collect(client: MqttClient, filter: string) {
  const messages: { topic: string; payload: string }[] = [];
  client.on('message', (topic, payload) => {
    if (mqttMatch(filter, topic)) messages.push({ topic, payload: payload.toString() });
  });
  await client.subscribeAsync(filter, { qos: 1 });
  return {
    messages,
    async waitFor(n: number, timeoutMs = 15_000): Promise<void> {
      const deadline = Date.now() + timeoutMs;
      while (messages.length < n) {
        if (Date.now() > deadline) throw new Error(`expected ${n} messages on ${filter}, got ${messages.length}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    /** The readings carried by bus batches received so far (ReadingsBatchPayload). */
    readings(): NormalizedReadingPayload[] {
      return messages.flatMap((m) => (JSON.parse(m.payload) as ReadingsBatchPayload).readings);
    },
    async waitForReadings(n: number, timeoutMs = 15_000): Promise<void> {
      const deadline = Date.now() + timeoutMs;
      while (this.readings().length < n) {
        if (Date.now() > deadline)
          throw new Error(`expected ${n} readings on ${filter}, got ${this.readings().length}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    },
  };
}

function mqttMatch(filter: string, topic: string): boolean {
  const f = filter.split('/');
  const t = topic.split('/');
  for (let i = 0; i < f.length; i++) {
    if (f[i] === '#') return true;
    if (f[i] !== '+' && f[i] !== t[i]) return false;
  }
  return f.length === t.length;
}

/** Poll `cond` every 10 ms until true or `timeoutMs` (then throw with `what`). */
export async function waitFor(cond: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
