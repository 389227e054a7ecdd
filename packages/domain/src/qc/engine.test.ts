import { describe, expect, it } from 'vitest';
import type { MetricId } from '../metrics';
import type { MetricValues } from '../types';
import {
  applyQc,
  createQcState,
  DEFAULT_QC_CONFIG,
  type DeviceQcState,
  QC_SEQ_WINDOW,
  type QcConfig,
  type QcStateJson,
  qcStateFromJson,
  qcStateToJson,
} from './engine';
import { QC_FLAG_LIST } from './flags';
import { checkHardLimits } from './hard-limits';

const T0 = Date.UTC(2025, 2, 1, 5);
const MIN = 60_000;
const cfg = DEFAULT_QC_CONFIG;

/** Feeds readings one minute apart, received on time; returns the flags of each. */
function feed(state: DeviceQcState, list: MetricValues[], start = T0, config: QcConfig = cfg) {
  return list.map((values, i) => applyQc(state, { ts: start + i * MIN, values }, start + i * MIN, config));
}

describe('applyQc: clean readings', () => {
  it('returns an empty array', () => {
    const s = createQcState();
    expect(applyQc(s, { ts: T0, values: { pm25: 12, pm10: 20, temperature: 28, humidity: 60 } }, T0, cfg)).toEqual([]);
  });
});

describe('range', () => {
  it.each([
    [{ pm25: 1000 }, []],
    [{ pm25: 1000.1 }, ['range']],
    [{ ph: 4 }, []],
    [{ ph: 3.99 }, ['range']],
    [{ ph: 10.01 }, ['range']],
    [{ temperature: -0.1 }, ['range']],
    [{ water_temperature: 41 }, ['range']],
    [{ pm25: Number.NaN }, ['range']],
  ] as [MetricValues, string[]][])('%o -> %o', (values, flags) => {
    expect(applyQc(createQcState(), { ts: T0, values }, T0, cfg)).toEqual(flags);
  });

  it('flags once however many metrics are out of range', () => {
    expect(applyQc(createQcState(), { ts: T0, values: { pm25: 2000, pm10: 2000, ph: 2 } }, T0, cfg)).toEqual(['range']);
  });
});

describe('humidity', () => {
  it('flags RH above 75 only in a reading with PM', () => {
    const at = (values: MetricValues) => applyQc(createQcState(), { ts: T0, values }, T0, cfg);
    expect(at({ pm25: 20, humidity: 75 })).toEqual([]);
    expect(at({ pm25: 20, humidity: 75.1 })).toEqual(['humidity']);
    expect(at({ pm10: 20, humidity: 90 })).toEqual(['humidity']);
    expect(at({ pm1: 20, humidity: 90 })).toEqual(['humidity']);
    expect(at({ temperature: 25, humidity: 95 })).toEqual([]);
  });
});

describe('future and stale', () => {
  const at = (ts: number, receivedAt: number) => applyQc(createQcState(), { ts, values: { pm25: 5 } }, receivedAt, cfg);
  it('allows 2 minutes of clock skew', () => {
    expect(at(T0 + 2 * MIN, T0)).toEqual([]);
    expect(at(T0 + 2 * MIN + 1, T0)).toEqual(['future']);
  });
  it('allows one hour of age', () => {
    expect(at(T0 - 60 * MIN, T0)).toEqual([]);
    expect(at(T0 - 60 * MIN - 1, T0)).toEqual(['stale']);
  });
  it('a future reading does not enter spike/stuck state', () => {
    const s = createQcState();
    expect(applyQc(s, { ts: T0, values: { pm25: 10 } }, T0, cfg)).toEqual([]);
    // a bad clock a day ahead with a wild value: only `future`
    expect(applyQc(s, { ts: T0 + 86_400_000, values: { pm25: 500 } }, T0 + MIN, cfg)).toEqual(['future']);
    // the device's next honest reading is still compared with 10, not treated as out of order
    expect(applyQc(s, { ts: T0 + 2 * MIN, values: { pm25: 200 } }, T0 + 2 * MIN, cfg)).toEqual(['spike']);
  });
});

