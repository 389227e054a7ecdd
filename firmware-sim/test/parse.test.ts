import { describe, expect, it } from 'vitest';
import { fleetDevicesFromPack } from '../src/city';
import { defaultMqttUrl, parseStartArg, runClientIdSuffix } from '../src/cli/connect';
import { checkFaultSpecs, parseFaultArg } from '../src/faults';
import { formatDuration, parseDuration } from '../src/util/duration';
import { hash32, mulberry32, unit, valueNoise } from '../src/util/random';

describe('parseDuration', () => {
  it.each([
    ['500ms', 500],
    ['10s', 10_000],
    ['5m', 300_000],
    ['1h30m', 5_400_000],
    ['2d', 172_800_000],
    ['-15m', -900_000],
    ['+2h', 7_200_000],
    ['250', 250],
    ['inf', Number.POSITIVE_INFINITY],
  ])('%s -> %d', (s, ms) => expect(parseDuration(s)).toBe(ms));

  it.each(['', 'soon', '5 minutes', '10x', 'm'])('rejects "%s"', (s) => expect(() => parseDuration(s)).toThrow());

  it('formats back', () => {
    expect(formatDuration(5_400_000)).toBe('1h30m');
    expect(formatDuration(-900_000)).toBe('-15m');
  });
});

describe('seeded randomness', () => {
  it('mulberry32 is reproducible', () => {
    const a = mulberry32(42);
    const b = mulberry32(42);
    const xs = Array.from({ length: 5 }, () => a());
    expect(Array.from({ length: 5 }, () => b())).toEqual(xs);
    expect(xs.every((x) => x >= 0 && x < 1)).toBe(true);
  });

  it('hashes keys and large epoch times distinctly', () => {
    const t = Date.parse('2026-03-15T00:00:00Z');
    expect(hash32(1, 'dev', t)).not.toBe(hash32(1, 'dev', t + 1));
    expect(hash32(1, 'dev', t)).not.toBe(hash32(2, 'dev', t));
    expect(hash32(1, 'a', 'bc')).not.toBe(hash32(1, 'ab', 'c'));
    const u = Array.from({ length: 2000 }, (_, i) => unit(3, 'x', i));
    const m = u.reduce((s, x) => s + x, 0) / u.length;
    expect(m).toBeGreaterThan(0.45);
    expect(m).toBeLessThan(0.55);
  });

  it('value noise is continuous and bounded', () => {
    let prev = valueNoise(1, 'k', 0, 1000);
    for (let t = 10; t < 20_000; t += 10) {
      const v = valueNoise(1, 'k', t, 1000);
      expect(Math.abs(v)).toBeLessThanOrEqual(1);
      expect(Math.abs(v - prev)).toBeLessThan(0.05);
      prev = v;
    }
  });
});

describe('parseFaultArg', () => {
  it('reads device, mode, main parameter and key=value options', () => {
    expect(parseFaultArg('dev-1:dropout')).toEqual({ device: 'dev-1', mode: 'dropout' });
    expect(parseFaultArg('dev-1:dropout:10m')).toEqual({ device: 'dev-1', mode: 'dropout', for: '10m' });
    expect(parseFaultArg('dev-1:offline-buffer:30m,after=1h,every=6h,capacity=50')).toEqual({
      device: 'dev-1',
      mode: 'offline-buffer',
      for: '30m',
      after: '1h',
      every: '6h',
      capacity: 50,
    });
    expect(parseFaultArg('*:spike:0.01')).toEqual({ device: '*', mode: 'spike', probability: 0.01 });
    expect(parseFaultArg('d:reconnect-storm:8,gapMs=50')).toEqual({
      device: 'd',
      mode: 'reconnect-storm',
      count: 8,
      gapMs: 50,
    });
    expect(parseFaultArg('d:malformed:1,kinds=empty+bad_ts')).toEqual({
      device: 'd',
      mode: 'malformed',
      nth: 1,
      kinds: ['empty', 'bad_ts'],
    });
  });

  it('reads a bare clock-skew number as minutes', () => {
    expect(parseFaultArg('d:clock-skew:-15')).toMatchObject({ offset: -900_000 });
    expect(parseFaultArg('d:clock-skew:+2h')).toMatchObject({ offset: '+2h' });
  });

  it.each([
    ['dev-1', /expected deviceId:mode/],
    ['dev-1:melt', /unknown mode/],
    ['dev-1:dropout:for=soon', /invalid duration/],
    ['dev-1:spike:p=0.1', /unknown parameter "p"/],
    ['dev-1:spike:after=1m,0.1', /only the first parameter/],
  ])('rejects %s', (arg, msg) => expect(() => parseFaultArg(arg)).toThrow(msg));

  it('checks device ids and kinds against the fleet', () => {
    expect(() => checkFaultSpecs([parseFaultArg('ghost:stuck')], ['dev-1'])).toThrow(/not in the simulated fleet/);
    expect(() => checkFaultSpecs([parseFaultArg('*:stuck')], ['dev-1'])).not.toThrow();
    expect(() =>
      checkFaultSpecs([{ device: 'dev-1', mode: 'malformed', kinds: ['nope' as 'empty'] }], ['dev-1']),
    ).toThrow(/unknown kind/);
  });
});

