import { afterEach, describe, expect, it } from 'vitest';
import type { Spool } from '../../src/spool/spool';
import { collectingLogger, drain, openSpool, removeTempDirs, segmentFiles, tempDir } from './helpers';

const open: Spool[] = [];
afterEach(async () => {
  for (const s of open.splice(0)) await s.stop();
  removeTempDirs();
});

const line = 'f'.repeat(99); // 100 bytes on disk

describe('Spool: full (back-pressure)', () => {
  it('refuses appends at maxBytes, warns once per episode, and accepts again after commits free segments', async () => {
    const dir = tempDir();
    const logger = collectingLogger();
    const spool = await openSpool(dir, { maxBytes: 2000, segmentBytes: 500, logger });
    open.push(spool);

    let accepted = 0;
    while (spool.append(line)) accepted++;
    expect(accepted).toBe(20);
    expect(spool.append(line)).toBe(false);
    expect(spool.appendMany([line, line])).toBe(false);
    expect(spool.stats()).toMatchObject({ full: true, bytes: 2000, pendingRecords: 20, appended: 20 });
    expect(logger.count('warn', /full/)).toBe(1);

    // Reading alone frees nothing; committing a partial segment frees nothing either.
    const partial = spool.readBatch(3)!;
    spool.commit(partial.end);
    expect(spool.append(line)).toBe(false);

    // Committing through the first two segments deletes them.
    const b = spool.readBatch(7)!;
    spool.commit(b.end);
    expect(segmentFiles(dir)).not.toContain('00000001.seg');
    expect(segmentFiles(dir)).not.toContain('00000002.seg');
    expect(spool.stats()).toMatchObject({ full: false, bytes: 1000 });
    expect(logger.count('info', /space available again/)).toBe(1);
    expect(spool.append(line)).toBe(true);

    // A second episode warns again.
    while (spool.append(line)) accepted++;
    expect(logger.count('warn', /full/)).toBe(2);
    expect(drain(spool).length).toBe(20);
    expect(spool.append(line)).toBe(true);
  });

  it('appendMany is refused as a whole when full', async () => {
    const spool = await openSpool(tempDir(), { maxBytes: 300, segmentBytes: 1000 });
    open.push(spool);
    expect(spool.appendMany([line, line, line])).toBe(true);
    expect(spool.appendMany([line])).toBe(false);
    expect(spool.stats()).toMatchObject({ appended: 3, pendingRecords: 3 });
  });

  it('does not deadlock when maxBytes is smaller than a segment', async () => {
    const dir = tempDir();
    const spool = await openSpool(dir, { maxBytes: 1000, segmentBytes: 1_000_000 });
    open.push(spool);
    while (spool.append(line));
    expect(spool.stats().full).toBe(true);
    expect(segmentFiles(dir)).toEqual(['00000001.seg']);
    // Consuming everything rotates the write segment out so it can be deleted.
    expect(drain(spool).length).toBe(10);
    expect(spool.stats()).toMatchObject({ full: false, bytes: 0, pendingRecords: 0 });
    expect(segmentFiles(dir)).toEqual(['00000002.seg']);
    expect(spool.append(line)).toBe(true);
    expect(drain(spool)).toEqual([line]);
  });

  it('is still full after a restart and recovers the same way', async () => {
    const dir = tempDir();
    const first = await openSpool(dir, { maxBytes: 1000, segmentBytes: 500 });
    while (first.append(line));
    await first.stop();
    const logger = collectingLogger();
    const second = await openSpool(dir, { maxBytes: 1000, segmentBytes: 500, logger });
    open.push(second);
    expect(second.stats()).toMatchObject({ full: true, pendingRecords: 10 });
    expect(second.append(line)).toBe(false);
    expect(logger.count('warn', /full/)).toBe(1);
    drain(second);
    expect(second.append(line)).toBe(true);
  });
});
