import { describe, expect, it } from 'vitest';
import { isLive, LIVE_MAX_AGE_MS } from '../freshness';
import { QC_FLAG_LIST } from './flags';
import { excludingFlags, QC_ANNOTATING_FLAGS, QC_EXCLUDING_FLAGS, QC_POLICY, QC_USES, usableFor } from './policy';

describe('quality policy', () => {
  it('sorts every flag into excluding or annotating, once', () => {
    expect([...QC_EXCLUDING_FLAGS, ...QC_ANNOTATING_FLAGS].sort()).toEqual([...QC_FLAG_LIST].sort());
  });

  it('keeps humidity-flagged readings in every figure (the EPA correction accounts for humidity)', () => {
    for (const use of QC_USES) expect(usableFor(use, ['humidity']), use).toBe(true);
  });

  it('keeps range, spike, stuck, seq_duplicate, future and stale out of AQI, now, alerts, series, latest and map', () => {
    for (const use of ['official', 'now', 'alert', 'series', 'latest', 'map'] as const)
      for (const f of ['range', 'spike', 'stuck', 'seq_duplicate', 'future', 'stale'])
        expect(usableFor(use, [f]), `${use} ${f}`).toBe(false);
  });

  it('keeps every reading for exports and device health', () => {
    for (const f of QC_FLAG_LIST) {
      expect(usableFor('export', [f])).toBe(true);
      expect(usableFor('device', [f])).toBe(true);
    }
    expect(QC_POLICY.export.exclude).toEqual([]);
  });

  it('asked about one metric, leaves out only the flags about that metric or the whole reading', () => {
    // A canal reading whose DO probe is frozen: the level counts, the DO does not.
    const stuckDo = { flags: ['stuck'], qcMetrics: ['do'] };
    expect(usableFor('alert', stuckDo.flags, { metric: 'water_level', qcMetrics: stuckDo.qcMetrics })).toBe(true);
    expect(usableFor('alert', stuckDo.flags, { metric: 'do', qcMetrics: stuckDo.qcMetrics })).toBe(false);
    // Whole-reading flags count for every metric; without qcMetrics any metric flag counts.
    expect(usableFor('now', ['stale'], { metric: 'water_level', qcMetrics: [] })).toBe(false);
    expect(usableFor('now', ['spike'], { metric: 'pm25', qcMetrics: undefined })).toBe(false);
    expect(usableFor('now', ['spike'], { metric: 'pm25', qcMetrics: ['temperature'] })).toBe(true);
    // Asked about the whole reading: any metric flag counts.
    expect(usableFor('now', ['spike'])).toBe(false);
  });

  it('names the flags that exclude a reading', () => {
    expect(excludingFlags('now', ['spike', 'humidity'])).toEqual(['spike']);
    expect(excludingFlags('now', ['humidity'])).toEqual([]);
    expect(usableFor('now', [])).toBe(true);
  });
});

describe('freshness', () => {
  const now = Date.UTC(2026, 11, 7, 4, 0);
  it('is live within the window by the reading clock', () => {
    expect(isLive(now, now)).toBe(true);
    expect(isLive(now - LIVE_MAX_AGE_MS, now)).toBe(true);
    expect(isLive(now - LIVE_MAX_AGE_MS - 1, now)).toBe(false);
    expect(isLive(now + 60_000, now)).toBe(true);
    expect(isLive(now + 3 * 60_000, now)).toBe(false);
    // The README's haze example: readings dated in March are never live in December.
    expect(isLive(Date.UTC(2026, 2, 10, 4, 14), now)).toBe(false);
  });
});
