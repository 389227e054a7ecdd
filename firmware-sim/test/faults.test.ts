import type { SenmlPack, TelemetryPayload } from '@cnx/protocol';
import { describe, expect, it, vi } from 'vitest';
import { MALFORMED_KINDS } from '../src/faults/types';
import { INTERVAL, makeNode } from './helpers';

const MIN = 60_000;
const json = (p: string | Uint8Array) => JSON.parse(String(p)) as TelemetryPayload;

describe('fault: dropout', () => {
  it('stops publishing during the window without a last will, then resumes with contiguous seq', async () => {
    const n = await makeNode({ faults: [{ device: 'dev-a', mode: 'dropout', after: '1m', for: '2m' }] });
    await n.advanceTo(5 * MIN);
    const ts = n.published.map((e) => e.ts - n.published[0]!.ts);
    // readings at 0..50 s, then nothing in [60 s, 180 s), then 180 s..300 s
    expect(ts.filter((t) => t >= MIN && t < 3 * MIN)).toEqual([]);
    expect(ts).toContain(3 * MIN);
    expect(n.published.map((e) => e.seq)).toEqual([...Array(n.published.length).keys()]);
    expect(n.node.stats(0).suppressed).toBe(12);
    expect(n.broker.messages.some((m) => m.will)).toBe(false);
  });
});

describe('fault: stuck', () => {
  it('repeats exactly the same values while ts and seq advance', async () => {
    const n = await makeNode({ faults: [{ device: 'dev-a', mode: 'stuck', after: '1m' }] });
    await n.advanceTo(10 * MIN);
    const before = n.published.filter((e) => e.t - n.published[0]!.t < MIN).map((e) => json(e.payload).values);
    const during = n.published.filter((e) => e.t - n.published[0]!.t >= MIN).map((e) => json(e.payload));
    expect(new Set(before.map((v) => JSON.stringify(v))).size).toBeGreaterThan(1);
    expect(new Set(during.map((p) => JSON.stringify(p.values))).size).toBe(1);
    expect(new Set(during.map((p) => p.ts)).size).toBe(during.length);
  });
});

describe('fault: spike', () => {
  it('occasionally multiplies the PM channels 10-50x, deterministically', async () => {
    const clean = await makeNode();
    const spiky = await makeNode({ faults: [{ device: 'dev-a', mode: 'spike', probability: 0.2 }] });
    const again = await makeNode({ faults: [{ device: 'dev-a', mode: 'spike', probability: 0.2 }] });
    for (const n of [clean, spiky, again]) await n.advanceTo(60 * MIN);
    const a = clean.published.map((e) => json(e.payload).values);
    const b = spiky.published.map((e) => json(e.payload).values);
    const spikes = b.filter((v, i) => v.pm25! > a[i]!.pm25! * 5);
    expect(spikes.length / b.length).toBeGreaterThan(0.12); // p = 0.2 over 361 readings
    expect(spikes.length / b.length).toBeLessThan(0.28);
    for (const v of spikes) {
      expect(v.pm1!).toBeLessThanOrEqual(v.pm25!);
      expect(v.pm10!).toBeLessThan(5000);
    }
    // temperature and humidity untouched; same seed, same spikes
    expect(b.map((v) => v.temperature)).toEqual(a.map((v) => v.temperature));
    expect(again.published.map((e) => e.payload)).toEqual(spiky.published.map((e) => e.payload));
  });
});

describe('fault: malformed', () => {
  it('replaces every nth message, cycling through every kind', async () => {
    const n = await makeNode({ faults: [{ device: 'dev-a', mode: 'malformed', nth: 2 }] });
    await n.advanceTo((2 * MALFORMED_KINDS.length - 1) * INTERVAL);
    const bad = n.published.filter((e) => e.malformed);
    expect(bad.map((e) => e.malformed)).toEqual([...MALFORMED_KINDS]);
    expect(n.published.filter((e) => !e.malformed).every((e) => json(e.payload).ts === e.ts)).toBe(true);
    const by = Object.fromEntries(bad.map((e) => [e.malformed, e.payload]));
    expect(() => JSON.parse(String(by.invalid_json))).toThrow();
    expect(Array.isArray(JSON.parse(String(by.not_an_object)))).toBe(true);
    expect(typeof json(by.wrong_types!).values.pm25).toBe('string');
    expect(json(by.missing_ts!)).not.toHaveProperty('ts');
    expect(json(by.bad_ts!).ts).toBe('yesterday');
    expect(json(by.missing_values!)).not.toHaveProperty('values');
    expect(json(by.unit_mismatch!).units).toEqual({ pm1: 'mg/m3' });
    expect(json(by.negative_value!).values.pm1).toBeLessThan(0);
    expect(json(by.out_of_range!).values.humidity).toBe(150);
    const frame = by.binary_garbage as Uint8Array;
    expect(frame).toBeInstanceOf(Uint8Array);
    expect([frame[0], frame[1], frame.length]).toEqual([0x42, 0x4d, 32]);
    expect(() => new TextDecoder('utf-8', { fatal: true }).decode(frame)).toThrow();
    expect(by.empty).toBe('');
    // the broker received exactly these payloads
    expect(n.telemetry().map((m) => m.payload)).toEqual(n.published.map((e) => e.payload));
  });

  it('produces SenML variants for SenML devices and honours a kinds subset', async () => {
    const n = await makeNode({
      format: 'senml',
      faults: [
        { device: 'dev-a', mode: 'malformed', nth: 1, kinds: ['unit_mismatch', 'negative_value', 'missing_values'] },
      ],
    });
    await n.advanceTo(2 * INTERVAL);
    const packs = n.published.map((e) => JSON.parse(String(e.payload)) as SenmlPack);
    expect(packs[0]!.find((r) => r.n === 'pm1')!.u).toBe('mg/m3');
    expect(packs[1]!.find((r) => r.n === 'pm1')!.v).toBeLessThan(0);
    expect(packs[2]).toEqual([]);
  });
});

