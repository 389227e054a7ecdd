import type { Reading } from '@cnx/domain';
import { describe, expect, it } from 'vitest';
import {
  appendLines,
  ByteBuilder,
  escapeMeasurement,
  escapeTag,
  formatFloat,
  formatInteger,
  quoteStringField,
  ReadingEncoder,
  STORE_ERROR_CODES,
  StoreError,
} from '../src/index';

const base: Reading = {
  city: 'cnx',
  stationId: 's1',
  deviceId: 'd1',
  ts: 1_740_787_200_000,
  values: {},
  corrections: [],
  qc: [],
};

function thrown(fn: () => unknown): StoreError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(StoreError);
    return e as StoreError;
  }
  throw new Error('expected a throw');
}

describe('escaping', () => {
  it('measurement: commas and spaces only', () => {
    expect(escapeMeasurement('reading')).toBe('reading');
    expect(escapeMeasurement('my reading,x=y')).toBe('my\\ reading\\,x=y');
  });

  it('tag keys/values and field keys: commas, equals signs and spaces', () => {
    expect(escapeTag('s1')).toBe('s1');
    expect(escapeTag('a b,c=d')).toBe('a\\ b\\,c\\=d');
    expect(escapeTag(',,==  ')).toBe('\\,\\,\\=\\=\\ \\ ');
    expect(escapeTag(`x' OR 1=1 --`)).toBe(`x'\\ OR\\ 1\\=1\\ --`);
    expect(escapeTag('"quoted"')).toBe('"quoted"');
    expect(escapeTag('สถานี ช้างเผือก')).toBe('สถานี\\ ช้างเผือก');
  });

  it('names with newlines, control characters or backslashes are rejected, never altered', () => {
    for (const bad of ['a\nb', 'a\rb', 'tab\there', 'nul\u0000', 'del\u007f', 'back\\slash', 'trailing\\', '']) {
      const e = thrown(() => escapeTag(bad));
      expect(e.code).toBe(STORE_ERROR_CODES.invalidReading);
      expect(e.message).toContain(JSON.stringify(bad));
    }
    expect(() => escapeMeasurement('a\nb')).toThrow(StoreError);
  });

  it('string field values: double quotes and backslashes', () => {
    expect(quoteStringField('')).toBe('""');
    expect(quoteStringField('range,spike')).toBe('"range,spike"');
    expect(quoteStringField('a"b\\c')).toBe('"a\\"b\\\\c"');
    expect(quoteStringField('ends with \\')).toBe('"ends with \\\\"');
    expect(quoteStringField('x = y, z')).toBe('"x = y, z"');
    expect(quoteStringField('สูตร "ใหม่"')).toBe('"สูตร \\"ใหม่\\""');
  });
});

describe('numbers', () => {
  it('floats are plain decimals in their shortest round-trip form', () => {
    expect(formatFloat(12)).toBe('12');
    expect(formatFloat(12.5)).toBe('12.5');
    expect(formatFloat(-0)).toBe('0');
    expect(formatFloat(0.1 + 0.2)).toBe('0.30000000000000004');
    expect(formatFloat(1e-7)).toBe('0.0000001');
    expect(formatFloat(1.5e-7)).toBe('0.00000015');
    expect(formatFloat(-2.5e-8)).toBe('-0.000000025');
    expect(formatFloat(1e21)).toBe('1000000000000000000000');
    expect(formatFloat(-1.2345e22)).toBe('-12345000000000000000000');
    expect(formatFloat(5e-324)).toBe(`0.${'0'.repeat(323)}5`);
  });

  it('never emits exponents and parses back to the same double', () => {
    const samples = [Number.MAX_VALUE, Number.MIN_VALUE, Number.EPSILON, 123456789.123, 1e-6, 9.999e-7, 1e20, 1e21];
    const bits = new Float64Array(1);
    const words = new Uint32Array(bits.buffer);
    for (let i = 0; i < 5000; i++) {
      words[0] = (Math.random() * 2 ** 32) >>> 0;
      words[1] = (Math.random() * 2 ** 32) >>> 0;
      if (Number.isFinite(bits[0])) samples.push(bits[0]!);
    }
    for (const x of samples) {
      const s = formatFloat(x);
      expect(s).toMatch(/^-?\d+(\.\d+)?$/);
      expect(Number(s)).toBe(x === 0 ? 0 : x);
    }
  });

  it('NaN and infinities do not exist in line protocol', () => {
    for (const bad of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]) {
      expect(thrown(() => formatFloat(bad)).code).toBe(STORE_ERROR_CODES.invalidReading);
    }
  });

  it('integers take an i suffix and must be safe integers', () => {
    expect(formatInteger(0)).toBe('0i');
    expect(formatInteger(-3)).toBe('-3i');
    expect(formatInteger(2 ** 53 - 1)).toBe('9007199254740991i');
    expect(() => formatInteger(2.5)).toThrow(StoreError);
    expect(() => formatInteger(2 ** 53)).toThrow(StoreError);
  });
});

