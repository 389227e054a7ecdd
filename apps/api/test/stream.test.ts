import type { FastifyInstance } from 'fastify';
import { Compile } from 'typebox/compile';
import { afterEach, describe, expect, it } from 'vitest';
import { buildApp } from '../src/app';
import { LiveReading } from '../src/schemas/live';
import { BusService, type LiveEvent } from '../src/services/bus.service';
import { CityContext } from '../src/services/city';
import { chiangMai, logger, ManualLive, NOW, testConfig } from './helpers';
import { openSse, type SseClient } from './sse';

const checkLive = Compile(LiveReading);

/** Wait for a condition (polled; the test's own timeout bounds it). */
async function until(check: () => boolean): Promise<void> {
  while (!check()) await new Promise((r) => setTimeout(r, 10));
}
const apps: FastifyInstance[] = [];
const clients: SseClient[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  for (const a of apps.splice(0)) await a.close();
});

/** A listening app whose live source is the given one (no store needed for the stream). */
async function serve(live: ManualLive | BusService | undefined, env: Record<string, string> = {}) {
  const pack = await chiangMai();
  const store = { backend: 'sqlite' } as never; // the stream route never touches the store
  const app = buildApp({ config: testConfig(env), pack, store, logger, ...(live ? { live } : {}), now: () => NOW });
  apps.push(app);
  await app.listen({ host: '127.0.0.1', port: 0 });
  const a = app.server.address();
  const base = `http://127.0.0.1:${typeof a === 'object' && a ? a.port : 0}`;
  const open = async (path: string) => {
    const c = await openSse(`${base}${path}`);
    clients.push(c);
    return c;
  };
  return { app, open };
}

/** One bus message: a batch (ReadingsBatchPayload) holding one reading. */
const busPayload = (station: string, device: string, ts: number, extra: Record<string, unknown> = {}) =>
  Buffer.from(JSON.stringify({ v: 1, readings: [reading(station, device, ts, extra)] }));

const reading = (station: string, device: string, ts: number, extra: Record<string, unknown> = {}) => ({
  v: 1,
  city: 'chiang-mai',
  station,
  device,
  kind: 'air',
  district: 'x',
  ts,
  seq: 1,
  values: { pm25: 31.5, co2: 400 },
  corrections: [{ metric: 'pm25', value: 20.1, method: 'epa-barkjohn-2021-extended@1' }],
  qc: ['humidity', 'made-up-flag'],
  receivedAt: ts + 150,
  ...extra,
});

