import { describe, expect, it } from 'vitest';
import { rateOfRise } from '../water';
import { initialRuleState, type RuleState, resolveThresholds, ruleProblems, stepRule } from './engine';
import {
  addSample,
  aggregateSignal,
  canalRiseSignal,
  type Sample,
  type StationSeries,
  stationSignal,
  stuckMinutes,
  trailingMean,
} from './signals';
import { alertText } from './text';
import type { AlertRule, AlertTransition } from './types';

const MIN = 60_000;
const T0 = Date.UTC(2025, 2, 10, 0, 0);
const L = (en: string) => ({ th: en, en });
/** A made-up city seven hours east of Greenwich. */
const CITY = { name: { th: 'เมืองทดสอบ', en: 'Testville' }, timeZone: 'Asia/Bangkok' };

const pm: AlertRule = {
  id: 'pm25-1h',
  name: L('PM2.5'),
  signal: 'pm25_1h',
  stationKind: 'air',
  direction: 'above',
  scope: 'station',
  levels: [
    { id: 'orange', severity: 'warning', threshold: 37.6, label: L('orange') },
    { id: 'red', severity: 'critical', threshold: 75.1, label: L('red') },
  ],
  durationMin: 30,
  hysteresis: 5,
  renotifyMin: 0,
};
const TH = [37.6, 75.1];

/** Feed values every `everyMin` minutes from T0; returns events and final state. */
function run(rule: AlertRule, th: number[], values: (number | undefined)[], everyMin = 5, state?: RuleState) {
  let s = state ?? initialRuleState(th.length);
  const events: AlertTransition[] = [];
  values.forEach((value, i) => {
    const r = stepRule(rule, th, s, { ts: T0 + i * everyMin * MIN, value });
    s = r.state;
    events.push(...r.events);
  });
  return { state: s, events };
}

describe('stepRule: thresholds and durations', () => {
  it('does not raise before the duration has elapsed', () => {
    const { events, state } = run(pm, TH, [40, 40, 40, 40, 40, 40]); // 0..25 min
    expect(events).toEqual([]);
    expect(state.level).toBe(-1);
  });
  it('raises once the condition held for durationMin, and only once', () => {
    const { events, state } = run(pm, TH, [40, 40, 40, 40, 40, 40, 40, 40, 40]);
    expect(events.map((e) => e.type)).toEqual(['raised']);
    expect(events[0]).toMatchObject({ level: 0, ts: T0 + 30 * MIN, value: 40, since: T0 + 30 * MIN });
    expect(state.level).toBe(0);
  });
  it('raises at once with duration 0', () => {
    const { events } = run({ ...pm, durationMin: 0 }, TH, [10, 80]);
    expect(events.map((e) => [e.type, e.level])).toEqual([['raised', 1]]);
  });
  it('escalates to the higher level after its own duration', () => {
    const vals = [...Array(7).fill(50), ...Array(7).fill(90)];
    const { events } = run(pm, TH, vals);
    expect(events.map((e) => [e.type, e.level, e.previousLevel])).toEqual([
      ['raised', 0, -1],
      ['escalated', 1, 0],
    ]);
  });
  it('a value exactly at the threshold counts as crossed', () => {
    const { events } = run({ ...pm, durationMin: 0 }, TH, [37.6]);
    expect(events.map((e) => e.type)).toEqual(['raised']);
  });
});

