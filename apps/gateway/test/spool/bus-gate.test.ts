/**
 * The spool's bus gate: the checkpoint on disk never passes a record the bus is not done with, so
 * the readings a crash kept off the bus (committed to the spool and even to the store, but still in
 * the republisher's batch or in flight) are found after the checkpoint at the next start and handed
 * out again by replayReader().
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Spool } from '../../src/spool/spool';
import { waitFor } from '../helpers';
import {
  collectingLogger,
  drain,
  forgetTracked,
  range,
  rec,
  segmentFiles,
  spoolAt,
  stopTracked,
  tempDir,
} from './helpers';

afterEach(stopTracked);

const checkpointFile = (dir: string) => JSON.parse(fs.readFileSync(path.join(dir, 'checkpoint.json'), 'utf8'));

function replayAll(spool: Spool): string[] {
  const reader = spool.replayReader();
  const out: string[] = [];
  for (let b = reader.read(7, Number.POSITIVE_INFINITY); b; b = reader.read(7, Number.POSITIVE_INFINITY))
    out.push(...b.records);
  reader.close();
  return out;
}

describe('Spool bus gate', () => {
  it('the checkpoint waits for the bus; a "crash" before it replays exactly the records the bus was not done with', async () => {
    const dir = tempDir();
    const spool = await spoolAt(dir, { busGate: true });
    spool.appendMany(range(0, 10).map((i) => rec(i)));
    expect(drain(spool, 2)).toHaveLength(10); // the store confirmed all ten, two at a time
    expect(spool.stats().pendingRecords).toBe(0);
    expect(checkpointFile(dir)).toEqual({ segment: 1, offset: 0 }); // the bus has not confirmed any
    // The bus is done with 0…6: the checkpoint moves to the last store batch end within that (6).
    spool.busPublished(7);
    const at6 = checkpointFile(dir);
    expect(at6.offset).toBe(range(0, 6).reduce((n, i) => n + Buffer.byteLength(rec(i)) + 1, 0));
    // Crash: no stop(), a new spool on the same directory.
    forgetTracked();
    const again = await spoolAt(dir, { busGate: true });
    expect(replayAll(again)).toEqual(range(6, 10).map((i) => rec(i)));
    // The store gets them again too (idempotent writes), and nothing else.
    expect(drain(again, 1000, false)).toEqual(range(6, 10).map((i) => rec(i)));
  });

  it('bus acknowledgements ahead of the store do not move the checkpoint past the store', async () => {
    const dir = tempDir();
    const spool = await spoolAt(dir, { busGate: true });
    spool.appendMany(range(0, 10).map((i) => rec(i)));
    spool.busPublished(10);
    expect(checkpointFile(dir)).toEqual({ segment: 1, offset: 0 });
    const b = spool.readBatch(4);
    spool.commit(b!.end);
    expect(checkpointFile(dir).offset).toBe(b!.end.offset);
    const rest = spool.readBatch(100);
    spool.commit(rest!.end);
    expect(checkpointFile(dir).offset).toBe(rest!.end.offset);
  });

  it('segments are deleted only behind the bus as well, and the store reader is unaffected', async () => {
    const dir = tempDir();
    const spool = await spoolAt(dir, { busGate: true, segmentBytes: 512 });
    for (const i of range(0, 60)) spool.append(rec(i, 20));
    const segments = segmentFiles(dir).length;
    expect(segments).toBeGreaterThan(3);
    expect(drain(spool, 5)).toHaveLength(60);
    expect(segmentFiles(dir)).toHaveLength(segments); // nothing deleted: the bus has none of them
    spool.rewind(); // a failed store write goes back to what the store confirmed, not to the checkpoint
    expect(spool.readBatch(10)).toBeUndefined();
    spool.busPublished(60);
    expect(segmentFiles(dir)).toHaveLength(1);
    spool.appendMany([rec(60)]);
    expect(drain(spool)).toEqual([rec(60)]);
  });

  it('the bus holds at most half the spool: past that the checkpoint follows the store, so a spool full while the bus is down empties', async () => {
    const dir = tempDir();
    const log = collectingLogger();
    const spool = await spoolAt(dir, { busGate: true, segmentBytes: 512, maxBytes: 4096, logger: log });
    let n = 0;
    while (spool.append(rec(n, 20))) n++; // full: the bus (intake paused) has confirmed nothing
    expect(spool.full).toBe(true);
    expect(drain(spool, 5)).toHaveLength(n); // the store comes back
    expect(spool.full).toBe(false);
    expect(log.count('warn', /bus is behind/)).toBe(1);
    // Below half the spool the gate holds again.
    spool.busPublished(n);
    spool.append(rec(n));
    expect(drain(spool)).toEqual([rec(n)]);
    const cp = checkpointFile(dir);
    forgetTracked();
    const again = await spoolAt(dir, { busGate: true });
    expect(replayAll(again)).toEqual([rec(n)]);
    expect(cp).toEqual(checkpointFile(dir));
  });

  it('the bus acknowledgement meeting a disk that cannot take the checkpoint: reported in stats, tried again on its own, cleared once written', async () => {
    // The store confirms first and the bus last (the order a slow broker acknowledgement gives), so
    // the failing checkpoint write happens in busPublished(), where nobody backs off for it.
    const dir = tempDir();
    const log = collectingLogger();
    const spool = await spoolAt(dir, { busGate: true, logger: log });
    spool.appendMany(range(0, 5).map((i) => rec(i)));
    const b = spool.readBatch(100);
    spool.commit(b!.end);
    const obstacle = path.join(dir, 'checkpoint.json.tmp');
    fs.mkdirSync(obstacle);
    spool.busPublished(5);
    expect(log.count('error', /could not write the checkpoint/)).toBe(1);
    expect(spool.stats().checkpointError).toMatch(/EISDIR/);
    expect(checkpointFile(dir)).toEqual({ segment: 1, offset: 0 });
    fs.rmSync(obstacle, { recursive: true });
    // No more traffic: the spool retries by itself.
    await waitFor(() => checkpointFile(dir).offset === b!.end.offset, 30_000, 'the checkpoint written again');
    expect(spool.stats().checkpointError).toBeUndefined();
  });

  it('without the gate a commit moves the checkpoint at once, as before', async () => {
    const dir = tempDir();
    const spool = await spoolAt(dir);
    spool.appendMany(range(0, 3).map((i) => rec(i)));
    drain(spool);
    expect(checkpointFile(dir).offset).toBeGreaterThan(0);
    forgetTracked();
    const again = await spoolAt(dir);
    expect(replayAll(again)).toEqual([]);
  });
});
