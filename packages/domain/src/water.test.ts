import { describe, expect, it } from 'vitest';
import { assessCanalLevel, classForParam, classifySurfaceWater, rateOfRise, SURFACE_WATER_CLASS_INFO } from './water';

describe('classForParam: every edge of the NEB No. 8 table', () => {
  it.each([
    ['do', 6.0, 2],
    ['do', 5.99, 3],
    ['do', 4.0, 3],
    ['do', 3.99, 4],
    ['do', 2.0, 4],
    ['do', 1.99, 5],
    ['do', 0, 5],
    ['bod', 0, 2],
    ['bod', 1.5, 2],
    ['bod', 1.51, 3],
    ['bod', 2.0, 3],
    ['bod', 2.01, 4],
    ['bod', 4.0, 4],
    ['bod', 4.01, 5],
    ['ph', 4.99, 5],
    ['ph', 5, 2],
    ['ph', 9, 2],
    ['ph', 9.01, 5],
    ['nh3n', 0.5, 2],
    ['nh3n', 0.51, 5],
  ] as const)('%s %s -> class %s', (p, v, c) => {
    expect(classForParam(p, v)).toBe(c);
  });
});

describe('classifySurfaceWater', () => {
  it('all four parameters: a full class', () => {
    expect(classifySurfaceWater({ do: 6.5, bod: 1.0, ph: 7, nh3n: 0.2 })).toEqual({
      class: 2,
      limitedBy: ['do', 'bod', 'ph', 'nh3n'],
      basis: ['do', 'bod', 'ph', 'nh3n'],
      partial: false,
    });
    expect(classifySurfaceWater({ do: 5, bod: 3, ph: 7, nh3n: 0.2 })).toMatchObject({
      class: 4,
      limitedBy: ['bod'],
      partial: false,
    });
  });

  it('DO and pH alone (a continuous station): the best class they allow, partial', () => {
    expect(classifySurfaceWater({ do: 4.5, ph: 7.66 })).toEqual({
      class: 3,
      limitedBy: ['do'],
      basis: ['do', 'ph'],
      partial: true,
    });
  });

  it('class 5 is final even with parameters missing', () => {
    // Mae Kha at Rakaeng bridge, Nov 2025: DO 1.64 mg/L, pH 7.66
    expect(classifySurfaceWater({ do: 1.64, ph: 7.66 })).toEqual({
      class: 5,
      limitedBy: ['do'],
      basis: ['do', 'ph'],
      partial: false,
    });
    expect(classifySurfaceWater({ ph: 4 })).toMatchObject({ class: 5, limitedBy: ['ph'], partial: false });
    expect(classifySurfaceWater({ do: 1, nh3n: 2, ph: 7 })).toMatchObject({ class: 5, limitedBy: ['do', 'nh3n'] });
  });

  it('skips missing and non-finite parameters', () => {
    expect(classifySurfaceWater({})).toBeUndefined();
    expect(classifySurfaceWater({ do: Number.NaN })).toBeUndefined();
    expect(classifySurfaceWater({ do: Number.NaN, bod: 1.8 })).toMatchObject({
      class: 3,
      basis: ['bod'],
      partial: true,
    });
  });

  it('has labels and uses for every class', () => {
    for (const c of [2, 3, 4, 5] as const) expect(SURFACE_WATER_CLASS_INFO[c].label.th.length).toBeGreaterThan(0);
  });
});

describe('assessCanalLevel', () => {
  const levels = { bankHeightM: 2.0, warningLevelM: 1.2, criticalLevelM: 1.6 };
  it.each([
    [0.5, 'normal'],
    [1.19, 'normal'],
    [1.2, 'warning'],
    [1.59, 'warning'],
    [1.6, 'critical'],
    [2.0, 'critical'],
    [2.01, 'overbank'],
  ] as const)('%s m -> %s', (level, state) => {
    expect(assessCanalLevel(level, levels)!.state).toBe(state);
  });

  it('gives freeboard and percent of bank', () => {
    const a = assessCanalLevel(1.5, levels)!;
    expect(a.freeboardM).toBeCloseTo(0.5, 12);
    expect(a.percentOfBank).toBeCloseTo(75, 12);
    expect(assessCanalLevel(2.3, levels)!.freeboardM).toBeCloseTo(-0.3, 12);
  });

  it('refuses nonsense', () => {
    expect(assessCanalLevel(Number.NaN, levels)).toBeUndefined();
    expect(assessCanalLevel(1, { ...levels, bankHeightM: 0 })).toBeUndefined();
  });
});

describe('rateOfRise', () => {
  const T0 = Date.UTC(2025, 8, 20, 10);
  const MIN = 60_000;

  it('gives m/h from a steady rise', () => {
    const s = Array.from({ length: 7 }, (_, i) => ({ ts: T0 + i * 10 * MIN, value: 1 + 0.1 * i }));
    expect(rateOfRise(s, 60 * MIN)).toBeCloseTo(0.6, 9);
  });

  it('is negative when falling, in any input order', () => {
    const s = [
      { ts: T0 + 30 * MIN, value: 1.5 },
      { ts: T0, value: 2 },
      { ts: T0 + 60 * MIN, value: 1 },
    ];
    expect(rateOfRise(s, 2 * 60 * MIN)).toBeCloseTo(-1, 9);
  });

  it('fits least squares through noise', () => {
    // y = 0.3·h + noise that sums to zero and is uncorrelated with t
    const s = [0, 1, 2, 3, 4].map((i) => ({
      ts: T0 + i * 15 * MIN,
      value: 0.3 * (i / 4) + [0.02, -0.02, 0, -0.02, 0.02][i]!,
    }));
    expect(rateOfRise(s, 60 * MIN)).toBeCloseTo(0.3, 9);
  });

  it('uses only the window before the latest sample (inclusive)', () => {
    const s = [
      { ts: T0, value: 100 }, // outside a 30-minute window
      { ts: T0 + 30 * MIN, value: 1 },
      { ts: T0 + 60 * MIN, value: 1.5 },
    ];
    expect(rateOfRise(s, 30 * MIN)).toBeCloseTo(1, 9);
  });

  it('needs two distinct times', () => {
    expect(rateOfRise([], 60 * MIN)).toBeUndefined();
    expect(rateOfRise([{ ts: T0, value: 1 }], 60 * MIN)).toBeUndefined();
    expect(
      rateOfRise(
        [
          { ts: T0, value: 1 },
          { ts: T0, value: 2 },
        ],
        60 * MIN,
      ),
    ).toBeUndefined();
    expect(
      rateOfRise(
        [
          { ts: T0, value: 1 },
          { ts: T0 + MIN, value: Number.NaN },
        ],
        60 * MIN,
      ),
    ).toBeUndefined();
  });
});