describe('fault: clock-skew', () => {
  it('offsets every ts by the configured minutes, in both directions', async () => {
    const ahead = await makeNode({ faults: [{ device: 'dev-a', mode: 'clock-skew', offset: '15m' }] });
    const behind = await makeNode({ faults: [{ device: 'dev-a', mode: 'clock-skew', offset: -90 * MIN }] });
    await ahead.advanceTo(MIN);
    await behind.advanceTo(MIN);
    for (const e of ahead.published) expect(json(e.payload).ts).toBe(e.t + 15 * MIN);
    for (const e of behind.published) expect(json(e.payload).ts).toBe(e.t - 90 * MIN);
    expect(ahead.statusPayloads()[0]!.ts).toBe(ahead.published[0]!.t + 15 * MIN);
  });
});

describe('fault: reconnect-storm', () => {
  it('drops and reconnects N times: a will and an online status each time, buffered readings replayed', async () => {
    const n = await makeNode({
      faults: [{ device: 'dev-a', mode: 'reconnect-storm', count: 4, gapMs: 2, after: '30s' }],
    });
    await n.advanceTo(30_000);
    await vi.waitFor(() => expect(n.broker.connects.get('dev-a')).toBe(5), { timeout: 2000 });
    await n.advanceTo(60_000);
    expect(n.broker.messages.filter((m) => m.will)).toHaveLength(4);
    expect(n.statusPayloads().filter((s) => s.state === 'online')).toHaveLength(5);
    expect(n.statuses.filter((s) => s.reason === 'lost')).toHaveLength(4);
    const seqs = n.telemetry().map((m) => json(m.payload).seq);
    expect(seqs).toEqual([...Array(7).keys()]); // nothing lost, order kept
    expect(n.node.stats(0).connects).toBe(5);
  });
});

describe('fault: offline-buffer', () => {
  it('goes offline (will), buffers, and replays in a burst with original ts and seq', async () => {
    const n = await makeNode({ faults: [{ device: 'dev-a', mode: 'offline-buffer', after: '1m', for: '2m' }] });
    await n.advanceTo(2 * MIN);
    expect(n.broker.messages.filter((m) => m.will).map((m) => JSON.parse(String(m.payload)))).toEqual([
      { state: 'offline', fw: 'cnx-sim-pms5003/0.1.0' },
    ]);
    expect(n.node.stats(0).buffered).toBe(7); // 60 s..120 s
    expect(n.telemetry()).toHaveLength(6);
    await n.advanceTo(4 * MIN);
    const msgs = n.telemetry().map((m) => json(m.payload));
    expect(msgs.map((m) => m.seq)).toEqual([...Array(msgs.length).keys()]);
    expect(msgs.map((m) => m.ts)).toEqual(n.published.map((e) => e.t)); // original reading times
    const replayed = n.published.filter((e) => e.replayed);
    // readings at 60 s..170 s, plus the one at 180 s taken while the link was still coming back
    expect(replayed.map((e) => e.seq)).toEqual([6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18]);
    // the device announced itself online again before the burst
    const afterWill = n.broker.messages.slice(n.broker.messages.findIndex((m) => m.will) + 1);
    expect(afterWill[0]!.topic.endsWith('/status')).toBe(true);
  });

  it('drops the oldest readings when the device buffer is full', async () => {
    const n = await makeNode({
      faults: [{ device: 'dev-a', mode: 'offline-buffer', after: '0s', for: '1m', capacity: 3 }],
    });
    await n.advanceTo(2 * MIN);
    const seqs = n.telemetry().map((m) => json(m.payload).seq);
    // seq 0..5 taken offline, plus seq 6 taken while the link was coming back: 7 readings, room for 3
    expect(seqs.slice(0, 4)).toEqual([4, 5, 6, 7]);
    expect(n.node.stats(0).dropped).toBe(4);
  });
});

describe('stop', () => {
  it('publishes a retained offline status and cleans up', async () => {
    const n = await makeNode();
    await n.advanceTo(MIN);
    await n.node.stop();
    const retained = n.broker.retained.get('cnx/v1/test-city/devices/dev-a/status');
    expect(JSON.parse(String(retained!.payload)).state).toBe('offline');
    expect(retained!.will).toBe(false);
    expect(n.statuses.at(-1)).toEqual({ deviceId: 'dev-a', state: 'offline', reason: 'stop' });
    const count = n.telemetry().length;
    await n.advanceTo(2 * MIN);
    expect(n.telemetry()).toHaveLength(count);
  });
});
