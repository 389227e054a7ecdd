import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DEFAULT_QC_CONFIG } from '@cnx/domain';
import { type ReadingsBatchPayload, topics } from '@cnx/protocol';
import { createLogger } from '@cnx/runtime';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { BatchAppender } from '../../src/ingest/batch-appender';
import { IngestPipeline } from '../../src/ingest/pipeline';
import { GatewayStats } from '../../src/metrics';
import { Spool } from '../../src/spool/spool';
import { chiangMaiAirDevices, chiangMaiPack } from '../helpers';

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
  const published: { topic: string; payload: string }[] = [];
  const appender = new BatchAppender(spool);
  const pipeline = new IngestPipeline({
    pack,
    spool: appender,
    stats: new GatewayStats(),
    qcConfig: DEFAULT_QC_CONFIG,
    publish: (topic, payload) => published.push({ topic, payload }),
    logger: createLogger('bus-test', 'silent'),
    maxPayloadBytes: 16 * 1024,
    busBatchMs,
  });
  const [device] = (await chiangMaiAirDevices()) as [string];
  const now = Date.now();
  let seq = 0;
  const ingest = (n: number) => {
    for (let i = 0; i < n; i++) {
      seq++;
      const body = JSON.stringify({ ts: now - 600_000 + seq * 1000, seq, values: { pm25: 20 + (seq % 5) } });
      expect(pipeline.handle(device, Buffer.from(body), now, 'test')).toBe('accepted');
    }
    expect(pipeline.flush()).toBe(true);
  };
  const bus = () =>
    published
      .filter((p) => p.topic === topics.readings(pack.city.id))
      .map((p) => (JSON.parse(p.payload) as ReadingsBatchPayload).readings.map((r) => r.seq));
  return { spool, pipeline, ingest, bus };
}

describe('bus batching', () => {
  it('publishes the readings of several spool flushes as one bus message, in order, after the wait', async () => {
    const h = await harness(25);
    vi.useFakeTimers();
    h.ingest(3);
    h.ingest(2);
    // Spooled (durable) already; not yet on the bus.
    expect(h.bus()).toEqual([]);
    vi.advanceTimersByTime(25);
    expect(h.bus()).toEqual([[1, 2, 3, 4, 5]]);
    h.ingest(1);
    vi.advanceTimersByTime(25);
    expect(h.bus()).toEqual([[1, 2, 3, 4, 5], [6]]);
    vi.useRealTimers();
    await h.spool.stop();
  });

  it('publishes at once when the batch grows past its size bound, and on publishBus() (shutdown)', async () => {
    const h = await harness(1000);
    vi.useFakeTimers();
    // ~230 characters per record: 2,000 records pass the 256 K-character bound.
    h.ingest(2000);
    expect(h.bus()).toHaveLength(1);
    expect(h.bus()[0]).toHaveLength(2000);
    h.ingest(2);
    expect(h.bus()).toHaveLength(1);
    h.pipeline.publishBus();
    expect(h.bus()[1]).toEqual([2001, 2002]);
    vi.useRealTimers();
    await h.spool.stop();
  });

  it('with busBatchMs 0 every spool flush is its own bus message', async () => {
    const h = await harness(0);
    h.ingest(2);
    h.ingest(1);
    expect(h.bus()).toEqual([[1, 2], [3]]);
    await h.spool.stop();
  });
});