describe('stepRule: hysteresis and flapping', () => {
  it('stays firing inside the hysteresis band and clears only below threshold − margin', () => {
    const vals = [...Array(7).fill(45), 35, 34, 33.1, 32.5, 30];
    const { events } = run(pm, TH, vals);
    expect(events.map((e) => [e.type, e.ts])).toEqual([
      ['raised', T0 + 30 * MIN],
      ['cleared', T0 + 50 * MIN],
    ]);
  });
  it('flapping input around the threshold produces no alert storm', () => {
    const flap = Array.from({ length: 200 }, (_, i) => (i % 2 === 0 ? 38 : 36));
    expect(run(pm, TH, flap).events).toEqual([]); // never held 30 min
    const afterRaise = [...Array(7).fill(45), ...flap];
    const { events } = run(pm, TH, afterRaise);
    expect(events.map((e) => e.type)).toEqual(['raised']); // 36..38 is inside the band
  });
  it('respects clearDurationMin', () => {
    const vals = [...Array(7).fill(45), 20, 45, 20, 20, 20];
    const { events } = run({ ...pm, clearDurationMin: 10 }, TH, vals);
    expect(events.map((e) => [e.type, e.ts])).toEqual([
      ['raised', T0 + 30 * MIN],
      ['cleared', T0 + 55 * MIN],
    ]);
  });
  it('de-escalates to a lower level that is still held, then clears once', () => {
    const vals = [...Array(7).fill(90), 60, 60, 10];
    const { events } = run(pm, TH, vals);
    expect(events.map((e) => [e.type, e.level])).toEqual([
      ['raised', 1],
      ['deescalated', 0],
      ['cleared', -1],
    ]);
  });
  it('a new episode after a clear needs the full duration again', () => {
    const vals = [...Array(7).fill(45), 10, 45, 45, 45];
    expect(run(pm, TH, vals).events.map((e) => e.type)).toEqual(['raised', 'cleared']);
  });
});

describe('stepRule: missing data, duplicates, renotify', () => {
  it('missing values never count as sustained, and a long gap restarts the duration', () => {
    const vals = [40, undefined, undefined, undefined, undefined, undefined, undefined, 40];
    expect(run(pm, TH, vals).events).toEqual([]);
    // 40 at 0 and 40 at 35 min: gap 35 > maxGapMin 30 → restart
    expect(
      run(pm, TH, [40, undefined, undefined, undefined, undefined, undefined, undefined, 40]).state.onSince[0],
    ).toBe(T0 + 35 * MIN);
  });
  it('ignores observations that are not newer (at-least-once bus)', () => {
    let s = initialRuleState(2);
    const rule = { ...pm, durationMin: 0 };
    s = stepRule(rule, TH, s, { ts: T0 + 10 * MIN, value: 80 }).state;
    const again = stepRule(rule, TH, s, { ts: T0 + 10 * MIN, value: 80 });
    expect(again.events).toEqual([]);
    const older = stepRule(rule, TH, s, { ts: T0, value: 1 });
    expect(older.events).toEqual([]);
    expect(older.state).toBe(s);
  });
  it('re-notifies every renotifyMin while firing, also on data-less ticks', () => {
    const rule = { ...pm, durationMin: 0, renotifyMin: 60 };
    const { events } = run(rule, TH, [...Array(25).fill(50), undefined], 5);
    expect(events.map((e) => [e.type, (e.ts - T0) / MIN])).toEqual([
      ['raised', 0],
      ['renotify', 60],
      ['renotify', 120],
    ]);
  });
  it('works for below-threshold rules (DO below the class-4 minimum)', () => {
    const dOx: AlertRule = {
      ...pm,
      id: 'do',
      signal: 'do_low',
      direction: 'below',
      levels: [{ id: 'low', severity: 'warning', threshold: 2, label: L('low') }],
      durationMin: 10,
      hysteresis: 0.5,
    };
    const { events } = run(dOx, [2], [3, 1.8, 1.7, 1.9, 2.3, 2.6]);
    expect(events.map((e) => [e.type, (e.ts - T0) / MIN])).toEqual([
      ['raised', 15],
      ['cleared', 25],
    ]);
  });
});

describe('stepRule: restart in the middle of a firing alert', () => {
  it('state survives JSON serialisation and evaluation continues exactly', () => {
    const vals = [...Array(10).fill(45), 45, 45, 20, 20];
    const straight = run(pm, TH, vals);
    const first = run(pm, TH, vals.slice(0, 10));
    const restored = JSON.parse(JSON.stringify(first.state)) as RuleState;
    let s = restored;
    const later: AlertTransition[] = [];
    vals.slice(10).forEach((value, j) => {
      const r = stepRule(pm, TH, s, { ts: T0 + (10 + j) * 5 * MIN, value });
      s = r.state;
      later.push(...r.events);
    });
    expect([...first.events, ...later]).toEqual(straight.events);
    expect(later.map((e) => e.type)).toEqual(['cleared']); // no second 'raised' after the restart
  });
});

