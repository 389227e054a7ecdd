import { describe, expect, it } from 'vitest';
import { addSample, type Sample, type StationSeries, signalSamples, stationSignal } from './signals';
import type { AlertRule } from './types';

const MIN = 60_000;
const T = Date.UTC(2026, 11, 7, 4, 0);
const rule = (signal: AlertRule['signal'], extra: Partial<AlertRule> = {}): AlertRule => ({
  id: signal,
  name: { th: signal, en: signal },
  signal,
  stationKind: 'air',
  direction: 'above',
  scope: 'station',
  levels: [{ id: 'l', severity: 'warning', threshold: 1, label: { th: 'l', en: 'l' } }],
  durationMin: 0,
  hysteresis: 0,
  renotifyMin: 0,
  ...extra,
});

function series(values: [number, number, boolean?][]): Sample[] {
  const out: Sample[] = [];
  for (const [min, value, suspect] of values)
    addSample(out, { ts: T + min * MIN, value, ...(suspect ? { suspect } : {}) }, 25 * 3_600_000);
  return out;
}

describe('alert signals and the quality policy', () => {
  // Alternating 20 and 1300 µg/m³ on one device: every 1300 was flagged by the gateway.
  const pm25 = series([
    [1, 20],
    [2, 1300, true],
    [3, 21],
    [4, 1300, true],
    [5, 19],
  ]);
  const st: StationSeries = { metrics: { pm25 }, lastSeen: T + 5 * MIN };

  it('leaves suspect readings out of the 1-hour mean and the latest value', () => {
    expect(stationSignal(rule('pm25_1h'), st, T + 5 * MIN)).toBe(20);
    expect(signalSamples(rule('pm25_1h'), st, T + 5 * MIN)).toBe(3);
    const water: StationSeries = {
      metrics: {
        water_level: series([
          [1, 1.2],
          [2, 3.9, true],
        ]),
      },
      lastSeen: T + 2 * MIN,
    };
    expect(stationSignal(rule('canal_level', { stationKind: 'canal' }), water, T + 2 * MIN)).toBe(1.2);
  });

  it('counts every reading for the stuck sensor rule (device health)', () => {
    const stuck: StationSeries = {
      metrics: {
        pm25: series([
          [0, 42],
          [30, 42, true],
          [60, 42, true],
          [90, 42, true],
        ]),
      },
      lastSeen: T + 90 * MIN,
    };
    expect(stationSignal(rule('stuck', { metric: 'pm25' }), stuck, T + 90 * MIN)).toBe(90);
    expect(stationSignal(rule('pm25_1h'), stuck, T + 90 * MIN)).toBeUndefined();
  });
});
