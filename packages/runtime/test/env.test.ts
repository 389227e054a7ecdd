import { describe, expect, it } from 'vitest';
import { ConfigError, EnvReader } from '../src/env';

describe('EnvReader', () => {
  it('uses defaults when nothing is set', () => {
    const r = new EnvReader({});
    expect(r.string('A', 'x')).toBe('x');
    expect(r.int('B', 5, 1, 10)).toBe(5);
    expect(r.bool('C', true)).toBe(true);
    expect(r.oneOf('D', ['a', 'b'] as const, 'b')).toBe('b');
    expect(r.url('E', ['http:'])).toBeUndefined();
    expect(() => r.finish()).not.toThrow();
  });

  it('parses valid values', () => {
    const r = new EnvReader({ B: '7', C: 'off', D: 'a', E: 'http://127.0.0.1:8086' });
    expect(r.int('B', 5, 1, 10)).toBe(7);
    expect(r.bool('C', true)).toBe(false);
    expect(r.oneOf('D', ['a', 'b'] as const, 'b')).toBe('a');
    expect(r.url('E', ['http:'])).toBe('http://127.0.0.1:8086');
  });

  it('lists every bad setting at once, naming the variable and the bad value', () => {
    const r = new EnvReader({ B: '70', C: 'maybe', D: 'z', E: 'ftp://x', F: 'not a url' });
    r.int('B', 5, 1, 10);
    r.bool('C', true);
    r.oneOf('D', ['a', 'b'] as const, 'b');
    r.url('E', ['http:']);
    r.url('F', ['http:']);
    let error: unknown;
    try {
      r.finish();
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems;
    expect(problems).toHaveLength(5);
    expect(problems[0]).toContain('B="70"');
    expect(problems[1]).toContain('C="maybe"');
    expect(problems[2]).toContain('D="z"');
    expect(problems[3]).toContain('E="ftp://x"');
    expect(problems[4]).toContain('F="not a url"');
    expect((error as Error).message).toContain('Invalid configuration');
  });
});
