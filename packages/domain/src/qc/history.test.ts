import { describe, expect, it } from 'vitest';
import { applyQc, createQcState, DEFAULT_QC_CONFIG, HISTORY_QC_CONFIG, historyQcConfig, type QcConfig } from './engine';

const T0 = Date.UTC(2026, 0, 10, 5);
const MIN = 60_000;
const DAY = 86_400_000;

describe('HISTORY_QC_CONFIG (the history topic)', () => {
  it('is the default with lateness not judged, and frozen', () => {
    expect({ ...HISTORY_QC_CONFIG, maxAgeMs: DEFAULT_QC_CONFIG.maxAgeMs }).toEqual(DEFAULT_QC_CONFIG);
    expect(HISTORY_QC_CONFIG.maxAgeMs).toBe(Number.POSITIVE_INFINITY);
    expect(Object.isFrozen(HISTORY_QC_CONFIG)).toBe(true);
    expect(historyQcConfig(DEFAULT_QC_CONFIG)).toBe(HISTORY_QC_CONFIG);
  });

  it('never flags stale: a reading three days old is clean on history, stale on telemetry', () => {
    const old = { ts: T0 - 3 * DAY, values: { pm25: 18, humidity: 60 } };
    expect(applyQc(createQcState(), old, T0, HISTORY_QC_CONFIG)).toEqual([]);
    expect(applyQc(createQcState(), old, T0, DEFAULT_QC_CONFIG)).toEqual(['stale']);
  });

  it('still judges everything else: future, range, humidity, spike', () => {
    const one = (ts: number, values: Record<string, number>) =>
      applyQc(createQcState(), { ts, values }, T0, HISTORY_QC_CONFIG);
    expect(one(T0 + 3 * MIN, { pm25: 10 })).toEqual(['future']);
    expect(one(T0 - 2 * DAY, { pm25: 1200 })).toEqual(['range']);
    expect(one(T0 - 2 * DAY, { pm25: 12, humidity: 80 })).toEqual(['humidity']);
    const s = createQcState();
    const at = (ts: number, pm25: number) => applyQc(s, { ts, values: { pm25 } }, T0, HISTORY_QC_CONFIG);
    expect(at(T0 - 2 * DAY, 12)).toEqual([]);
    expect(at(T0 - 2 * DAY + MIN, 400)).toEqual(['spike']);
    expect(at(T0 - 2 * DAY + 2 * MIN, 13)).toEqual([]);
  });

  it('derives a variant of a custom config once, frozen', () => {
    const custom: QcConfig = { ...DEFAULT_QC_CONFIG, maxAgeMs: 5 * MIN, stuckCount: 3 };
    const h = historyQcConfig(custom);
    expect(h).toEqual({ ...custom, maxAgeMs: Number.POSITIVE_INFINITY });
    expect(Object.isFrozen(h)).toBe(true);
    expect(custom.maxAgeMs).toBe(5 * MIN);
  });
});