describe('fleetDevicesFromPack', () => {
  const station = (id: string, kind: 'air' | 'canal') => ({
    id,
    city: 'x',
    kind,
    name: { th: id, en: id },
    location: { lat: 18.79, lon: 98.99 },
    district: 'd',
  });
  const pack = {
    devices: [
      { id: 'a1', stationId: 's1', model: 'pms5003', transport: 'mqtt' as const },
      { id: 'a2', stationId: 's2', model: 'pms5003', transport: 'mqtt' as const, intervalS: 120 },
      { id: 'c1', stationId: 's3', model: 'cnx-canal-probe-v1', transport: 'modbus-tcp' as const },
    ],
    stationById: new Map([
      ['s1', station('s1', 'air')],
      ['s2', station('s2', 'air')],
      ['s3', station('s3', 'canal')],
    ]),
  };

  it('keeps simulatable devices, joined with their station location', () => {
    expect(fleetDevicesFromPack(pack).map((d) => d.id)).toEqual(['a1', 'a2']);
    expect(fleetDevicesFromPack(pack, { limit: 1 })[0]).toEqual({
      id: 'a1',
      stationId: 's1',
      model: 'pms5003',
      transport: 'mqtt',
      location: { lat: 18.79, lon: 98.99 },
    });
    expect(fleetDevicesFromPack(pack, { devices: ['a2'] }).map((d) => [d.id, d.intervalS])).toEqual([['a2', 120]]);
  });

  it('explains ids it cannot simulate', () => {
    expect(() => fleetDevicesFromPack(pack, { devices: ['c1'] })).toThrow(/not simulatable/);
    expect(() => fleetDevicesFromPack(pack, { devices: ['zz'] })).toThrow(/unknown device/);
  });
});

describe('CLI connection defaults', () => {
  it('the broker: $MQTT_URL, else loopback on $CNX_MQTT_PORT, else 1883', () => {
    expect(defaultMqttUrl({})).toBe('mqtt://127.0.0.1:1883');
    expect(defaultMqttUrl({ CNX_MQTT_PORT: '18830' })).toBe('mqtt://127.0.0.1:18830');
    expect(defaultMqttUrl({ CNX_MQTT_PORT: '18830', MQTT_URL: 'mqtt://broker:1883' })).toBe('mqtt://broker:1883');
    expect(() => defaultMqttUrl({ CNX_MQTT_PORT: 'mqtt' })).toThrow(/CNX_MQTT_PORT="mqtt"/);
    expect(() => defaultMqttUrl({ CNX_MQTT_PORT: '70000' })).toThrow(/1-65535/);
  });

  it('a fresh client id suffix per run', () => {
    const a = runClientIdSuffix();
    expect(a).toMatch(/^sim-[0-9a-f]{6}$/);
    expect(runClientIdSuffix()).not.toBe(a);
  });

  it('--start: ISO 8601 or a duration before now', () => {
    const now = Date.parse('2026-12-07T06:00:00Z');
    expect(parseStartArg(undefined, now)).toBe(now);
    expect(parseStartArg('-35m', now)).toBe(now - 35 * 60_000);
    expect(parseStartArg('2026-03-15T00:00:00+07:00', now)).toBe(Date.parse('2026-03-14T17:00:00Z'));
    expect(() => parseStartArg('yesterday', now)).toThrow(/duration before now/);
    expect(() => parseStartArg('-soon', now)).toThrow(/duration before now/);
  });
});
