import { describe, expect, it } from 'vitest';
import {
  ident,
  int,
  iql,
  join,
  measurementRef,
  STORE_ERROR_CODES,
  StoreError,
  str,
  tagIn,
  timeMs,
  timeNs,
  timeRange,
} from '../src/index';
import { InfluxQL } from '../src/influxql';

/**
 * A scanner for one quoted InfluxQL token, following influxql's ScanString: `\` escapes n, \, ' and ";
 * anything else after a backslash, or a raw newline, is an error. Returns the value and what follows
 * the closing quote: for our quoting, "what follows" must always be empty (nothing escaped the token).
 */
function scanQuoted(token: string): { value: string; rest: string } {
  const quote = token[0];
  if (quote !== "'" && quote !== '"') throw new Error('not quoted');
  let value = '';
  for (let i = 1; i < token.length; i++) {
    const ch = token[i]!;
    if (ch === '\n') throw new Error('bad string: newline');
    if (ch === '\\') {
      const next = token[++i];
      if (next === 'n') value += '\n';
      else if (next === '\\' || next === "'" || next === '"') value += next;
      else throw new Error(`bad escape \\${next}`);
    } else if (ch === quote) {
      return { value, rest: token.slice(i + 1) };
    } else value += ch;
  }
  throw new Error('unterminated');
}

const HOSTILE = [
  `x' OR 1=1 --`,
  `"; DROP DATABASE x`,
  `'; DROP MEASUREMENT reading; SELECT '`,
  `\\' OR 1=1 --`,
  `trailing backslash \\`,
  `\\\\'`,
  `"\\"`,
  'เชียงใหม่ "ช้างเผือก"',
  '/.*/',
  `a,b=c d`,
];

describe('InfluxQL quoting', () => {
  it('identifiers: double quotes with \\" and \\\\ escaped', () => {
    expect(ident('station').text).toBe('"station"');
    expect(ident('a"b\\c').text).toBe('"a\\"b\\\\c"');
    expect(ident('my db').text).toBe('"my db"');
  });

  it("string literals: single quotes with \\' and \\\\ escaped", () => {
    expect(str('s1').text).toBe("'s1'");
    expect(str(`x' OR 1=1 --`).text).toBe(`'x\\' OR 1=1 --'`);
    expect(str(`"; DROP DATABASE x`).text).toBe(`'"; DROP DATABASE x'`);
    expect(str('').text).toBe("''");
  });

  it('every hostile value scans back to itself as one token, with nothing after it', () => {
    for (const v of HOSTILE) {
      expect(scanQuoted(str(v).text)).toEqual({ value: v, rest: '' });
      expect(scanQuoted(ident(v).text)).toEqual({ value: v, rest: '' });
    }
  });

  it('rejects control characters and empty identifiers', () => {
    for (const bad of ['a\nb', 'a\rb', 'nul\u0000', 'tab\t']) {
      expect(() => str(bad)).toThrow(StoreError);
      expect(() => ident(bad)).toThrow(StoreError);
    }
    expect(() => ident('')).toThrow(/must not be empty/);
    expect(() => str(42 as unknown as string)).toThrow(/must be a string/);
  });
});

describe('InfluxQL composition', () => {
  it('builds statements from fragments only', () => {
    const q = iql`SELECT ${ident('qc')} FROM ${measurementRef('reading')} WHERE ${tagIn('station', [`x' OR 1=1 --`])} LIMIT ${int(5)}`;
    expect(q.text).toBe(`SELECT "qc" FROM "reading" WHERE ("station" = 'x\\' OR 1=1 --') LIMIT 5`);
    expect(String(q)).toBe(q.text);
  });

  it('refuses a plain string interpolation at run time', () => {
    const evil = `'; DROP DATABASE x; --` as unknown as InfluxQL;
    let err: unknown;
    try {
      iql`SELECT * FROM x WHERE a = ${evil}`;
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(StoreError);
    expect((err as StoreError).code).toBe(STORE_ERROR_CODES.invalidQuery);
    expect(() => join([evil], ', ')).toThrow(StoreError);
    expect(() => iql(['a', 'b'] as unknown as TemplateStringsArray, ident('x'))).toThrow(/tagged template/);
  });

  it('fragments cannot be forged outside the module', () => {
    const Forge = InfluxQL as unknown as new (token: symbol, text: string) => InfluxQL;
    expect(() => new Forge(Symbol('InfluxQL'), 'DROP DATABASE x')).toThrow(StoreError);
  });

  it('time bounds are integer epoch literals: from inclusive, to exclusive', () => {
    expect(timeMs(1_740_787_200_000).text).toBe('1740787200000ms');
    expect(timeNs(1_740_787_200_000_000_000n).text).toBe('1740787200000000000');
    expect(timeRange(1000, 2000).text).toBe('time >= 1000ms AND time < 2000ms');
    expect(timeRange(1000, 2000, { toInclusive: true }).text).toBe('time >= 1000ms AND time <= 2000ms');
    for (const bad of [1.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 60, '1000' as unknown as number]) {
      expect(() => timeMs(bad)).toThrow(StoreError);
    }
    expect(() => timeNs(5 as unknown as bigint)).toThrow(StoreError);
    expect(() => int(1.5)).toThrow(StoreError);
  });

  it('tagIn ORs equality tests and refuses an empty list', () => {
    expect(tagIn('station', ['a', "b'c"]).text).toBe(`("station" = 'a' OR "station" = 'b\\'c')`);
    expect(() => tagIn('station', [])).toThrow(/empty value list/);
  });

  it('measurementRef qualifies with a retention policy', () => {
    expect(measurementRef('reading', 'one "week"').text).toBe('"one \\"week\\""."reading"');
    expect(measurementRef('reading').text).toBe('"reading"');
  });
});
