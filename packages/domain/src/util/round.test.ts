import { describe, expect, it } from 'vitest';
import { roundTo, truncTo } from './round';

describe('roundTo / truncTo', () => {
  it('round half up without binary noise', () => {
    expect(roundTo(1.005, 2)).toBe(1.01);
    expect(roundTo(15.05, 1)).toBe(15.1);
    expect(roundTo(15.04999, 1)).toBe(15.0);
    expect(roundTo(2.5, 0)).toBe(3);
    expect(roundTo(0, 1)).toBe(0);
  });

  it('truncate without binary noise', () => {
    expect(truncTo(4.35, 2)).toBe(4.35);
    expect(truncTo(35.49, 1)).toBe(35.4);
    expect(truncTo(9.1, 1)).toBe(9.1);
    expect(truncTo(604.999, 0)).toBe(604);
  });
});

describe('fast path', () => {
  // roundTo/truncTo skip the 12-digit cleaning away from .5 and whole-number edges; this compares
  // them with the always-cleaning definition over a dense grid and random values.
  const clean = (x: number) => Number(x.toPrecision(12));
  const refRound = (x: number, d: number) => Math.round(clean(x * 10 ** d)) / 10 ** d;
  const refTrunc = (x: number, d: number) => Math.trunc(clean(x * 10 ** d)) / 10 ** d;

  it('gives exactly what always cleaning gives', () => {
    let seed = 1;
    const rnd = () => {
      seed = (seed * 48_271) % 2_147_483_647;
      return seed / 2_147_483_647;
    };
    const xs: number[] = [];
    for (let i = -20_000; i <= 200_000; i += 7) xs.push(i / 1000, i / 100 + 0.005, i * 0.001 + 0.0005, (i / 3) * 0.3);
    for (let k = 0; k < 100_000; k++) xs.push((rnd() - 0.2) * 10 ** (rnd() * 6));
    for (const d of [0, 1, 2, 3]) {
      for (const x of xs) {
        if (roundTo(x, d) !== refRound(x, d)) expect([x, d, roundTo(x, d)]).toEqual([x, d, refRound(x, d)]);
        if (truncTo(x, d) !== refTrunc(x, d)) expect([x, d, truncTo(x, d)]).toEqual([x, d, refTrunc(x, d)]);
      }
    }
    expect(roundTo(4.35, 1)).toBe(4.4);
    expect(truncTo(0.29 * 100, 0)).toBe(29);
  });
});
