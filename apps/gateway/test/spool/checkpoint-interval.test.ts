import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Spool } from '../../src/spool/spool';
import { drain, openSpool, range, rec, removeTempDirs, segmentFiles, tempDir } from './helpers';

const open: Spool[] = [];
afterEach(async () => {
  for (const s of open.splice(0)) await s.stop();
  removeTempDirs();
});

const checkpointOf = (dir: string) => JSON.parse(fs.readFileSync(path.join(dir, 'checkpoint.json'), 'utf8'));

describe('Spool: checkpoint written at most every checkpointIntervalMs', () => {
  it('commits in memory at once; the file follows after the interval, and at stop()', async () => {
    const dir = tempDir();
    const spool = await openSpool(dir, { checkpointIntervalMs: 200 });
    open.push(spool);
    const initial = checkpointOf(dir);
    spool.appendMany(range(0, 10).map((i) => rec(i)));
    expect(drain(spool, 4)).toHaveLength(10);
    // Committed for the spool (nothing pending), not yet on disk.
    expect(spool.stats().pendingRecords).toBe(0);
    expect(checkpointOf(dir)).toEqual(initial);
    const deadline = Date.now() + 5_000;
    while (checkpointOf(dir).offset === initial.offset && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 20));
    const written = checkpointOf(dir);
    expect(written.offset).toBeGreaterThan(initial.offset);

    spool.appendMany([rec(10)]);
    expect(drain(spool)).toEqual([rec(10)]);
    expect(checkpointOf(dir)).toEqual(written);
    await spool.stop();
    open.pop();
    expect(checkpointOf(dir).offset).toBeGreaterThan(written.offset);
  });

  it('after a crash with the file behind, committed records come again (never lost), and nothing else', async () => {
    const dir = tempDir();
    const a = await openSpool(dir, { checkpointIntervalMs: 60_000 });
    a.appendMany(range(0, 6).map((i) => rec(i)));
    expect(drain(a, 3)).toHaveLength(6); // committed in memory only
    a.appendMany(range(6, 9).map((i) => rec(i))); // appended, not committed
    // "Crash": no stop(). A second instance opens the same directory.
    const b = await openSpool(dir, { checkpointIntervalMs: 60_000 });
    open.push(b);
    expect(drain(b, 100)).toEqual(range(0, 9).map((i) => rec(i)));
  });

  it('writes the checkpoint at once when the commit frees segments (they are deleted behind it)', async () => {
    const dir = tempDir();
    const spool = await openSpool(dir, { checkpointIntervalMs: 60_000, segmentBytes: 1024 });
    open.push(spool);
    spool.appendMany(range(0, 40).map((i) => rec(i, 100))); // > 1 KiB: the next append starts segment 2
    spool.appendMany([rec(40)]);
    expect(segmentFiles(dir).length).toBeGreaterThan(1);
    expect(drain(spool, 1000)).toHaveLength(41);
    expect(segmentFiles(dir)).toHaveLength(1);
    // The file names the surviving segment: a restart cannot point into a deleted one.
    const cp = checkpointOf(dir);
    expect(segmentFiles(dir)[0]).toBe(`${String(cp.segment).padStart(8, '0')}.seg`);
  });
});