describe('canal flood scenario (pure)', () => {
  const canal: AlertRule = {
    ...pm,
    id: 'canal-level',
    signal: 'canal_level',
    stationKind: 'canal',
    levels: [
      { id: 'warning', severity: 'warning', threshold: { station: 'warningLevelM' }, label: L('warning') },
      { id: 'critical', severity: 'critical', threshold: { station: 'criticalLevelM' }, label: L('critical') },
    ],
    durationMin: 10,
    hysteresis: 0.1,
  };
  it('raises warning, then critical, then clears once', () => {
    const th = resolveThresholds(canal, { canal: { warningLevelM: 1.4, criticalLevelM: 1.8, bankHeightM: 2 } })!;
    expect(th).toEqual([1.4, 1.8]);
    const up = [1.0, 1.2, 1.4, 1.5, 1.6, 1.7, 1.8, 1.85, 1.9, 1.95, 1.9, 1.85];
    const down = [1.75, 1.72, 1.6, 1.45, 1.35, 1.32, 1.2, 1.0, 0.9];
    const { events } = run(canal, th, [...up, ...down]);
    expect(events.map((e) => e.type)).toEqual(['raised', 'escalated', 'deescalated', 'cleared']);
    expect(events.filter((e) => e.type === 'cleared')).toHaveLength(1);
  });
  it('cannot resolve station thresholds without canal levels', () => {
    expect(resolveThresholds(canal, {})).toBeUndefined();
  });
});

