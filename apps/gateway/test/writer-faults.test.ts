import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Reading } from '@cnx/domain';
import type { NormalizedReadingPayload } from '@cnx/protocol';
import { type ReadingStore, STORE_ERROR_CODES, StoreError } from '@cnx/store';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createMetrics, GatewayStats } from '../src/metrics';
import { Spool } from '../src/spool/spool';
import { type StoreLifecycle, StoreWriter } from '../src/writer.service';
import { waitFor } from './helpers';
import { commitRecords } from './stages';

/**
 * The writer under faults that are not the data's: a store not started or unreachable is retried,
 * never quarantined; the gateway's own disk failing (checkpoint, quarantine file) is logged and
 * backed off, never an unhandled rejection; nothing committed is lost, nothing skipped.
 */

const dirs: string[] = [];
const tempDir = (prefix: string) => {
  const d = mkdtempSync(path.join(tmpdir(), prefix));
  dirs.push(d);
  return d;
};
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

// Any unhandled rejection in these tests is a failure (vitest also reports them, this names them).
const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown) => unhandled.push(reason);
beforeAll(() => process.on('unhandledRejection', onUnhandled));
afterAll(() => {
  process.off('unhandledRejection', onUnhandled);
  expect(unhandled).toEqual([]);
});

function item(i: number): { record: string; reading: Reading } {
  const r: Reading = {
    city: 'chiang-mai',
    stationId: 'st-1',
    deviceId: 'dev-1',
    ts: 1_763_700_000_000 + i * 1000,
    seq: i,
    values: { pm25: 10 + i },
    corrections: [],
    qc: [],
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
    corrections: [],
    qc: [],
    receivedAt: r.ts,
  };
  return { record: JSON.stringify(p), reading: r };
}

/** A store whose write() runs `fail` first (throw to refuse); records what it took. */
function store(fail: (rs: readonly Reading[]) => void = () => undefined): ReadingStore & { written: number[] } {
  const written: number[] = [];
  return {
    backend: 'sqlite',
    written,
    start: async () => undefined,
    stop: async () => undefined,
    write: async (rs: readonly Reading[]) => {
      fail(rs);
      written.push(...rs.map((r) => r.seq as number));
    },
  } as unknown as ReadingStore & { written: number[] };
}

/** Log lines as objects (pino to an in-memory stream). */
function captureLogger() {
  const lines: Record<string, unknown>[] = [];
  const logger = pino({ level: 'info' }, { write: (s: string) => void lines.push(JSON.parse(s)) });
  return { logger, lines, has: (msg: RegExp) => lines.some((l) => msg.test(String(l.msg))) };
}

async function rig(
  s: ReadingStore,
  n: number,
  opts: { quarantineDir?: string; lifecycle?: StoreLifecycle; checkpointIntervalMs?: number } = {},
) {
  const dir = tempDir('cnx-writer-');
  const log = captureLogger();
  const spool = new Spool({
    dir,
    fsync: 'never',
    checkpointIntervalMs: opts.checkpointIntervalMs ?? 0,
    logger: log.logger,
  });
  await spool.start();
  const stats = new GatewayStats();
  const writer = new StoreWriter(
    spool,
    s,
    { batchSize: 7, flushIntervalMs: 5, maxBackoffMs: 50, quarantineDir: opts.quarantineDir ?? tempDir('cnx-q-') },
    stats,
    createMetrics(stats, spool),
    log.logger,
    opts.lifecycle,
  );
  const items = Array.from({ length: n }, (_, i) => item(i));
  commitRecords(spool, items, writer.onCommitted);
  return { dir, spool, writer, stats, items, log };
}

const all = (n: number) => Array.from({ length: n }, (_, i) => i);

describe('StoreWriter: the store not started or not reachable is retried, never quarantined', () => {
  it('writes nothing until the store has started, then everything', async () => {
    let started = false;
    let asked = 0;
    const lost: unknown[] = [];
    const lifecycle: StoreLifecycle = {
      get started() {
        asked++;
        return started;
      },
      lost: (e) => lost.push(e),
    };
    const s = store();
    const { spool, writer } = await rig(s, 20, { lifecycle });
    writer.start();
    await waitFor(() => asked >= 5, 10_000, 'the writer to look at the store several times');
    expect(s.written).toEqual([]);
    expect(spool.stats().pendingRecords).toBe(20);
    expect(writer.status()).toMatchObject({ waitingForStore: true, backingOff: false });
    started = true;
    expect(await writer.flush(10_000)).toBe(true);
    await writer.stop();
    expect(s.written).toEqual(all(20));
    expect(writer.status().waitingForStore).toBe(false);
    expect(lost).toEqual([]);
    await spool.stop();
  });

  const transient = [
    STORE_ERROR_CODES.notStarted,
    STORE_ERROR_CODES.network,
    STORE_ERROR_CODES.timeout,
    STORE_ERROR_CODES.server,
    STORE_ERROR_CODES.rateLimited,
    STORE_ERROR_CODES.unauthorized,
    STORE_ERROR_CODES.databaseNotFound,
    STORE_ERROR_CODES.invalidConfig,
    STORE_ERROR_CODES.queryFailed,
    STORE_ERROR_CODES.sqlite,
  ];
  it.each(transient)('%s (retryable or not) is retried with backoff and never quarantined', async (code) => {
    let failures = 3;
    const s = store(() => {
      if (failures-- > 0) throw new StoreError(code, `store says ${code}`, { retryable: false });
    });
    const lost: unknown[] = [];
    const qdir = tempDir('cnx-q-');
    const { spool, writer, stats, log } = await rig(s, 10, {
      quarantineDir: qdir,
      lifecycle: { started: true, lost: (e) => lost.push(e) },
    });
    writer.start();
    expect(await writer.flush(10_000)).toBe(true);
    await writer.stop();
    expect(s.written).toEqual(all(10));
    expect(stats.storeRejected).toBe(0);
    expect(readdirSync(qdir)).toEqual([]);
    expect(log.has(/store write failed, will retry/)).toBe(true);
    // The lifecycle hears of every failed write (it restarts the store for NOT_STARTED).
    expect(lost.map((e) => (e as StoreError).code)).toEqual([code, code, code]);
    await spool.stop();
  });

  it('an error that is not a StoreError is retried too', async () => {
    let failures = 2;
    const s = store(() => {
      if (failures-- > 0) throw new TypeError('something unexpected');
    });
    const { spool, writer, stats } = await rig(s, 10);
    writer.start();
    expect(await writer.flush(10_000)).toBe(true);
    await writer.stop();
    expect(s.written).toEqual(all(10));
    expect(stats.storeRejected).toBe(0);
    await spool.stop();
  });
});