describe('spike', () => {
  it('flags a jump above the threshold, not at it', () => {
    expect(feed(createQcState(), [{ pm25: 10 }, { pm25: 110 }])).toEqual([[], []]);
    expect(feed(createQcState(), [{ pm25: 10 }, { pm25: 110.5 }])).toEqual([[], ['spike']]);
    expect(feed(createQcState(), [{ pm25: 200 }, { pm25: 99.5 }])).toEqual([[], ['spike']]);
  });

  it('an isolated outlier flags once; the return to normal is clean', () => {
    expect(feed(createQcState(), [{ pm25: 10 }, { pm25: 300 }, { pm25: 12 }, { pm25: 14 }])).toEqual([
      [],
      ['spike'],
      [],
      [],
    ]);
  });

  it('a real step flags only its first reading', () => {
    expect(feed(createQcState(), [{ pm25: 10 }, { pm25: 300 }, { pm25: 305 }, { pm25: 310 }])).toEqual([
      [],
      ['spike'],
      [],
      [],
    ]);
  });

  it('two wild values in a row that disagree are both spikes', () => {
    expect(feed(createQcState(), [{ pm25: 10 }, { pm25: 300 }, { pm25: 600 }])).toEqual([[], ['spike'], ['spike']]);
  });

  it('does not compare readings more than spikeMaxGapMs apart', () => {
    const s = createQcState();
    applyQc(s, { ts: T0, values: { pm25: 10 } }, T0, cfg);
    expect(applyQc(s, { ts: T0 + 10 * MIN, values: { pm25: 200 } }, T0 + 10 * MIN, cfg)).toEqual(['spike']);
    const s2 = createQcState();
    applyQc(s2, { ts: T0, values: { pm25: 10 } }, T0, cfg);
    expect(applyQc(s2, { ts: T0 + 10 * MIN + 1, values: { pm25: 200 } }, T0 + 10 * MIN + 1, cfg)).toEqual([]);
  });

  it('checks each metric with its own threshold; metrics without one are not checked', () => {
    expect(feed(createQcState(), [{ temperature: 25 }, { temperature: 30.5 }])).toEqual([[], ['spike']]);
    expect(feed(createQcState(), [{ water_level: 1 }, { water_level: 1.5 }])).toEqual([[], []]);
    expect(feed(createQcState(), [{ water_level: 1 }, { water_level: 1.51 }])).toEqual([[], ['spike']]);
    expect(feed(createQcState(), [{ battery: 100 }, { battery: 1 }])).toEqual([[], []]);
  });

  it('out-of-order readings get no verdict and leave the state alone', () => {
    const s = createQcState();
    applyQc(s, { ts: T0 + 5 * MIN, values: { pm25: 10 } }, T0 + 5 * MIN, cfg);
    // late reading from before, wildly different: not compared, not stored
    expect(applyQc(s, { ts: T0 + MIN, values: { pm25: 500 } }, T0 + 6 * MIN, cfg)).toEqual([]);
    // the next in-order reading is compared with 10, not 500
    expect(applyQc(s, { ts: T0 + 7 * MIN, values: { pm25: 15 } }, T0 + 7 * MIN, cfg)).toEqual([]);
    expect(applyQc(s, { ts: T0 + 8 * MIN, values: { pm25: 400 } }, T0 + 8 * MIN, cfg)).toEqual(['spike']);
  });

  it('a repeat of the latest reading (same ts, no seq) gets the same verdict', () => {
    const s = createQcState();
    feed(s, [{ pm25: 10 }]);
    const r = { ts: T0 + MIN, values: { pm25: 300 } };
    expect(applyQc(s, r, T0 + MIN, cfg)).toEqual(['spike']);
    expect(applyQc(s, r, T0 + MIN + 500, cfg)).toEqual(['spike']);
    // and it did not count as confirmation of a level shift
    expect(applyQc(s, { ts: T0 + 2 * MIN, values: { pm25: 11 } }, T0 + 2 * MIN, cfg)).toEqual([]);
  });

  it('metrics sent in separate messages with the same ts are each checked', () => {
    const s = createQcState();
    feed(s, [{ pm25: 10, temperature: 25 }]);
    expect(applyQc(s, { ts: T0 + MIN, values: { pm25: 300 } }, T0 + MIN, cfg)).toEqual(['spike']);
    expect(applyQc(s, { ts: T0 + MIN, values: { temperature: 25.2 } }, T0 + MIN, cfg)).toEqual([]);
  });
});

