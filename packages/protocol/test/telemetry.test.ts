import { describe, expect, it } from 'vitest';
import { parseTelemetry } from '../src/telemetry';
import { filters, parseTopic, topics } from '../src/topics';

const TS = 1_742_000_000_000; // 2025-03-15

const parse = (v: unknown) => parseTelemetry(typeof v === 'string' ? v : JSON.stringify(v));

describe('parseTelemetry: our JSON', () => {
  it('accepts a well-formed message', () => {
    const r = parse({ ts: TS, seq: 7, values: { pm25: 31.4, pm10: 40.2, humidity: 71 } });
    expect(r).toEqual({ ok: true, value: [{ ts: TS, seq: 7, values: { pm25: 31.4, pm10: 40.2, humidity: 71 } }] });
  });

  it('accepts RFC 3339 timestamps with an offset', () => {
    const r = parse({ ts: '2025-03-15T07:00:00+07:00', values: { pm25: 10 } });
    expect(r.ok && r.value[0]?.ts).toBe(Date.parse('2025-03-15T00:00:00Z'));
  });

  it.each([
    ['not json', '{"ts":', 'malformed_json'],
    ['an empty payload', '', 'malformed_json'],
    ['a string value', { ts: TS, values: { pm25: '12' } }, 'schema_violation'],
    ['missing values', { ts: TS }, 'schema_violation'],
    ['missing ts', { values: { pm25: 1 } }, 'schema_violation'],
    ['a negative seq', { ts: TS, seq: -1, values: { pm25: 1 } }, 'schema_violation'],
    ['seconds instead of ms', { ts: 1_742_000_000, values: { pm25: 1 } }, 'bad_timestamp'],
    ['a garbage date string', { ts: 'yesterday', values: { pm25: 1 } }, 'bad_timestamp'],
    ['the epoch as a string', { ts: '1970-01-01T00:00:00Z', values: { pm25: 1 } }, 'bad_timestamp'],
    ['30 February', { ts: '2025-02-30T10:00:00+07:00', values: { pm25: 1 } }, 'bad_timestamp'],
    ['hour 24', { ts: '2025-03-15T24:00:00Z', values: { pm25: 1 } }, 'bad_timestamp'],
    ['a wrong unit', { ts: TS, values: { temperature: 80 }, units: { temperature: 'degF' } }, 'unit_mismatch'],
    ['negative PM', { ts: TS, values: { pm25: -5 } }, 'impossible_value'],
    ['humidity 150 %', { ts: TS, values: { humidity: 150 } }, 'impossible_value'],
    ['only unknown metrics', { ts: TS, values: { co2: 400 } }, 'no_values'],
    ['a JSON number', '42', 'schema_violation'],
    ['JSON null', 'null', 'schema_violation'],
  ])('rejects %s with a stable reason', (_name, input, code) => {
    const r = parse(input);
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.error.code).toBe(code);
      expect(r.error.message.length).toBeGreaterThan(10);
    }
  });

  it('names the bad value in the message', () => {
    const r = parse({ ts: TS, values: { pm25: -5 } });
    expect(!r.ok && r.error.message).toContain('pm25=-5');
    const u = parse({ ts: TS, values: { temperature: 80 }, units: { temperature: 'degF' } });
    expect(!u.ok && u.error.message).toContain('"degF"');
  });

  it('accepts unit aliases and ignores (but reports) unknown metrics', () => {
    const r = parse({ ts: TS, values: { pm25: 12, co2: 400 }, units: { pm25: 'µg/m3' } });
    expect(r.ok && r.value[0]).toEqual({ ts: TS, values: { pm25: 12 }, ignored: ['co2'] });
  });

  it('does not let prototype keys through', () => {
    const r = parseTelemetry(`{"ts":${TS},"values":{"__proto__":1,"pm25":3}}`);
    expect(r.ok && r.value[0]?.values).toEqual({ pm25: 3 });
  });
});

describe('parseTelemetry: SenML (RFC 8428)', () => {
  it('resolves base name, base time and units into one reading', () => {
    const pack = [
      { bn: 'urn:dev:cnx:dev1:', bt: TS / 1000, n: 'pm25', u: 'ug/m3', v: 20.5 },
      { n: 'temperature', u: 'Cel', v: 30.1 },
      { n: 'humidity', u: '%RH', v: 55 },
    ];
    expect(parse(pack)).toEqual({
      ok: true,
      value: [{ ts: TS, values: { pm25: 20.5, temperature: 30.1, humidity: 55 } }],
    });
  });

  it('groups records with different times into separate readings, oldest first', () => {
    const pack = [
      { bn: 'd:', bt: TS / 1000, n: 'pm25', v: 1, t: 60 },
      { n: 'pm25', v: 2 },
    ];
    const r = parse(pack);
    expect(r.ok && r.value.map((x) => [x.ts, x.values.pm25])).toEqual([
      [TS, 2],
      [TS + 60_000, 1],
    ]);
  });

  it('adds the base value (bv) to each value', () => {
    const r = parse([{ bn: 'd:', bt: TS / 1000, bv: 10, n: 'pm25', v: 1.5 }]);
    expect(r.ok && r.value[0]?.values.pm25).toBe(11.5);
  });

  it('rejects sums (bs/s), which it does not support', () => {
    const r = parse([{ bn: 'd:', bt: TS / 1000, n: 'pm25', s: 4 }]);
    expect(!r.ok && r.error.code).toBe('senml_invalid');
  });

  it('rejects relative times, bad units and invalid packs', () => {
    const rel = parse([{ n: 'pm25', v: 1, t: -5 }]);
    expect(!rel.ok && rel.error.code).toBe('bad_timestamp');
    const unit = parse([{ bt: TS / 1000, n: 'pm25', u: 'kg/m3', v: 1 }]);
    expect(!unit.ok && unit.error.code).toBe('unit_mismatch');
    const invalid = parse([{ n: 5 }]);
    expect(!invalid.ok && invalid.error.code).toBe('senml_invalid');
    const empty = parse([]);
    expect(!empty.ok && empty.error.code).toBe('senml_invalid');
  });
});