describe('live stream (Server-Sent Events)', () => {
  it('forwards bus readings, filtered by station, as reading events matching LiveReading', async () => {
    const pack = await chiangMai();
    const bus = new BusService({ url: 'mqtt://127.0.0.1:1' }, new CityContext(pack), logger, undefined, () => NOW);
    const { open } = await serve(bus);
    const s = await open('/v1/stream?station=cm-air-oldcity-01');
    expect(s.status).toBe(200);
    expect(s.headers['content-type']).toBe('text/event-stream; charset=utf-8');
    expect(s.headers['cache-control']).toBe('no-cache, no-transform');
    expect(s.headers['access-control-allow-origin']).toBe('*');
    expect(s.headers['x-ratelimit-limit']).toBeDefined();
    const topic = (_station: string) => 'cnx/v1/chiang-mai/readings';
    bus.onMessage(topic('cm-air-nimman-01'), busPayload('cm-air-nimman-01', 'cm-air-nimman-01-pms', NOW));
    bus.onMessage(topic('cm-air-oldcity-01'), busPayload('cm-air-oldcity-01', 'cm-air-oldcity-01-pms', NOW));
    // A redelivery (same device and ts), junk, a foreign city and an unknown station are not forwarded.
    bus.onMessage(topic('cm-air-oldcity-01'), busPayload('cm-air-oldcity-01', 'cm-air-oldcity-01-pms', NOW));
    bus.onMessage(topic('cm-air-oldcity-01'), Buffer.from('{"v":1,'));
    bus.onMessage(topic('cm-air-oldcity-01'), busPayload('cm-air-oldcity-01', 'd', NOW, { ts: 'yesterday' }));
    bus.onMessage('cnx/v1/lamphun/readings', busPayload('cm-air-oldcity-01', 'd', NOW + 1));
    bus.onMessage(topic('x'), Buffer.from('{"v":1,"readings":{}}'));
    bus.onMessage(topic('ghost'), busPayload('ghost', 'd', NOW + 2));
    bus.onMessage(topic('cm-air-oldcity-01'), busPayload('cm-air-oldcity-01', 'cm-air-oldcity-01-pms', NOW + 60_000));
    // A batch of several readings fans out to one event each (here: only one matches the filter).
    bus.onMessage(
      topic('x'),
      Buffer.from(
        JSON.stringify({
          v: 1,
          readings: [
            reading('cm-air-nimman-01', 'cm-air-nimman-01-pms', NOW + 5),
            reading('cm-air-oldcity-01', 'cm-air-oldcity-01-pms', NOW + 90_000),
          ],
        }),
      ),
    );
    // Not live by their own time: a replay 20 minutes old, a reading 5 minutes ahead (never streamed).
    bus.onMessage(topic('x'), busPayload('cm-air-oldcity-01', 'cm-air-oldcity-01-pms', NOW - 20 * 60_000));
    bus.onMessage(topic('x'), busPayload('cm-air-oldcity-01', 'cm-air-oldcity-01-pms', NOW + 5 * 60_000));
    // A spike is streamed (live, with its flags) but marked unusable for any figure.
    bus.onMessage(
      topic('x'),
      busPayload('cm-air-oldcity-01', 'cm-air-oldcity-01-pms', NOW + 100_000, { qc: ['range', 'spike'] }),
    );
    // The last event sent: once it is in, everything before it has been handled. Its values are
    // unrounded on the bus and streamed at each metric's precision (issue 14).
    bus.onMessage(
      topic('x'),
      busPayload('cm-air-oldcity-01', 'cm-air-oldcity-01-pms', NOW + 110_000, {
        values: { pm25: 15.736923076923079, temperature: 30.04999 },
        corrections: [{ metric: 'pm25', value: 7.2384515, method: 'epa-barkjohn-2021-extended@1' }],
      }),
    );
    await s.waitFor((e) => e.some((x) => x.id === `${NOW + 110_000}-cm-air-oldcity-01-pms`));
    const rounded = JSON.parse(s.events.find((x) => x.id === `${NOW + 110_000}-cm-air-oldcity-01-pms`)!.data);
    expect(rounded.values).toEqual({ pm25: 15.7, temperature: 30 });
    expect(rounded.corrections[0].value).toBe(7.2);
    const readings = s.events.filter((x) => x.event === 'reading');
    expect(readings.map((r) => r.id)).toEqual([
      `${NOW}-cm-air-oldcity-01-pms`,
      `${NOW + 60_000}-cm-air-oldcity-01-pms`,
      `${NOW + 90_000}-cm-air-oldcity-01-pms`,
      `${NOW + 100_000}-cm-air-oldcity-01-pms`,
      `${NOW + 110_000}-cm-air-oldcity-01-pms`,
    ]);
    expect(readings.map((r) => JSON.parse(r.data).usable)).toEqual([true, true, true, false, true]);
    const data = JSON.parse(readings[0]!.data);
    expect([...checkLive.Errors(data)]).toEqual([]);
    expect(data).toMatchObject({
      ts: new Date(NOW).toISOString(),
      station: 'cm-air-oldcity-01',
      district: 'old-city',
      kind: 'air',
      values: { pm25: 31.5 },
      qc: ['humidity'],
    });
    expect(data.values.co2).toBeUndefined();
  });

  it('filters by district and kind, and sends heartbeats', async () => {
    const live = new ManualLive();
    const { open } = await serve(live, { API_STREAM_HEARTBEAT_S: '1' });
    const canal = await open('/v1/stream?kind=canal');
    const oldCity = await open('/v1/stream?district=old-city,tha-phae');
    const ev = (station: string, district: string, kind: 'air' | 'canal'): LiveEvent => ({
      station,
      district,
      kind,
      id: `1-${station}`,
      data: JSON.stringify({ station }),
    });
    // Both streams are subscribed once the live source has their two listeners.
    await until(() => live.listeners.size === 2);
    for (const l of live.listeners) {
      l(ev('cm-canal-sriphum', 'tha-phae', 'canal'));
      l(ev('cm-air-oldcity-02', 'old-city', 'air'));
      l(ev('cm-air-nimman-01', 'nimman', 'air'));
    }
    await canal.waitFor((e) => e.some((x) => x.event === 'heartbeat'));
    const stations = (c: SseClient) =>
      c.events.filter((x) => x.event === 'reading').map((x) => JSON.parse(x.data).station);
    expect(stations(canal)).toEqual(['cm-canal-sriphum']);
    expect(stations(oldCity)).toEqual(['cm-canal-sriphum', 'cm-air-oldcity-02']);
    expect(JSON.parse(canal.events.find((x) => x.event === 'heartbeat')!.data).ts).toMatch(/Z$/);
  });

  it('bounds streams per client and in total, and frees a slot when a client goes away', async () => {
    const live = new ManualLive();
    const { app, open } = await serve(live, { API_MAX_STREAMS_PER_CLIENT: '2', API_MAX_STREAMS: '3' });
    const a = await open('/v1/stream');
    await open('/v1/stream');
    const third = await open('/v1/stream');
    expect(third.status).toBe(429);
    await third.ended;
    expect(JSON.parse(third.body()).error.code).toBe('too_many_streams');
    expect(app.cnx.streams.size).toBe(2);
    expect(live.listeners.size).toBe(2);
    a.close();
    await until(() => app.cnx.streams.size === 1);
    expect(live.listeners.size).toBe(1);
    expect((await open('/v1/stream')).status).toBe(200);
    const metrics = await app.inject({ url: '/metrics' });
    expect(metrics.body).toMatch(/api_live_streams 2/);
  });

  it('closes open streams when the app closes, and answers 503 without a live source', async () => {
    const live = new ManualLive();
    const { app, open } = await serve(live);
    const s = await open('/v1/stream');
    expect(s.status).toBe(200);
    await app.close();
    apps.splice(apps.indexOf(app), 1);
    expect(app.cnx.streams.size).toBe(0);
    const { open: openOff } = await serve(undefined);
    const off = await openOff('/v1/stream');
    expect(off.status).toBe(503);
    await off.ended;
    expect(JSON.parse(off.body()).error.code).toBe('stream_unavailable');
    const bad = await openOff('/v1/stream?station=nope');
    expect(bad.status).toBe(404);
  });
});