describe('canal_rise: an established rise, not a few noisy polls', () => {
  /** The Chiang Mai rule (cities/chiang-mai/alert-rules.json). */
  const rise: AlertRule = {
    ...pm,
    id: 'canal-rise',
    signal: 'canal_rise',
    stationKind: 'canal',
    levels: [{ id: 'fast', severity: 'warning', threshold: 0.3, label: L('fast') }],
    durationMin: 10,
    hysteresis: 0.1,
    windowMin: 30,
  };
  /** Seeded normal noise (Park–Miller + Box–Muller): the same series every run. */
  function noise(seed: number): () => number {
    let x = seed;
    const u = () => {
      x = (x * 16807) % 2147483647;
      return x / 2147483647;
    };
    return () => Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u());
  }
  /** Level every `stepMs` in [from, to]: 0.6 m + rate(t) + σ·noise (rate in m/h from T0). */
  function levels(from: number, to: number, stepMs: number, rate: (ts: number) => number, sigma: number, seed = 7) {
    const rnd = noise(seed);
    const out: Sample[] = [];
    for (let ts = from; ts <= to; ts += stepMs) out.push({ ts, value: 0.6 + rate(ts) + sigma * rnd() });
    return out;
  }
  const st = (water_level: Sample[]): StationSeries => ({ metrics: { water_level }, lastSeen: undefined });

  it('a few noisy polls of a flat canal give no signal (the bare slope read "rising fast")', () => {
    // Three polls a minute apart, 1.5 cm apart: the old signal (rateOfRise) was 0.45 m/h.
    const polls = [
      { ts: T0, value: 0.6 },
      { ts: T0 + MIN, value: 0.585 },
      { ts: T0 + 2 * MIN, value: 0.615 },
    ];
    expect(rateOfRise(polls, 30 * MIN)!).toBeGreaterThan(0.3);
    expect(stationSignal(rise, st(polls), T0 + 2 * MIN)).toBeUndefined();
    // Many polls, but over 5 minutes only (too short a span): still no signal.
    const burst = levels(T0, T0 + 5 * MIN, 10_000, () => 0, 0.015);
    expect(stationSignal(rise, st(burst), T0 + 5 * MIN)).toBeUndefined();
    // And stepped through the engine for an hour of sparse noisy polls: nothing is raised.
    const sparse = levels(T0, T0 + 60 * MIN, 5 * MIN, () => 0, 0.015, 3);
    const obs = sparse.map((s) => stationSignal(rise, st(sparse.filter((p) => p.ts <= s.ts)), s.ts));
    expect(obs.every((v) => v === undefined)).toBe(true);
  });

  it('noisy flat water (10-s polls, 2 cm of noise) never reaches the threshold, over many draws', () => {
    for (let seed = 1; seed <= 100; seed++) {
      const flat = levels(T0, T0 + 30 * MIN, 10_000, () => 0, 0.02, seed);
      const v = canalRiseSignal(flat, T0 + 30 * MIN, 30 * MIN, 'above')!;
      expect(v, `seed ${seed}`).toBeLessThan(0.3);
      expect(v, `seed ${seed}`).toBeLessThan(rateOfRise(flat, 30 * MIN)! + 1e-12); // the lower bound
    }
  });

  it('a real fast rise (0.8 m/h) gives a signal above the threshold, below the slope', () => {
    const HOUR = 60 * MIN;
    const up = levels(T0, T0 + 30 * MIN, 10_000, (ts) => (0.8 * (ts - T0)) / HOUR, 0.02);
    const v = stationSignal(rise, st(up), T0 + 30 * MIN)!;
    expect(v).toBeGreaterThan(0.3);
    expect(v).toBeLessThan(rateOfRise(up, 30 * MIN)!);
    expect(v).toBeGreaterThan(0.6);
    // A 'below' rule (falling fast) takes the other end of the interval.
    expect(canalRiseSignal(up, T0 + 30 * MIN, 30 * MIN, 'below')!).toBeGreaterThan(rateOfRise(up, 30 * MIN)!);
    // Samples after `now` and before the window are not used.
    const later = [...up, ...levels(T0 + 31 * MIN, T0 + 60 * MIN, 10_000, () => 5, 0)];
    expect(stationSignal(rise, st(later), T0 + 30 * MIN)).toBe(v);
  });

  it('through the engine: noisy flat water raises nothing, a fast rise raises once after its duration and clears', () => {
    const HOUR = 60 * MIN;
    // 60 min flat with 1.5 cm of noise, 40 min rising 0.8 m/h, 60 min flat again; 10-s polls.
    const riseStart = T0 + 60 * MIN;
    const riseEnd = riseStart + 40 * MIN;
    const rate = (ts: number) => (0.8 * (Math.min(Math.max(ts, riseStart), riseEnd) - riseStart)) / HOUR;
    const all = levels(T0, T0 + 160 * MIN, 10_000, rate, 0.015);
    const series: Sample[] = [];
    let s = initialRuleState(1);
    const events: AlertTransition[] = [];
    for (const p of all) {
      addSample(series, p, 25 * HOUR);
      const r = stepRule(rise, [0.3], s, { ts: p.ts, value: stationSignal(rise, st(series), p.ts) });
      s = r.state;
      events.push(...r.events);
    }
    expect(events.map((e) => e.type)).toEqual(['raised', 'cleared']);
    const [raised, cleared] = events;
    // Not before the rise has held (beyond its uncertainty) for the rule's 10 minutes.
    expect(raised!.ts).toBeGreaterThanOrEqual(riseStart + 10 * MIN);
    expect(raised!.ts).toBeLessThan(riseEnd);
    expect(raised!.value!).toBeGreaterThanOrEqual(0.3);
    expect(raised!.value!).toBeLessThan(0.8);
    expect(cleared!.ts).toBeGreaterThan(riseEnd);
    expect(cleared!.value!).toBeLessThan(0.3 - 0.1); // hysteresis
  });

  it('the alert text says the value is a lower bound', () => {
    const en = alertText(
      {
        rule: rise,
        type: 'raised',
        level: 0,
        previousLevel: -1,
        value: 0.412,
        ts: T0,
        subjectName: L('Rakaeng'),
        city: CITY,
      },
      'en',
    );
    expect(en.body).toContain('Measured: ≥ 0.41 m/h');
  });
});

