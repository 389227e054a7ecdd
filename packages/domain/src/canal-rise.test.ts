import { describe, expect, it } from 'vitest';
import { estimateRise, type RiseSample, t975 } from './canal-rise';
import { rateOfRise } from './water';

const MIN = 60_000;
const NOW = Date.UTC(2026, 7, 20, 3, 0, 0);
const THRESHOLD = 0.3;

/** Seeded normal noise (Park–Miller + Box–Muller): the same series every run. */
function noise(seed: number): () => number {
  let s = seed;
  const u = () => {
    s = (s * 16807) % 2147483647;
    return s / 2147483647;
  };
  return () => Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u());
}

/** Samples every `stepMs` for `minutes` up to NOW: level = base + rate·t + σ·noise. */
function series(opts: { minutes: number; stepMs: number; rate: number; sigma: number; seed?: number; base?: number }) {
  const rnd = noise(opts.seed ?? 7);
  const out: RiseSample[] = [];
  for (let ts = NOW - opts.minutes * MIN; ts <= NOW; ts += opts.stepMs) {
    const hours = (ts - NOW) / 3_600_000;
    out.push({ ts, value: (opts.base ?? 0.6) + opts.rate * hours + opts.sigma * rnd() });
  }
  return out;
}

describe('estimateRise: a robust rate of rise', () => {
  it('noisy flat water is never "rising fast", over many noise draws', () => {
    for (let seed = 1; seed <= 200; seed++) {
      // 30 minutes of 10-second polls with 2 cm of noise (a rough ultrasonic probe).
      const e = estimateRise(series({ minutes: 30, stepMs: 10_000, rate: 0, sigma: 0.02, seed }), {
        thresholdMPerHour: THRESHOLD,
        now: NOW,
      });
      expect(e.trend, `seed ${seed}`).not.toBe('rising_fast');
      expect(e.trend, `seed ${seed}`).not.toBe('unknown');
      expect(Math.abs(e.mPerHour!)).toBeLessThan(0.1);
    }
  });

  it('the few noisy polls that fooled the bare slope are "not enough data" now', () => {
    // Three polls a minute apart, 1.5 cm of noise: the bare least-squares slope reads well over 0.3 m/h.
    const polls = [
      { ts: NOW - 2 * MIN, value: 0.6 },
      { ts: NOW - 1 * MIN, value: 0.585 },
      { ts: NOW, value: 0.615 },
    ];
    expect(rateOfRise(polls, 30 * MIN)!).toBeGreaterThan(THRESHOLD);
    const e = estimateRise(polls, { thresholdMPerHour: THRESHOLD, now: NOW });
    expect(e).toMatchObject({ trend: 'unknown', reason: 'too_few_samples', mPerHour: null, samples: 3 });
  });

  it('many samples over too short a time are "not enough data" (too_short_span)', () => {
    const e = estimateRise(series({ minutes: 5, stepMs: 1000, rate: 0, sigma: 0.01 }), {
      thresholdMPerHour: THRESHOLD,
      now: NOW,
    });
    expect(e.trend).toBe('unknown');
    expect(e.reason).toBe('too_short_span');
    expect(e.samples).toBeGreaterThan(100);
  });

  it('a real flash rise (0.8 m/h) is "rising fast", with its uncertainty', () => {
    const e = estimateRise(series({ minutes: 30, stepMs: 10_000, rate: 0.8, sigma: 0.02 }), {
      thresholdMPerHour: THRESHOLD,
      now: NOW,
    });
    expect(e.trend).toBe('rising_fast');
    expect(e.mPerHour!).toBeCloseTo(0.8, 1);
    expect(e.uncertaintyMPerHour!).toBeGreaterThan(0);
    expect(e.mPerHour! - e.uncertaintyMPerHour!).toBeGreaterThan(THRESHOLD);
    expect(e.samples).toBe(181);
    expect(e.spanMinutes).toBe(30);
  });

  it('a rate near the threshold but not clearly above it is only "rising"', () => {
    // 0.32 m/h with 5 cm of noise and 1-minute polls: the interval straddles 0.3.
    const e = estimateRise(series({ minutes: 30, stepMs: MIN, rate: 0.32, sigma: 0.05, seed: 3 }), {
      thresholdMPerHour: THRESHOLD,
      now: NOW,
    });
    expect(e.mPerHour! - e.uncertaintyMPerHour!).toBeLessThanOrEqual(THRESHOLD);
    expect(e.mPerHour! + e.uncertaintyMPerHour!).toBeGreaterThan(THRESHOLD);
    expect(e.trend).toBe('rising');
  });

  it('a clear fall is "falling"; a tiny significant drift is still "steady"', () => {
    const fall = estimateRise(series({ minutes: 30, stepMs: 10_000, rate: -0.2, sigma: 0.01 }), {
      thresholdMPerHour: THRESHOLD,
      now: NOW,
    });
    expect(fall.trend).toBe('falling');
    const drift = estimateRise(series({ minutes: 30, stepMs: 1000, rate: 0.005, sigma: 0.001 }), {
      thresholdMPerHour: THRESHOLD,
      now: NOW,
    });
    expect(drift.trend).toBe('steady');
  });

  it('only the window before `now` counts: an old rise does not make a flat canal rising, stale data is unknown', () => {
    const old = series({ minutes: 60, stepMs: 10_000, rate: 2, sigma: 0.01 }).filter((s) => s.ts < NOW - 30 * MIN);
    const flat = series({ minutes: 30, stepMs: 10_000, rate: 0, sigma: 0.01 }).filter((s) => s.ts >= NOW - 30 * MIN);
    const e = estimateRise([...old, ...flat], { thresholdMPerHour: THRESHOLD, now: NOW });
    expect(e.trend).toBe('steady');
    expect(e.samples).toBe(flat.length);
    // The same samples seen two hours later: nothing in the window.
    const stale = estimateRise([...old, ...flat], { thresholdMPerHour: THRESHOLD, now: NOW + 120 * MIN });
    expect(stale).toMatchObject({ trend: 'unknown', reason: 'too_few_samples', samples: 0 });
  });

  it('skips non-finite samples, takes unordered input, and defaults `now` to the newest sample', () => {
    const s = series({ minutes: 30, stepMs: 30_000, rate: 1, sigma: 0.005 });
    const shuffled = [...s].reverse();
    shuffled.push({ ts: NOW - MIN, value: Number.NaN }, { ts: Number.NaN, value: 3 });
    const e = estimateRise(shuffled, { thresholdMPerHour: THRESHOLD });
    expect(e.samples).toBe(s.length);
    expect(e.trend).toBe('rising_fast');
    expect(e.mPerHour!).toBeCloseTo(1, 1);
  });

  it('a perfectly straight series has zero uncertainty', () => {
    const e = estimateRise(series({ minutes: 20, stepMs: MIN, rate: 0.5, sigma: 0 }), {
      thresholdMPerHour: THRESHOLD,
      now: NOW,
    });
    expect(e.mPerHour!).toBeCloseTo(0.5, 9);
    expect(e.uncertaintyMPerHour!).toBeCloseTo(0, 9);
    expect(e.trend).toBe('rising_fast');
  });

  it("t975 follows Student's t and tends to 1.96", () => {
    expect(t975(1)).toBeCloseTo(12.706, 3);
    expect(t975(8)).toBeCloseTo(2.306, 3);
    expect(t975(30)).toBeCloseTo(2.042, 3);
    expect(t975(60)).toBeCloseTo(2.0, 3);
    expect(t975(1000)).toBe(1.96);
    expect(t975(0)).toBe(Number.POSITIVE_INFINITY);
  });
});