describe('stuck', () => {
  const run = (v: number, n: number, metric: 'pm25' | 'temperature' | 'ph' | 'do' = 'pm25') =>
    feed(
      createQcState(),
      Array.from({ length: n }, () => ({ [metric]: v })),
    );

  it('flags the 30th identical value and those after', () => {
    const flags = run(20, 32);
    expect(flags.slice(0, 29).every((f) => f.length === 0)).toBe(true);
    expect(flags[29]).toEqual(['stuck']);
    expect(flags[30]).toEqual(['stuck']);
  });

  it('a change ends the run', () => {
    const s = createQcState();
    feed(s, Array(35).fill({ pm25: 20 }));
    expect(applyQc(s, { ts: T0 + 35 * MIN, values: { pm25: 21 } }, T0 + 35 * MIN, cfg)).toEqual([]);
    expect(applyQc(s, { ts: T0 + 36 * MIN, values: { pm25: 20 } }, T0 + 36 * MIN, cfg)).toEqual([]);
  });

  it('never calls whole clean-air PM values at or below the floor stuck', () => {
    expect(run(0, 60).flat()).toEqual([]);
    expect(run(7, 60).flat()).toEqual([]);
    expect(run(10, 60).flat()).toEqual([]);
    expect(run(10.5, 30)[29]).toEqual(['stuck']);
    expect(run(11, 30)[29]).toEqual(['stuck']);
    expect(run(0.4, 60, 'do').flat()).toEqual([]); // anoxic canal water, at any resolution
    expect(run(0.5, 60, 'do').flat()).toEqual([]);
    expect(run(7.1, 30, 'ph')[29]).toEqual(['stuck']);
  });

  it('counts fractional PM values below the floor: averaging firmware has the resolution to vary', () => {
    // The simulator's stuck fault on a clean rainy-season afternoon (issue 11): a frozen frame of
    // 2.8 / 4 / 6.3 µg/m³ was never flagged while the floor applied to every value.
    const s = createQcState();
    const frame = { pm1: 2.8, pm25: 4, pm10: 6.3, temperature: 30.3, humidity: 75.4 };
    const flags = feed(s, Array(31).fill(frame));
    expect(flags.slice(0, 29).flat()).not.toContain('stuck');
    expect(flags[29]).toContain('stuck');
    expect(flags[30]).toContain('stuck');
    expect(run(0.1, 30)[29]).toEqual(['stuck']);
  });

  it('follows the floors of the config', () => {
    const c: QcConfig = { ...cfg, stuckMinValue: {}, stuckWholeMinValue: {} };
    expect(feed(createQcState(), Array(30).fill({ pm25: 3 }), T0, c)[29]).toEqual(['stuck']);
    const d: QcConfig = { ...cfg, stuckMinValue: { pm25: 5 }, stuckWholeMinValue: {} };
    expect(feed(createQcState(), Array(60).fill({ pm25: 4.5 }), T0, d).flat()).toEqual([]);
  });

  it('ignores metrics not in stuckMetrics', () => {
    expect(run(25, 60, 'temperature').flat()).toEqual([]);
  });

  it('repeats and out-of-order readings do not lengthen the run', () => {
    const s = createQcState();
    feed(s, Array(29).fill({ pm25: 20 })); // ts T0 .. T0+28min
    const last = { ts: T0 + 28 * MIN, values: { pm25: 20 } };
    expect(applyQc(s, last, T0 + 29 * MIN, cfg)).toEqual([]); // repeat
    expect(applyQc(s, { ts: T0, values: { pm25: 20 } }, T0 + 29 * MIN, cfg)).toEqual([]); // old
    expect(applyQc(s, { ts: T0 + 29 * MIN, values: { pm25: 20 } }, T0 + 29 * MIN, cfg)).toEqual(['stuck']); // 30th
  });

  it('follows stuckCount from the config', () => {
    const c: QcConfig = { ...cfg, stuckCount: 3, stuckMetrics: ['temperature'], stuckMinValue: {} };
    expect(feed(createQcState(), [{ temperature: 0 }, { temperature: 0 }, { temperature: 0 }], T0, c)).toEqual([
      [],
      [],
      ['stuck'],
    ]);
  });
});

