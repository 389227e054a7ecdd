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
