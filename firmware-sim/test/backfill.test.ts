import { loadCityPack, resolveCityDir } from '@cnx/city-pack';
import { loadRegisterMap } from '@cnx/device-models';
import { parseTelemetry, topics } from '@cnx/protocol';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  type HistorySource,
  historyMessages,
  historySources,
  readingTimes,
  SENML_MAX_RECORDS,
} from '../src/backfill/history';
import { canalStationsFromPack } from '../src/canal/fleet';
import { createCanalStation } from '../src/canal/station';
import { fleetDevicesFromPack } from '../src/city';
import { createFleet } from '../src/fleet';
import { createMemoryBroker } from '../src/transport/memory.transport';

const CITY = 'chiang-mai';
const MIN = 60_000;
const DAY = 86_400_000;
const UNTIL = Date.parse('2026-03-15T09:00:00+07:00');

type Pack = Extract<Awaited<ReturnType<typeof loadCityPack>>, { ok: true }>['value'];
let pack: Pack;
const sources = (seed = 1) => historySources(pack, { seed, utcOffsetMin: 420 }).sources;
const byId = (list: HistorySource[], id: string) => list.find((s) => s.deviceId === id) as HistorySource;

beforeAll(async () => {
  const r = await loadCityPack(resolveCityDir(CITY));
  if (!r.ok) throw new Error('chiang-mai pack invalid');
  pack = r.value;
});

describe('readingTimes', () => {
  it('one per interval in [from, until), on a grid fixed by seed and device', () => {
    const t = readingTimes(1, 'dev-a', MIN, UNTIL - DAY, UNTIL);
    expect(t).toHaveLength(1440);
    expect(t[0]).toBeGreaterThanOrEqual(UNTIL - DAY);
    expect(t.at(-1)).toBeLessThan(UNTIL);
    expect(t.every((x, i) => i === 0 || x - (t[i - 1] as number) === MIN)).toBe(true);
    // An overlapping window lands on the same times (the overlap overwrites itself in the store).
    const later = readingTimes(1, 'dev-a', MIN, UNTIL - DAY / 2, UNTIL + DAY);
    expect(later.slice(0, 720)).toEqual(t.slice(720));
    // Devices are staggered as the live fleet staggers them.
    expect(readingTimes(1, 'dev-b', MIN, UNTIL - DAY, UNTIL)[0]).not.toBe(t[0]);
    expect(readingTimes(1, 'dev-a', MIN, UNTIL, UNTIL)).toEqual([]);
  });
});

describe('history sources', () => {
  it('play every device of the pack at its own cadence (city pack intervalS)', () => {
    const list = sources();
    expect(list.map((s) => s.deviceId).sort()).toEqual(pack.devices.map((d) => d.id).sort());
    for (const s of list) expect(s.intervalMs).toBe((pack.deviceById.get(s.deviceId)?.intervalS ?? 60) * 1000);
  });

  it('are the live air fleet: the same values at the same instant, so backfill and live join up', async () => {
    const devices = fleetDevicesFromPack(pack, { limit: 3 });
    const memory = createMemoryBroker();
    const fleet = createFleet({
      city: CITY,
      devices,
      link: memory.factory,
      seed: 1,
      simStart: UNTIL,
      interval: '60s',
      timeScale: 60_000,
      maxMessages: 6,
    });
    const live: { deviceId: string; t: number; payload: string }[] = [];
    fleet.on('published', (e) => live.push({ deviceId: e.deviceId, t: e.t, payload: String(e.payload) }));
    await fleet.start();
    await fleet.finished;
    await fleet.stop();
    expect(live).toHaveLength(6);
    const list = sources();
    for (const e of live) {
      const values = (JSON.parse(e.payload) as { values: Record<string, number> }).values;
      expect(byId(list, e.deviceId).read(e.t)).toEqual(values);
    }
  });

  it('are the live canal stations: what the gateway decodes from their registers', () => {
    const list = sources();
    const map = loadRegisterMap('cnx-canal-probe-v1');
    for (const info of canalStationsFromPack(pack)) {
      const station = createCanalStation({ info, map, seed: 1, simStart: UNTIL, timeScale: 0 });
      const served = station.valuesAt(UNTIL);
      const got = byId(list, info.id).read(UNTIL);
      for (const r of map.registers) {
        if (!r.metric) continue;
        // float32 registers are stored as the shortest decimal of the float (apps/gateway codec).
        expect(Math.fround(got[r.metric] as number)).toBe(Math.fround(served[r.name] as number));
      }
      expect(Object.keys(got).sort()).toEqual(map.registers.flatMap((r) => (r.metric ? [r.metric] : [])).sort());
    }
  });

  it('have the daily cycle, and are the same for the same seed', () => {
    const air = byId(sources(), 'cm-air-oldcity-01-pms');
    // Mid-March, the smoky season: early morning (inversion) well above mid-afternoon.
    const at = (h: number) =>
      air.read(Date.parse(`2026-03-14T${String(h).padStart(2, '0')}:00:00+07:00`)).pm25 as number;
    expect(at(6)).toBeGreaterThan(at(15) * 1.3);
    expect(byId(sources(), 'cm-air-oldcity-01-pms').read(UNTIL)).toEqual(air.read(UNTIL));
    expect(byId(sources(2), 'cm-air-oldcity-01-pms').read(UNTIL)).not.toEqual(air.read(UNTIL));
  });
});

describe('historyMessages', () => {
  const week = (s: HistorySource) => readingTimes(1, s.deviceId, s.intervalMs, UNTIL - 7 * DAY, UNTIL);

  it('SenML: packs of several times within 64 records and 16 KiB, that the gateway parses back in order', () => {
    for (const id of ['cm-air-cmu-01-pms', 'cm-canal-rakaeng-probe']) {
      const s = byId(sources(), id);
      const times = week(s);
      const msgs = [...historyMessages(CITY, s, times, 'senml')];
      const parsed = msgs.flatMap((m) => {
        expect(m.topic).toBe(topics.history(CITY, id));
        expect(Buffer.byteLength(m.payload)).toBeLessThanOrEqual(16 * 1024);
        expect((JSON.parse(m.payload) as unknown[]).length).toBeLessThanOrEqual(SENML_MAX_RECORDS);
        const r = parseTelemetry(m.payload);
        if (!r.ok) throw new Error(r.error.message);
        expect(r.value.map((x) => x.ts)).toEqual(times.filter((t) => t >= m.first && t <= m.last));
        return r.value;
      });
      expect(parsed.map((r) => r.ts)).toEqual(times);
      expect(msgs.length).toBeLessThan(times.length / 8); // 12 air or 9 canal readings a pack
      expect(parsed[100]?.values).toEqual(s.read(times[100] as number));
      expect(parsed.every((r) => r.seq === undefined)).toBe(true);
    }
  });

  it('JSON: one reading per message, without seq (it would collide with the live fleet)', () => {
    const s = byId(sources(), 'cm-air-cmu-01-pms');
    const times = week(s).slice(0, 30);
    const msgs = [...historyMessages(CITY, s, times, 'json')];
    expect(msgs).toHaveLength(30);
    for (const [i, m] of msgs.entries()) {
      const r = parseTelemetry(m.payload);
      expect(r.ok && r.value).toEqual([{ ts: times[i], values: s.read(times[i] as number) }]);
    }
  });
});