describe('seq_duplicate', () => {
  it('the same seq with the same ts is a redelivery, not flagged', () => {
    const s = createQcState();
    const r = { ts: T0, seq: 7, values: { pm25: 10 } };
    expect(applyQc(s, r, T0, cfg)).toEqual([]);
    expect(applyQc(s, r, T0 + 1000, cfg)).toEqual([]);
  });

  it('the same seq with another ts is flagged', () => {
    const s = createQcState();
    applyQc(s, { ts: T0, seq: 7, values: { pm25: 10 } }, T0, cfg);
    expect(applyQc(s, { ts: T0 + MIN, seq: 7, values: { pm25: 10 } }, T0 + MIN, cfg)).toEqual(['seq_duplicate']);
    // the original stays remembered: its redelivery is still fine
    expect(applyQc(s, { ts: T0, seq: 7, values: { pm25: 10 } }, T0 + 2 * MIN, cfg)).toEqual([]);
  });

  it('a redelivery gets back the spike/stuck verdict it had first, even later', () => {
    const s = createQcState();
    applyQc(s, { ts: T0, seq: 1, values: { pm25: 10 } }, T0, cfg);
    const spiky = { ts: T0 + MIN, seq: 2, values: { pm25: 300 } };
    expect(applyQc(s, spiky, T0 + MIN, cfg)).toEqual(['spike']);
    applyQc(s, { ts: T0 + 2 * MIN, seq: 3, values: { pm25: 11 } }, T0 + 2 * MIN, cfg);
    expect(applyQc(s, spiky, T0 + 3 * MIN, cfg)).toEqual(['spike']);
    // and did not disturb the state
    expect(applyQc(s, { ts: T0 + 4 * MIN, seq: 4, values: { pm25: 12 } }, T0 + 4 * MIN, cfg)).toEqual([]);
  });

  it(`remembers only the last ${QC_SEQ_WINDOW} sequence numbers`, () => {
    const s = createQcState();
    for (let i = 0; i <= QC_SEQ_WINDOW; i++)
      applyQc(s, { ts: T0 + i * MIN, seq: i, values: { pm25: 10 + (i % 5) } }, T0 + i * MIN, cfg);
    const t = T0 + 100 * MIN;
    expect(applyQc(s, { ts: t, seq: 0, values: { pm25: 10 } }, t, cfg)).toEqual([]); // evicted
    // inserting 0 evicted 1, the oldest; 2 is still remembered
    expect(applyQc(s, { ts: t + MIN, seq: 2, values: { pm25: 10 } }, t + MIN, cfg)).toEqual(['seq_duplicate']);
  });
});

describe('flag list', () => {
  it('is in QC_FLAG_LIST order without duplicates', () => {
    const s = createQcState();
    applyQc(s, { ts: T0 - 2 * 3_600_000, seq: 1, values: { pm25: 10, pm10: 10 } }, T0, cfg);
    const flags = applyQc(
      s,
      { ts: T0 - 2 * 3_600_000 + MIN, seq: 1, values: { pm25: 1200, pm10: 1600, humidity: 90 } },
      T0,
      cfg,
    );
    expect(flags).toEqual(['range', 'spike', 'humidity', 'stale', 'seq_duplicate']);
    const order = flags.map((f) => QC_FLAG_LIST.indexOf(f));
    expect([...order].sort((a, b) => a - b)).toEqual(order);
  });
});

