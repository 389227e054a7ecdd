import type { Correction, MetricValues, QcFlag } from '@cnx/domain';
import { describe, expect, it } from 'vitest';
import type { NormalizedReadingPayload } from './bus';
import { jsonString, normalizedReadingHead, normalizedReadingJson } from './normalized-json';

/** What the gateway used to write: JSON.stringify of the whole object. */
function viaStringify(p: NormalizedReadingPayload): string {
  return JSON.stringify(p);
}

function viaHand(p: NormalizedReadingPayload): string {
  return normalizedReadingJson(normalizedReadingHead(p), p, p.receivedAt);
}

const base: NormalizedReadingPayload = {
  v: 1,
  city: 'chiang-mai',
  station: 'cm-old-city-01',
  device: 'pms-0001',
  kind: 'air',
  district: 'old-city',
  ts: 1_763_700_000_123,
  values: { pm1: 12, pm25: 35.5, pm10: 41.25, temperature: -0.5, humidity: 78 },
  corrections: [{ metric: 'pm25', value: 21.357, method: 'epa-barkjohn-2021-extended@1' }],
  qc: ['spike', 'humidity'],
  receivedAt: 1_763_700_000_456,
};

describe('normalizedReadingJson', () => {
  it('gives the same JSON as JSON.stringify, byte for byte, for a typical reading', () => {
    expect(viaHand(base)).toBe(viaStringify(base));
  });

  it('names the metrics a metric flag is about, and only when there are some', () => {
    const { receivedAt, ...rest } = base;
    const flagged: NormalizedReadingPayload = { ...rest, qc: ['spike', 'humidity'], qcMetrics: ['pm25'], receivedAt };
    expect(viaHand(flagged)).toBe(viaStringify(flagged));
    expect(JSON.parse(viaHand(flagged)).qcMetrics).toEqual(['pm25']);
    expect(viaHand({ ...flagged, qcMetrics: [] })).toBe(viaStringify(base));
  });

  it('handles seq, empty corrections and flags, a single value', () => {
    const p: NormalizedReadingPayload = {
      ...base,
      seq: 4_294_967_295,
      values: { water_level: 1.234 },
      corrections: [],
      qc: [],
    };
    // seq goes after ts in the hand-built form; compare as objects, and the shape as text.
    expect(JSON.parse(viaHand(p))).toEqual(JSON.parse(viaStringify(p)));
    expect(viaHand(p)).toContain('"values":{"water_level":1.234},"corrections":[],"qc":[]');
  });

  it('writes numbers exactly as JSON does (shortest round trip, exponents, negative zero)', () => {
    const tricky = [0.1 + 0.2, 1e21, 1e-7, -0, 5e-324, 123456789.123456, -999.999];
    for (const v of tricky) {
      const p = { ...base, values: { pm25: v } as MetricValues, corrections: [] as Correction[] };
      expect(viaHand(p)).toBe(viaStringify(p));
      expect((JSON.parse(viaHand(p)) as NormalizedReadingPayload).values.pm25).toBe(JSON.parse(JSON.stringify(v)));
    }
  });

  it('escapes names that need it (quotes, backslashes, control characters, non-ASCII)', () => {
    const odd = ['a"b', 'back\\slash', 'tab\there', 'เชียงใหม่', '\u2028', 'emoji 🌫'];
    for (const name of odd) {
      const p = { ...base, station: name, district: name };
      expect(viaHand(p)).toBe(viaStringify(p));
      expect(jsonString(name)).toBe(JSON.stringify(name));
    }
  });

  it('round-trips many random readings to the same object', () => {
    let seed = 42;
    const rnd = () => {
      seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
      return seed / 2_147_483_648;
    };
    const flags: QcFlag[] = ['range', 'spike', 'stuck', 'humidity', 'future', 'stale', 'seq_duplicate'];
    for (let i = 0; i < 500; i++) {
      const values: MetricValues = {};
      if (rnd() < 0.9) values.pm25 = Math.round(rnd() * 5000) / 10;
      if (rnd() < 0.5) values.humidity = rnd() * 100;
      if (rnd() < 0.5) values.temperature = (rnd() - 0.3) * 60;
      if (Object.keys(values).length === 0) values.pm10 = 1;
      const p: NormalizedReadingPayload = {
        ...base,
        ts: 1_700_000_000_000 + Math.floor(rnd() * 1e10),
        values,
        qc: flags.filter(() => rnd() < 0.2),
        corrections: rnd() < 0.5 ? [{ metric: 'pm25', value: rnd() * 300, method: 'epa@1' }] : [],
      };
      if (rnd() < 0.5) p.seq = Math.floor(rnd() * 1e6);
      expect(JSON.parse(viaHand(p))).toEqual(p);
    }
  });
});
