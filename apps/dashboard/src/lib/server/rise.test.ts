import type { CnxApiClient, ReadingsPage } from '@cnx/api-client';
import { describe, expect, it } from 'vitest';
import { canalRises, levelSamples, RISE_WINDOW_MS } from './rise';

const NOW = Date.UTC(2026, 7, 20, 3, 0, 0);
const MIN = 60_000;

type Query = Parameters<CnxApiClient['stationReadingPages']>[1];

/** A fake client: readings every `stepMs` over the window, level = 0.5 + rate·hours, in pages of `per`. */
function fakeClient(opts: { rate: number; stepMs: number; minutes: number; per?: number; fail?: boolean }) {
  const calls: { id: string; query: Query }[] = [];
  const client = {
    async *stationReadingPages(id: string, query?: Query): AsyncGenerator<ReadingsPage, void, undefined> {
      calls.push({ id, query });
      if (opts.fail) throw new Error('api down');
      const data: ReadingsPage['data'] = [];
      for (let ts = NOW - opts.minutes * MIN; ts <= NOW; ts += opts.stepMs) {
        const level = 0.5 + (opts.rate * (ts - NOW)) / 3_600_000 + (ts % 3 === 0 ? 0.004 : -0.004);
        data.push({
          ts: new Date(ts).toISOString(),
          station: id,
          device: 'd',
          values: { water_level: level },
          corrections: [],
          qc: [],
        });
      }
      // a reading without a level (another metric only) is skipped
      data.push({
        ts: new Date(NOW).toISOString(),
        station: id,
        device: 'd',
        values: { do: 5 },
        corrections: [],
        qc: [],
      });
      const per = opts.per ?? 1000;
      for (let i = 0; i < data.length; i += per)
        yield { meta: {} as ReadingsPage['meta'], data: data.slice(i, i + per) };
    },
  };
  return { client, calls };
}

describe('canal rise from the API readings', () => {
  it('asks for the usable water level (the quality policy) of the last 30 minutes and follows every page', async () => {
    const { client, calls } = fakeClient({ rate: 0, stepMs: 10_000, minutes: 30, per: 50 });
    const samples = await levelSamples(client, 'cm-canal-sriphum', NOW);
    expect(samples).toHaveLength(181);
    expect(calls).toHaveLength(1);
    const q = calls[0]!.query!;
    expect(q.metrics).toBe('water_level');
    expect(q.qc).toBe('usable');
    expect((q.from as Date).getTime()).toBe(NOW - RISE_WINDOW_MS);
    expect((q.to as Date).getTime()).toBeGreaterThan(NOW);
  });

  it('a flash rise is rising fast, a flat canal is not, a young stack is "unknown", a failed read is null', async () => {
    const threshold = 0.3;
    const fast = await canalRises(
      fakeClient({ rate: 1, stepMs: 10_000, minutes: 30 }).client,
      [{ id: 'a', thresholdMPerHour: threshold }],
      NOW,
      false,
    );
    expect(fast.a?.trend).toBe('rising_fast');
    const flat = await canalRises(
      fakeClient({ rate: 0, stepMs: 10_000, minutes: 30 }).client,
      [{ id: 'a', thresholdMPerHour: threshold }],
      NOW,
      false,
    );
    expect(flat.a?.trend).toBe('steady');
    const young = await canalRises(
      fakeClient({ rate: 1, stepMs: 1000, minutes: 4 }).client,
      [{ id: 'a', thresholdMPerHour: threshold }],
      NOW,
      false,
    );
    expect(young.a).toMatchObject({ trend: 'unknown', reason: 'too_short_span' });
    const failed = await canalRises(
      fakeClient({ rate: 0, stepMs: 10_000, minutes: 30, fail: true }).client,
      [{ id: 'a', thresholdMPerHour: threshold }],
      NOW,
      false,
    );
    expect(failed.a).toBeNull();
  });

  it('reuses an estimate for a few seconds, then reads again', async () => {
    const { client, calls } = fakeClient({ rate: 0, stepMs: 60_000, minutes: 30 });
    const stations = [{ id: 'cached-station', thresholdMPerHour: 0.3 }];
    await canalRises(client, stations, NOW);
    await canalRises(client, stations, NOW + 5_000);
    expect(calls).toHaveLength(1);
    await canalRises(client, stations, NOW + 11_000);
    expect(calls).toHaveLength(2);
  });
});