describe('state', () => {
  it('saves as plain JSON and survives a round trip', () => {
    const a = createQcState();
    const readings = Array.from({ length: 40 }, (_, i) => ({
      ts: T0 + i * MIN,
      seq: i,
      values: { pm25: i === 20 ? 400 : 20, humidity: 80 },
    }));
    for (const r of readings.slice(0, 25)) applyQc(a, r, r.ts, cfg);
    const b = qcStateFromJson(JSON.parse(JSON.stringify(qcStateToJson(a))) as QcStateJson);
    expect(b).toEqual(a);
    expect(() => qcStateFromJson({ ...qcStateToJson(a), data: [] })).toThrow(/wrong length/);
    for (const r of readings.slice(25)) expect(applyQc(b, r, r.ts, cfg)).toEqual(applyQc(a, r, r.ts, cfg));
  });

  it('the default config is frozen', () => {
    expect(Object.isFrozen(DEFAULT_QC_CONFIG)).toBe(true);
    expect(Object.isFrozen(DEFAULT_QC_CONFIG.spike)).toBe(true);
  });
});

describe('checkHardLimits', () => {
  it('accepts possible values, including the limits', () => {
    expect(checkHardLimits({ pm25: 5000, humidity: 100, temperature: -40, ph: 0 })).toBeUndefined();
    expect(checkHardLimits({})).toBeUndefined();
  });

  it('returns the first impossible value in metric order', () => {
    expect(checkHardLimits({ pm25: 5000.1 })).toEqual({ metric: 'pm25', value: 5000.1 });
    expect(checkHardLimits({ ph: 15, pm25: -1 })).toEqual({ metric: 'pm25', value: -1 });
    expect(checkHardLimits({ humidity: 100.1 })).toEqual({ metric: 'humidity', value: 100.1 });
    expect(checkHardLimits({ water_level: -1.01 })).toEqual({ metric: 'water_level', value: -1.01 });
  });

  it('rejects non-finite values', () => {
    expect(checkHardLimits({ temperature: Number.NaN })!.metric).toBe('temperature');
    expect(checkHardLimits({ pm10: Number.POSITIVE_INFINITY })!.metric).toBe('pm10');
  });
});

describe('per-metric verdicts', () => {
  const T = Date.UTC(2026, 11, 7, 3, 0);
  it('names the metrics a range, spike or stuck verdict is about', () => {
    const state = createQcState();
    const cfg = DEFAULT_QC_CONFIG;
    // A canal probe: level rising, DO frozen at 4.37 for 30 polls (stuck from the 30th).
    let last: { flags: string[]; metrics: MetricId[] } = { flags: [], metrics: [] };
    for (let k = 0; k < 30; k++) {
      const metrics: MetricId[] = [];
      const flags = applyQc(
        state,
        { ts: T + k * 60_000, seq: k, values: { water_level: 1 + k * 0.01, do: 4.37 } },
        T + k * 60_000 + 100,
        cfg,
        metrics,
      );
      last = { flags, metrics };
    }
    expect(last).toEqual({ flags: ['stuck'], metrics: ['do'] });
    // A temperature jump of 6 °C flags the temperature, not the PM of the same reading.
    const air = createQcState();
    applyQc(air, { ts: T, values: { pm25: 40, temperature: 20 } }, T, cfg);
    const metrics: MetricId[] = [];
    expect(applyQc(air, { ts: T + 60_000, values: { pm25: 42, temperature: 26 } }, T + 60_000, cfg, metrics)).toEqual([
      'spike',
    ]);
    expect(metrics).toEqual(['temperature']);
    // Out of range is about its metric too; a redelivery gets its metrics back.
    const range: MetricId[] = [];
    expect(
      applyQc(air, { ts: T + 120_000, seq: 7, values: { pm25: 1200, temperature: 26 } }, T + 120_000, cfg, range),
    ).toContain('range');
    expect(range).toEqual(['pm25']);
    const again: MetricId[] = [];
    applyQc(air, { ts: T + 120_000, seq: 7, values: { pm25: 1200, temperature: 26 } }, T + 130_000, cfg, again);
    expect(again).toContain('pm25');
    expect(again).not.toContain('temperature');
  });
});