describe('topics', () => {
  it('round-trips every topic of the map', () => {
    expect(parseTopic(topics.telemetry('chiang-mai', 'dev-1'))).toEqual({
      kind: 'telemetry',
      city: 'chiang-mai',
      id: 'dev-1',
    });
    expect(parseTopic(topics.history('chiang-mai', 'dev-1'))).toEqual({
      kind: 'history',
      city: 'chiang-mai',
      id: 'dev-1',
    });
    expect(parseTopic(topics.status('chiang-mai', 'dev-1'))).toEqual({
      kind: 'status',
      city: 'chiang-mai',
      id: 'dev-1',
    });
    expect(parseTopic(topics.readings('chiang-mai'))).toEqual({ kind: 'readings', city: 'chiang-mai', id: '' });
    expect(parseTopic(topics.deadletter('chiang-mai', 'dev-1'))).toEqual({
      kind: 'deadletter',
      city: 'chiang-mai',
      id: 'dev-1',
    });
  });

  it('rejects anything else', () => {
    for (const t of [
      'cnx/v1/x/readings/st-1',
      'cnx/v1/x/other',
      '',
      'cnx/v1',
      'cnx/v2/x/devices/d/telemetry',
      'cnx/v1/x/devices/d/other',
      'cnx/v1/x/devices/d/telemetry/extra',
      'cnx/v1/x/devices/d/history/extra',
      'cnx/v1/x/devices/history',
      'a/b/c/d/e',
    ]) {
      expect(parseTopic(t)).toBeUndefined();
    }
  });
});

describe('history topic', () => {
  /** MQTT 3.1.1 section 4.7 topic matching, enough for our filters (+ and a trailing #). */
  const matches = (filter: string, topic: string): boolean => {
    const f = filter.split('/');
    const t = topic.split('/');
    for (let i = 0; i < f.length; i++) {
      if (f[i] === '#') return true;
      if (i >= t.length || (f[i] !== '+' && f[i] !== t[i])) return false;
    }
    return f.length === t.length;
  };

  it('is its own level beside telemetry, and the filters tell the two apart', () => {
    const history = topics.history('chiang-mai', 'cm-air-cmu-01-pms');
    expect(history).toBe('cnx/v1/chiang-mai/devices/cm-air-cmu-01-pms/history');
    expect(matches(filters.allHistory('chiang-mai'), history)).toBe(true);
    expect(matches(filters.allTelemetry('chiang-mai'), history)).toBe(false);
    expect(matches(filters.allHistory('chiang-mai'), topics.telemetry('chiang-mai', 'cm-air-cmu-01-pms'))).toBe(false);
    expect(matches(filters.allHistory('chiang-mai'), topics.history('lampang', 'cm-air-cmu-01-pms'))).toBe(false);
  });

  it('carries the telemetry payloads: a SenML log of several times becomes readings in time order', () => {
    // What a logger uploads: 12 one-minute readings of 5 metrics = 60 records (a pack holds at most 64).
    const start = 1_767_200_000; // s
    const pack = [];
    for (let k = 11; k >= 0; k--) {
      for (const [n, v] of [
        ['pm1', 10 + k],
        ['pm25', 14 + k],
        ['pm10', 20 + k],
        ['temperature', 24],
        ['humidity', 70],
      ] as const) {
        pack.push(
          pack.length === 0
            ? { bn: 'urn:dev:cnx:cm-air-cmu-01-pms:', bt: start, n, v, t: k * 60 }
            : { n, v, t: k * 60 },
        );
      }
    }
    const r = parseTelemetry(JSON.stringify(pack));
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.value.map((x) => x.ts)).toEqual(Array.from({ length: 12 }, (_, k) => (start + k * 60) * 1000));
    expect(r.value[3]?.values).toEqual({ pm1: 13, pm25: 17, pm10: 23, temperature: 24, humidity: 70 });
  });
});

describe('readings batch', () => {
  it('wraps serialised readings without re-encoding them', async () => {
    const { readingsBatchJson } = await import('../src/bus');
    const a = JSON.stringify({ station: 'a', ts: 1 });
    const b = JSON.stringify({ station: 'b', ts: 2 });
    expect(JSON.parse(readingsBatchJson([a, b]))).toEqual({ v: 1, readings: [JSON.parse(a), JSON.parse(b)] });
    expect(JSON.parse(readingsBatchJson([]))).toEqual({ v: 1, readings: [] });
  });
});
