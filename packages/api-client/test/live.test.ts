/**
 * The live subscription against the real API following a real Mosquitto: a reading published on the
 * internal bus (as the gateway publishes it) arrives as a typed `reading` event, over both transports
 * (fetch-based, the Node default; and EventSource, here the `eventsource` package as in a browser).
 */
import { type NormalizedReadingPayload, readingsBatchJson, topics } from '@cnx/protocol';
import { type MosquittoHandle, startMosquitto } from '@cnx/testkit';
import { EventSource } from 'eventsource';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type ApiError,
  type CnxApiClient,
  createClient,
  type Heartbeat,
  type LiveReading,
  type LiveSubscription,
  type SseEvent,
  SseParser,
} from '../src/index';
import { type RunningApi, startApi } from './support';

let broker: MosquittoHandle;
let api: RunningApi;
let client: CnxApiClient;
let bus: MqttClient;
const subs: LiveSubscription[] = [];

beforeAll(async () => {
  broker = await startMosquitto();
  api = await startApi({ API_LIVE: 'true', API_MQTT_URL: broker.url, API_STREAM_HEARTBEAT_S: '1' });
  client = createClient({ baseUrl: api.url });
  bus = await mqtt.connectAsync(broker.url, { clientId: 'api-client-test-gateway' });
  await until('the API bus connected', async () => (await client.getHealth()).checks.bus.ok);
});
afterAll(async () => {
  for (const s of subs) s.close();
  await bus?.endAsync(true);
  await api?.stop();
  await broker?.stop();
});

async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

let ts = Date.now() - 60_000;
/** Publishes one normalised reading on the bus, as the gateway does after spooling it (a batch of one). */
async function publishReading(station: string, device: string, pm25: number): Promise<number> {
  ts += 1000;
  const payload: NormalizedReadingPayload = {
    v: 1,
    city: 'chiang-mai',
    station,
    device,
    kind: 'air',
    district: 'old-city',
    ts,
    seq: 7,
    values: { pm25, pm10: pm25 * 1.4 },
    corrections: [{ metric: 'pm25', value: pm25 * 0.6, method: 'epa-barkjohn-2021-extended@1' }],
    qc: [],
    receivedAt: ts + 120,
  };
  // The bus carries batches (ReadingsBatchPayload), one message per gateway flush.
  await bus.publishAsync(topics.readings('chiang-mai'), readingsBatchJson([JSON.stringify(payload)]), { qos: 1 });
  return ts;
}

interface Collected {
  readings: { reading: LiveReading; id: string }[];
  heartbeats: Heartbeat[];
  events: SseEvent[];
  errors: (ApiError | Error)[];
  opened: number;
}

function collector(): { c: Collected; handlers: Parameters<CnxApiClient['stream']>[1] } {
  const c: Collected = { readings: [], heartbeats: [], events: [], errors: [], opened: 0 };
  return {
    c,
    handlers: {
      reading: (reading, id) => c.readings.push({ reading, id }),
      heartbeat: (h) => c.heartbeats.push(h),
      event: (e) => c.events.push(e),
      error: (e) => c.errors.push(e),
      open: () => c.opened++,
    },
  };
}