describe('StoreWriter: a filesystem error is logged and backed off; nothing lost, nothing skipped', () => {
  it('quarantine file not writable: backs off, keeps the reading in the spool, quarantines it once the disk is back', async () => {
    const s = store((rs) => {
      if (rs.some((r) => r.seq === 3))
        throw new StoreError(STORE_ERROR_CODES.rejected, 'field type conflict', { retryable: false, status: 400 });
    });
    // The quarantine "directory" is a file: opening a file in it fails (ENOTDIR), as root too.
    const base = tempDir('cnx-q-');
    const qdir = path.join(base, 'quarantine');
    writeFileSync(qdir, 'not a directory');
    const { spool, writer, stats, log } = await rig(s, 12, { quarantineDir: qdir });
    writer.start();
    await waitFor(() => writer.status().filesystemError, 10_000, 'the writer to report a filesystem error');
    expect(writer.status()).toMatchObject({ backingOff: true, filesystemError: true });
    expect(log.has(/filesystem error/)).toBe(true);
    // Everything before the refused reading is stored and committed; it and what follows wait.
    expect(s.written).toEqual([0, 1, 2]);
    expect(spool.stats().pendingRecords).toBe(9);

    rmSync(qdir);
    mkdirSync(qdir);
    expect(await writer.flush(10_000)).toBe(true);
    await writer.stop();
    expect(s.written).toEqual(all(12).filter((i) => i !== 3));
    expect(stats.storeRejected).toBe(1);
    const files = readdirSync(qdir);
    expect(files).toHaveLength(1);
    // Exactly the refused reading, once, whole: failed attempts left nothing behind.
    expect(readFileSync(path.join(qdir, files[0]!), 'utf8')).toBe(`${item(3).record}\n`);
    expect(writer.status()).toMatchObject({ backingOff: false, filesystemError: false });
    await spool.stop();
  });

  it('checkpoint not writable at commit: backs off without advancing, then writes the batch again and commits', async () => {
    const s = store();
    const { dir, spool, writer, log } = await rig(s, 20);
    // A directory where the checkpoint's temp file goes: writing the checkpoint fails (EISDIR).
    const obstacle = path.join(dir, 'checkpoint.json.tmp');
    mkdirSync(obstacle);
    const before = readFileSync(path.join(dir, 'checkpoint.json'), 'utf8');
    writer.start();
    await waitFor(() => writer.status().filesystemError, 10_000, 'the writer to report a filesystem error');
    expect(log.has(/filesystem error/)).toBe(true);
    expect(spool.stats()).toMatchObject({ pendingRecords: 20, committed: 0 });
    expect(readFileSync(path.join(dir, 'checkpoint.json'), 'utf8')).toBe(before);

    rmSync(obstacle, { recursive: true });
    expect(await writer.flush(10_000)).toBe(true);
    await writer.stop();
    // The first batch was stored before its commit failed, so it may be stored again (idempotent):
    // every reading at least once, in order, none skipped.
    expect([...new Set(s.written)]).toEqual(all(20));
    expect(spool.stats()).toMatchObject({ pendingRecords: 0, committed: 20 });
    await spool.stop();
    const reopened = new Spool({ dir, fsync: 'never' });
    await reopened.start();
    expect(reopened.stats().pendingRecords).toBe(0);
    await reopened.stop();
  });

  it('deferred checkpoint not writable: logged and tried again, never thrown from its timer', async () => {
    const s = store();
    const { dir, spool, writer, log } = await rig(s, 20, { checkpointIntervalMs: 20 });
    const obstacle = path.join(dir, 'checkpoint.json.tmp');
    mkdirSync(obstacle);
    writer.start();
    expect(await writer.flush(10_000)).toBe(true);
    await waitFor(() => log.has(/could not write the checkpoint/), 10_000, 'the spool to log the failed write');
    rmSync(obstacle, { recursive: true });
    const checkpointEnd = () => JSON.parse(readFileSync(path.join(dir, 'checkpoint.json'), 'utf8')).offset as number;
    await waitFor(() => checkpointEnd() > 0, 10_000, 'the checkpoint file to be written once the disk is back');
    await writer.stop();
    await spool.stop();
    expect(s.written).toEqual(all(20));
  });
});