describe('ruleProblems', () => {
  it('a canal_rise window shorter than the 15 minutes of readings a rise needs is a problem', () => {
    const rise: AlertRule = { ...pm, id: 'r', signal: 'canal_rise', stationKind: 'canal', windowMin: 10 };
    expect(ruleProblems(rise).join('\n')).toMatch(/windowMin 10 is under the 15 minutes/);
    expect(ruleProblems({ ...rise, windowMin: 30 })).toEqual([]);
    expect(ruleProblems({ ...rise, windowMin: undefined })).toEqual([]);
  });

  it('finds non-monotonic thresholds and station refs outside station scope', () => {
    const bad: AlertRule = {
      ...pm,
      scope: 'district',
      levels: [
        { id: 'a', severity: 'warning', threshold: 50, label: L('a') },
        { id: 'a', severity: 'critical', threshold: 40, label: L('b') },
        { id: 'c', severity: 'critical', threshold: { station: 'bankHeightM' }, label: L('c') },
      ],
    };
    const p = ruleProblems(bad);
    expect(p.join('\n')).toMatch(/not beyond 50/);
    expect(p.join('\n')).toMatch(/need scope "station"/);
    expect(p.join('\n')).toMatch(/duplicate level id a/);
    expect(ruleProblems(pm)).toEqual([]);
  });
});

describe('signals', () => {
  it('addSample keeps order, drops duplicates and old samples', () => {
    const s: Sample[] = [];
    expect(addSample(s, { ts: 3, value: 1 }, 10)).toBe(true);
    addSample(s, { ts: 1, value: 1 }, 10);
    expect(addSample(s, { ts: 3, value: 9 }, 10)).toBe(false);
    addSample(s, { ts: 20, value: 2 }, 10);
    expect(s).toEqual([{ ts: 20, value: 2 }]);
  });
  it('trailing mean, stuck minutes, aggregate', () => {
    const s = [0, 1, 2, 3].map((i) => ({ ts: T0 + i * 20 * MIN, value: i === 0 ? 9 : 5 }));
    expect(trailingMean(s, T0 + 60 * MIN, 60 * MIN)).toBe(5);
    expect(stuckMinutes(s)).toBe(40);
    expect(aggregateSignal([1, undefined, 3], 'above')).toBe(3);
    expect(aggregateSignal([1, undefined, 3], 'below')).toBe(1);
  });
  it('pm25_24h needs 18 hours of data; offline counts minutes since last seen', () => {
    const pm25: Sample[] = [];
    for (let h = 0; h < 24; h++) pm25.push({ ts: T0 + h * 60 * MIN, value: 40 });
    const rule = { ...pm, signal: 'pm25_24h' as const };
    expect(stationSignal(rule, { metrics: { pm25 }, lastSeen: undefined }, T0 + 23 * 60 * MIN)).toBe(40);
    expect(stationSignal(rule, { metrics: { pm25: pm25.slice(0, 10) }, lastSeen: 0 }, T0 + 9 * 60 * MIN)).toBe(
      undefined,
    );
    const off = { ...pm, signal: 'offline' as const };
    expect(stationSignal(off, { metrics: {}, lastSeen: T0 }, T0 + 45 * MIN)).toBe(45);
  });
});

describe('alertText', () => {
  it('gives Thai and English text with the level and value', () => {
    const m = { rule: pm, type: 'raised' as const, level: 0, previousLevel: -1, value: 41.26, ts: T0, city: CITY };
    const th = alertText({ ...m, subjectName: { th: 'สามกษัตริย์', en: 'Three Kings' } }, 'th');
    const en = alertText({ ...m, subjectName: { th: 'สามกษัตริย์', en: 'Three Kings' } }, 'en');
    expect(th.subject).toContain('แจ้งเตือน');
    expect(th.body).toContain('41.26 µg/m³');
    expect(en.subject).toBe('[Alert] PM2.5 – orange – Three Kings');
    expect(en.body).toContain('2025-03-10 07:00 (Testville time, UTC+07:00)');
    expect(th.body).toContain('2025-03-10 07:00 (เวลาเมืองทดสอบ, UTC+07:00)');
  });
});