describe.each([
  ['fetch', {}],
  ['eventsource', { eventSource: EventSource }],
] as const)('live subscription (%s transport)', (transport, extra) => {
  it('delivers readings published on the bus as typed events, filtered by station', async () => {
    const { c, handlers } = collector();
    const sub = client.stream({ station: ['cm-air-oldcity-01'] }, handlers, { transport, ...extra });
    subs.push(sub);
    expect(sub.transport).toBe(transport);
    await until('the stream to open', () => c.opened > 0);
    await until('one stream registered', async () => (await client.getHealth()).streams >= 1);

    await publishReading('cm-air-nimman-01', 'cm-air-nimman-01-pms', 99); // filtered out
    const t = await publishReading('cm-air-oldcity-01', 'cm-air-oldcity-01-pms', 42.5);
    await until('the reading event', () => c.readings.length > 0);
    const [{ reading, id }] = c.readings as [{ reading: LiveReading; id: string }];
    expect(id).toBe(`${t}-cm-air-oldcity-01-pms`);
    expect(reading).toMatchObject({
      ts: new Date(t).toISOString(),
      station: 'cm-air-oldcity-01',
      device: 'cm-air-oldcity-01-pms',
      kind: 'air',
      district: 'old-city',
      values: { pm25: 42.5 },
      qc: [],
    });
    expect(reading.corrections[0]?.metric).toBe('pm25');
    await until('a heartbeat', () => c.heartbeats.length > 0, 5000);
    expect(Date.parse(c.heartbeats[0]!.ts)).toBeGreaterThan(0);
    expect(c.events.map((e) => e.type)).toContain('reading');
    expect(c.readings.map((r) => r.reading.station)).toEqual(['cm-air-oldcity-01']);
    expect(c.errors).toEqual([]);

    const before = (await client.getHealth()).streams;
    sub.close();
    expect(sub.closed).toBe(true);
    await until('the server to drop the stream', async () => (await client.getHealth()).streams < before);
    await publishReading('cm-air-oldcity-01', 'cm-air-oldcity-01-pms', 50);
    await new Promise((r) => setTimeout(r, 200));
    expect(c.readings.length).toBe(1);
  });

  it('reports a refused stream as a typed ApiError and stops (404 unknown station)', async () => {
    const { c, handlers } = collector();
    const sub = client.stream({ station: 'cm-air-nowhere' }, handlers, { transport, ...extra });
    subs.push(sub);
    await until('the error', () => c.errors.length > 0);
    const err = c.errors[0] as ApiError;
    expect(err.name).toBe('ApiError');
    expect(err).toMatchObject({ status: 404, code: 'station_not_found', operation: 'streamReadings' });
    expect(sub.closed).toBe(true);
    expect(c.opened).toBe(0);
  });
});

describe('live subscription options', () => {
  it('closes when its AbortSignal aborts', async () => {
    const ac = new AbortController();
    const { c, handlers } = collector();
    const sub = client.stream(undefined, handlers, { signal: ac.signal });
    subs.push(sub);
    expect(sub.transport).toBe('fetch'); // Node 20 has no global EventSource
    await until('open', () => c.opened > 0);
    ac.abort();
    expect(sub.closed).toBe(true);
  });

  it('a bad filter is a 400 invalid_request naming the parameter', async () => {
    const { c, handlers } = collector();
    client.stream({ kind: 'lake' as 'air' }, handlers);
    await until('the error', () => c.errors.length > 0);
    expect(c.errors[0]).toMatchObject({ status: 400, code: 'invalid_request' });
    expect((c.errors[0] as ApiError).details[0]?.parameter).toBe('kind');
  });

  it('refuses transport "eventsource" when there is no EventSource', () => {
    expect(() => client.stream(undefined, {}, { transport: 'eventsource' })).toThrow(/no EventSource/);
  });
});

describe('SseParser', () => {
  it('parses events split across chunks with any line ending, comments, multi-line data, id and retry', () => {
    const out: SseEvent[] = [];
    const p = new SseParser((e) => out.push(e));
    const text =
      '\uFEFF: comment\r\nretry: 1500\r\nevent: reading\r\nid: 1-a\r\ndata: {"x":\r\ndata: 1}\r\n\r\n' +
      'data: plain\n\nevent: heartbeat\rdata: {"ts":"t"}\r\rid\nevent: empty\n\n';
    for (let i = 0; i < text.length; i += 3) p.push(text.slice(i, i + 3));
    expect(out).toEqual([
      { type: 'reading', data: '{"x":\n1}', id: '1-a' },
      { type: 'message', data: 'plain', id: '1-a' },
      { type: 'heartbeat', data: '{"ts":"t"}', id: '1-a' },
    ]);
    expect(p.retryMs).toBe(1500);
  });
});