describe('ReadingEncoder', () => {
  const enc = new ReadingEncoder();

  it('encodes one point per reading: sorted fixed tags, qc always, floats, seq integer, corrections', () => {
    const line = enc.encode({
      ...base,
      seq: 42,
      values: { pm25: 35.5, humidity: 80, temperature: -1.25 },
      corrections: [{ metric: 'pm25', value: 21.75, method: 'epa-barkjohn-2021-extended@1' }],
      qc: ['humidity', 'spike'],
    });
    expect(line).toBe(
      'reading,city=cnx,device=d1,station=s1 qc="humidity,spike",qc_metrics="",pm25=35.5,humidity=80,temperature=-1.25,seq=42i,' +
        'pm25_corrected=21.75,pm25_correction="epa-barkjohn-2021-extended@1" 1740787200000',
    );
  });

  it('writes qc="" and qc_metrics="" for a clean reading with no values', () => {
    expect(enc.encode(base)).toBe('reading,city=cnx,device=d1,station=s1 qc="",qc_metrics="" 1740787200000');
  });

  it('writes qc_metrics in registry order whatever the input order; an empty list is none', () => {
    const stuck = { ...base, values: { water_level: 1.5, do: 6 }, qc: ['stuck' as const] };
    expect(enc.encode({ ...stuck, qcMetrics: ['do'] })).toBe(
      'reading,city=cnx,device=d1,station=s1 qc="stuck",qc_metrics="do",water_level=1.5,do=6 1740787200000',
    );
    expect(enc.encode({ ...base, qc: ['spike', 'range'], qcMetrics: ['battery', 'pm25', 'temperature'] })).toBe(
      'reading,city=cnx,device=d1,station=s1 qc="spike,range",qc_metrics="pm25,temperature,battery" 1740787200000',
    );
    expect(enc.encode({ ...base, qc: ['stale'], qcMetrics: [] })).toBe(
      'reading,city=cnx,device=d1,station=s1 qc="stale",qc_metrics="" 1740787200000',
    );
  });

  it('escapes hostile ids and correction methods', () => {
    const line = enc.encode({
      ...base,
      city: 'เชียงใหม่',
      stationId: `x' OR 1=1 --`,
      deviceId: '"; DROP DATABASE x',
      values: { pm25: 1 },
      corrections: [{ metric: 'pm25', value: 2, method: 'a "b", c=d \\ e' }],
    });
    expect(line).toBe(
      `reading,city=เชียงใหม่,device=";\\ DROP\\ DATABASE\\ x,station=x'\\ OR\\ 1\\=1\\ -- ` +
        'qc="",qc_metrics="",pm25=1,pm25_corrected=2,pm25_correction="a \\"b\\", c=d \\\\ e" 1740787200000',
    );
  });

  it('escapes a measurement name once', () => {
    expect(new ReadingEncoder('air reading,v2').encode(base)).toBe(
      'air\\ reading\\,v2,city=cnx,device=d1,station=s1 qc="",qc_metrics="" 1740787200000',
    );
  });

  it('encodes a batch as newline-terminated lines, with a range', () => {
    const rs = [0, 1, 2].map((i) => ({ ...base, ts: base.ts + i }));
    expect(enc.encodeBatch(rs)).toBe(rs.map((r) => `${enc.encode(r)}\n`).join(''));
    expect(enc.encodeBatch(rs, 1, 2)).toBe(`${enc.encode(rs[1]!)}\n`);
  });

  it('encodes a batch into a reused byte buffer exactly as the string, across chunks and growth', () => {
    // 150 lines: more than one 64-line chunk; Thai ids: multi-byte UTF-8; a 16-byte start: growth.
    const rs = Array.from({ length: 150 }, (_, i) => ({
      ...base,
      stationId: i % 2 ? 'สถานี-1' : 's1',
      ts: base.ts + i,
      values: { pm25: i / 7 },
    }));
    const out = new ByteBuilder(16);
    out.append('x');
    appendLines(out, 0, rs.length, (i) => enc.encode(rs[i]!));
    expect(out.view(1).toString('utf8')).toBe(enc.encodeBatch(rs));
    out.reset();
    appendLines(out, 10, 20, (i) => enc.encode(rs[i]!));
    expect(out.view().toString('utf8')).toBe(enc.encodeBatch(rs, 10, 20));
    expect(out.length).toBe(Buffer.byteLength(enc.encodeBatch(rs, 10, 20)));
  });

  it('keeps series apart and stays correct when its prefix cache is cleared', () => {
    const small = new ReadingEncoder('reading', 2);
    const ids = ['a', 'b', 'c', 'a', 'd', 'b'];
    for (const id of ids) {
      expect(small.encode({ ...base, stationId: id, deviceId: `${id}-dev` })).toBe(
        `reading,city=cnx,device=${id}-dev,station=${id} qc="",qc_metrics="" 1740787200000`,
      );
    }
    // Same station under two cities, and the cached prefix is not confused by shared parts.
    expect(small.encode({ ...base, city: 'lpn' })).toContain('city=lpn,');
    expect(small.encode({ ...base, city: 'cnx', stationId: 's1', deviceId: 'd2' })).toContain('device=d2,');
  });

  it('rejects what it cannot store, naming the bad value', () => {
    const cases: Array<[Partial<Reading>, string]> = [
      [{ stationId: 'a\\b' }, '"a\\\\b"'],
      [{ deviceId: 'line\nbreak' }, '"line\\nbreak"'],
      [{ city: '' }, '""'],
      [{ values: { pm25: Number.NaN } }, 'NaN'],
      [{ values: { pm25: Number.POSITIVE_INFINITY } }, 'Infinity'],
      [{ values: { nope: 1 } as Reading['values'] }, '"nope"'],
      [{ values: { pm25: '12' as unknown as number } }, '"12"'],
      [{ seq: 1.5 }, '1.5'],
      [{ ts: 1.5 }, '1.5'],
      [{ qc: ['range,spike' as never] }, '"range,spike"'],
      [{ qc: ['stuck'], qcMetrics: ['pm2.5' as never] }, '"pm2.5"'],
      [{ qc: ['stuck'], qcMetrics: ['do', 'pm25', 'do'] }, 'names do twice'],
      [{ qc: ['stuck'], qcMetrics: 'do' as never }, 'qcMetrics "do" must be an array'],
      [{ qc: ['stale', 'humidity'], qcMetrics: ['do'] }, 'qcMetrics ["do"] given but qc ["stale","humidity"]'],
      [{ qcMetrics: ['do'] }, 'has no metric flag'],
      [{ corrections: [{ metric: 'pm25', value: 1, method: 'x\ny' }] }, '"x\\ny"'],
      [{ corrections: [{ metric: 'pm25', value: Number.NaN, method: 'm' }] }, 'NaN'],
      [
        {
          corrections: [
            { metric: 'pm25', value: 1, method: 'm' },
            { metric: 'pm25', value: 2, method: 'm' },
          ],
        },
        'two corrections for pm25',
      ],
    ];
    for (const [patch, shown] of cases) {
      const e = thrown(() => enc.encode({ ...base, ...patch }));
      expect(e.code).toBe(STORE_ERROR_CODES.invalidReading);
      expect(e.retryable).toBe(false);
      expect(e.message).toContain(shown);
    }
  });

  it('encodes a large batch over many series: one line per reading, in order (speed: pipeline.bench.ts)', () => {
    const rs: Reading[] = Array.from({ length: 50_000 }, (_, i) => ({
      ...base,
      stationId: `s${i % 200}`,
      deviceId: `d${i % 400}`,
      ts: base.ts + i,
      seq: i,
      values: { pm1: 10.1, pm25: 20.2 + i / 1000, pm10: 30.3, temperature: 28.4, humidity: 61.5 },
      corrections: [{ metric: 'pm25', value: 15.5, method: 'epa-barkjohn-2021-extended@1' }],
      qc: i % 10 === 0 ? ['humidity'] : [],
    }));
    const lines = enc.encodeBatch(rs).split('\n');
    expect(lines).toHaveLength(50_001);
    expect(lines.pop()).toBe('');
    expect(lines[49_999]).toBe(new ReadingEncoder().encode(rs[49_999]!));
    expect(lines[10]).toBe(
      'reading,city=cnx,device=d10,station=s10 qc="humidity",qc_metrics="",pm1=10.1,pm25=20.21,pm10=30.3,temperature=28.4,humidity=61.5,seq=10i,pm25_corrected=15.5,pm25_correction="epa-barkjohn-2021-extended@1" 1740787200010',
    );
  });
});
