import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Reading } from '@cnx/domain';
import type { NormalizedReadingPayload } from '@cnx/protocol';
import { createLogger } from '@cnx/runtime';
import { type ReadingStore, STORE_ERROR_CODES, StoreError } from '@cnx/store';
import { afterEach, describe, expect, it } from 'vitest';
import { createMetrics, GatewayStats } from '../src/metrics';
import { Spool } from '../src/spool/spool';
import { StoreWriter } from '../src/writer.service';
import { commitRecords } from './stages';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function reading(i: number): { record: string; reading: Reading } {
  const r: Reading = {
    city: 'chiang-mai',
    stationId: `st-${i % 3}`,
    deviceId: `dev-${i % 3}`,
    ts: 1_763_700_000_000 + i * 1000,
    seq: i,
    values: { pm25: 10 + i, humidity: 50 },
    corrections: [{ metric: 'pm25', value: 5 + i, method: 'epa-barkjohn-2021-extended@1' }],
    qc: i % 2 ? ['humidity'] : [],
  };
  const p: NormalizedReadingPayload = {
    v: 1,
    city: r.city,
    station: r.stationId,
    device: r.deviceId,
    kind: 'air',
    district: 'd',
    ts: r.ts,
    seq: i,
    values: r.values,
    corrections: r.corrections,
    qc: r.qc,
    receivedAt: r.ts,
  };
  return { record: JSON.stringify(p), reading: r };
}

/** A store that records what it was asked to write. */
function captureStore(): ReadingStore & { written: Reading[] } {
  const written: Reading[] = [];
  return {
    backend: 'sqlite',
    written,
    start: async () => undefined,
    stop: async () => undefined,
    write: async (rs: readonly Reading[]) => {
      written.push(...rs);
    },
  } as unknown as ReadingStore & { written: Reading[] };
}

async function drain(
  spool: Spool,
  store: ReturnType<typeof captureStore>,
  feed: (w: StoreWriter) => void,
  quarantineDir = tmpdir(),
) {
  const stats = new GatewayStats();
  const writer = new StoreWriter(
    spool,
    store,
    { batchSize: 7, flushIntervalMs: 5, maxBackoffMs: 100, quarantineDir },
    stats,
    createMetrics(stats, spool),
    createLogger('writer-test', 'silent'),
  );
  feed(writer);
  writer.start();
  expect(await writer.flush(10_000)).toBe(true);
  await writer.stop();
  return stats;
}

/** The usual path: every item committed to the spool, and handed to the writer in memory. */
const handOver =
  (spool: Spool, items: ReturnType<typeof reading>[]) =>
  (writer: StoreWriter): void =>
    commitRecords(spool, items, writer.onCommitted);

describe('StoreWriter', () => {
  it('writes the same readings whether it takes them from memory or parses them back from the spool', async () => {
    const items = Array.from({ length: 40 }, (_, i) => reading(i));
    // 1: the usual path, readings handed over in memory at flush time.
    const dirA = mkdtempSync(path.join(tmpdir(), 'cnx-writer-'));
    dirs.push(dirA);
    const spoolA = new Spool({ dir: dirA, fsync: 'never' });
    await spoolA.start();
    const hot = captureStore();
    await drain(spoolA, hot, handOver(spoolA, items));
    await spoolA.stop();

    // 2: after a restart nothing is in memory: the writer parses the spool lines.
    const dirB = mkdtempSync(path.join(tmpdir(), 'cnx-writer-'));
    dirs.push(dirB);
    const spoolB = new Spool({ dir: dirB, fsync: 'never' });
    await spoolB.start();
    expect(spoolB.appendMany(items.map((x) => x.record))).toBe(true);
    const cold = captureStore();
    await drain(spoolB, cold, () => undefined);
    await spoolB.stop();

    expect(hot.written).toEqual(items.map((x) => x.reading));
    // The in-memory path really was taken: the very objects handed over, not parsed copies.
    expect(hot.written.every((r, i) => r === items[i]?.reading)).toBe(true);
    expect(cold.written.some((r, i) => r === items[i]?.reading)).toBe(false);
    expect(cold.written).toEqual(hot.written);
  });

  it('splits a batch the store refuses until the refused readings are alone, and quarantines only those, with their spool text', async () => {
    const items = Array.from({ length: 21 }, (_, i) => reading(i));
    const dir = mkdtempSync(path.join(tmpdir(), 'cnx-writer-'));
    const qdir = mkdtempSync(path.join(tmpdir(), 'cnx-quarantine-'));
    dirs.push(dir, qdir);
    const spool = new Spool({ dir, fsync: 'never' });
    await spool.start();
    // Refuses any batch holding reading 9 or 12, as InfluxDB does a field-type conflict (HTTP 400).
    const store = captureStore();
    const write = store.write.bind(store);
    store.write = async (rs: readonly Reading[]) => {
      if (rs.some((r) => r.seq === 9 || r.seq === 12))
        throw new StoreError(STORE_ERROR_CODES.rejected, 'field type conflict', { retryable: false, status: 400 });
      await write(rs);
    };
    const stats = await drain(spool, store, handOver(spool, items), qdir);
    await spool.stop();
    const taken = items.map((_, i) => i).filter((i) => i !== 9 && i !== 12);
    expect(store.written.map((r) => r.seq)).toEqual(taken);
    expect(stats.storeRejected).toBe(2);
    const files = readdirSync(qdir);
    expect(files).toHaveLength(1);
    expect(files[0]).toMatch(/^quarantine-\d{4}-\d\d-\d\d\.ndjson$/);
    const lines = readFileSync(path.join(qdir, files[0]!), 'utf8').trimEnd().split('\n');
    expect(lines).toEqual([items[9]!.record, items[12]!.record]);
  });
});
