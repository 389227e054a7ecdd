import { describe, expect, it } from 'vitest';
import {
  codeListOnlyRegex,
  codeListRegex,
  durationMs,
  emptyOrListsRegex,
  fieldAbsent,
  STORE_ERROR_CODES,
  StoreError,
} from '../src/index';

describe('InfluxQL code-list regex and durations', () => {
  it('matches a code anywhere in a comma-joined list and nothing else', () => {
    const re = codeListRegex(['spike', 'seq_duplicate', 'a.b']);
    expect(re.text).toBe('/(^|,)(spike|seq_duplicate|a\\.b)(,|$)/');
    const js = new RegExp(re.text.slice(1, -1));
    for (const yes of ['spike', 'range,spike', 'spike,stale', 'x,seq_duplicate,y', 'a.b'])
      expect(js.test(yes)).toBe(true);
    for (const no of ['', 'spiked', 'xspike', 'range', 'aXb', 'seq_duplicates']) expect(js.test(no)).toBe(false);
  });

  it('refuses codes that could change the pattern, and empty lists', () => {
    for (const bad of [[], ['a|b'], ['a/b'], ['(x)'], ["x'"], ['a b'], [''], ['x'.repeat(65)]]) {
      const e = (() => {
        try {
          codeListRegex(bad);
        } catch (err) {
          return err;
        }
      })();
      expect(e, JSON.stringify(bad)).toBeInstanceOf(StoreError);
      expect((e as StoreError).code).toBe(STORE_ERROR_CODES.invalidQuery);
    }
  });

  it('matches a list made only of some codes, and an empty list or one that names a code', () => {
    const only = codeListOnlyRegex(['range', 'spike', 'stuck']);
    expect(only.text).toBe('/^((range|spike|stuck)(,|$))*$/');
    const onlyJs = new RegExp(only.text.slice(1, -1));
    for (const yes of ['', 'range', 'stuck,range', 'spike,spike', 'range,spike,stuck'])
      expect(onlyJs.test(yes)).toBe(true);
    for (const no of ['stale', 'range,stale', 'humidity,spike', 'ranges', 'xrange'])
      expect(onlyJs.test(no)).toBe(false);
    const about = emptyOrListsRegex('do');
    expect(about.text).toBe('/^$|(^|,)(do)(,|$)/');
    const aboutJs = new RegExp(about.text.slice(1, -1));
    for (const yes of ['', 'do', 'pm25,do', 'do,ph']) expect(aboutJs.test(yes)).toBe(true);
    for (const no of ['pm25', 'dox', 'odo', 'water_level']) expect(aboutJs.test(no)).toBe(false);
    expect(fieldAbsent('qc_metrics').text).toBe('("qc_metrics" =~ /^/) = false');
    for (const bad of [() => codeListOnlyRegex([]), () => codeListOnlyRegex(['a|b']), () => emptyOrListsRegex('x/')])
      expect(bad).toThrow(StoreError);
  });

  it('writes durations in ms and refuses anything but a positive integer', () => {
    expect(durationMs(3_600_000).text).toBe('3600000ms');
    for (const bad of [0, -1, 1.5, Number.NaN, 2 ** 60]) expect(() => durationMs(bad)).toThrow(StoreError);
  });
});
