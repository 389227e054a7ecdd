import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type ReadingsBatchPayload, topics } from '@cnx/protocol';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Spool } from '../../src/spool/spool';
import { chiangMaiAirDevices, chiangMaiPack } from '../helpers';
import { ingestStages } from '../stages';

const dirs: string[] = [];
afterEach(() => {
  vi.useRealTimers();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function harness(busBatchMs: number) {
  const dir = mkdtempSync(path.join(tmpdir(), 'cnx-bus-'));
  dirs.push(dir);
  const spool = new Spool({ dir, fsync: 'never' });
  await spool.start();
  const pack = await chiangMaiPack();
  const stages = ingestStages({ pack, log: spool, busBatchMs });
  const [device] = (await chiangMaiAirDevices()) as [string];
  const now = Date.now();
  let seq = 0;
  const ingest = (n: number) => {
    for (let i = 0; i < n; i++) {
      seq++;
      const body = JSON.stringify({ ts: now - 600_000 + seq * 1000, seq, values: { pm25: 20 + (seq % 5) } });
      expect(stages.message(device, body, now)).toBe('accepted');
    }
  };
  const bus = () =>
    stages.published
      .filter((p) => p.topic === topics.readings(pack.city.id))
      .map((p) => (JSON.parse(p.payload) as ReadingsBatchPayload).readings.map((r) => r.seq));
  return { spool, republisher: stages.republisher, ingest, bus };
}

describe('the republisher: committed readings on the bus in batches', () => {
  it('publishes the readings of several commits as one bus message, in order, after the wait', async () => {
    const h = await harness(25);
    vi.useFakeTimers();
    h.ingest(3);
    h.ingest(2);
    // Committed (durable) already; not yet on the bus.
    expect(h.bus()).toEqual([]);
    vi.advanceTimersByTime(25);
    expect(h.bus()).toEqual([[1, 2, 3, 4, 5]]);
    h.ingest(1);
    vi.advanceTimersByTime(25);
    expect(h.bus()).toEqual([[1, 2, 3, 4, 5], [6]]);
    vi.useRealTimers();
    await h.spool.stop();
  });

  it('publishes at once when the batch grows past its size bound, and on flush() (shutdown)', async () => {
    const h = await harness(1000);
    vi.useFakeTimers();
    // ~230 characters per record: ~1,100 records pass the 256 K-character bound, with no timer.
    h.ingest(2000);
    const early = h.bus();
    expect(early).toHaveLength(1);
    expect(early[0]!.length).toBeGreaterThan(1000);
    expect(early[0]).toEqual(Array.from({ length: early[0]!.length }, (_, i) => i + 1));
    h.republisher.flush();
    expect(h.bus().flat()).toEqual(Array.from({ length: 2000 }, (_, i) => i + 1));
    vi.useRealTimers();
    await h.spool.stop();
  });

  it('with busBatchMs 0 every commit is its own bus message', async () => {
    const h = await harness(0);
    h.ingest(2);
    h.ingest(1);
    expect(h.bus()).toEqual([[1], [2], [3]]);
    await h.spool.stop();
  });
});
