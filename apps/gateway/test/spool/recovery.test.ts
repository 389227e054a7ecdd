import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { collectingLogger, drain, openSpool, range, rec, segmentFiles, spoolAt, stopTracked, tempDir } from './helpers';

afterEach(stopTracked);

const ids = (records: string[]) => records.map((r) => JSON.parse(r).i as number);

/** A spool with `n` records over several 600-byte segments, the first `committed` of them committed. */
async function prepared(dir: string, n: number, committed: number): Promise<void> {
  const s = await openSpool(dir, { segmentBytes: 600 });
  for (const i of range(0, n)) s.append(rec(i));
  if (committed > 0) s.commit(s.readBatch(committed)!.end);
  await s.stop();
}

function checkpointPath(dir: string): string {
  return path.join(dir, 'checkpoint.json');
}

describe('Spool: torn writes', () => {
  it('truncates a partial last record (no newline) and keeps every complete one', async () => {
    const dir = tempDir();
    await prepared(dir, 50, 10);
    const segs = segmentFiles(dir);
    const last = path.join(dir, segs[segs.length - 1]!);
    const sizeBefore = fs.statSync(last).size;
    fs.appendFileSync(last, '{"i":50,"s":"เชียงใหม่ ครึ่ง'); // killed mid-write, even mid-character
    fs.appendFileSync(last, Buffer.from([0xe0, 0xb8]));

    const logger = collectingLogger();
    const spool = await spoolAt(dir, { segmentBytes: 600, logger });
    expect(fs.statSync(last).size).toBe(sizeBefore);
    expect(logger.count('warn', /torn/)).toBe(1);
    expect(spool.stats().pendingRecords).toBe(40);
    spool.append(rec(51));
    expect(ids(drain(spool))).toEqual([...range(10, 50), 51]);
  });

  it('truncates a last segment that holds only a partial record', async () => {
    const dir = tempDir();
    await prepared(dir, 10, 0);
    const next = `${String(Number(segmentFiles(dir).at(-1)!.slice(0, 8)) + 1).padStart(8, '0')}.seg`;
    fs.writeFileSync(path.join(dir, next), '{"i":10,"s":"tor');
    const spool = await spoolAt(dir, { segmentBytes: 600 });
    expect(fs.statSync(path.join(dir, next)).size).toBe(0);
    expect(ids(drain(spool))).toEqual(range(0, 10));
  });
});

describe('Spool: checkpoint recovery', () => {
  it('replays from the oldest segment when the checkpoint is missing', async () => {
    const dir = tempDir();
    await prepared(dir, 40, 5); // commit 5: segment 1 still holds records 0..4 consumed but not deletable
    fs.rmSync(checkpointPath(dir));
    const logger = collectingLogger();
    const spool = await spoolAt(dir, { segmentBytes: 600, logger });
    expect(logger.count('warn', /checkpoint missing/)).toBe(1);
    expect(ids(drain(spool))).toEqual(range(0, 40)); // duplicates of 0..4 are fine, loss is not
  });

  it.each([
    ['garbage', 'not json {'],
    ['empty', ''],
    ['wrong types', '{"segment":"1","offset":-5}'],
    ['null', 'null'],
  ])('replays from the oldest segment when the checkpoint is corrupt (%s)', async (_name, content) => {
    const dir = tempDir();
    await prepared(dir, 40, 25);
    const oldest = Math.min(...segmentFiles(dir).map((f) => Number(f.slice(0, 8))));
    fs.writeFileSync(checkpointPath(dir), content);
    const logger = collectingLogger();
    const spool = await spoolAt(dir, { segmentBytes: 600, logger });
    expect(logger.count('warn', /checkpoint corrupt/)).toBe(1);
    const got = ids(drain(spool));
    expect(got.at(-1)).toBe(39);
    expect(got).toEqual(range(got[0]!, 40)); // contiguous from the start of the oldest remaining segment
    expect(got[0]!).toBeLessThanOrEqual(25);
    // …and the checkpoint is rewritten to something valid
    const cp = JSON.parse(fs.readFileSync(checkpointPath(dir), 'utf8'));
    expect(cp.segment).toBeGreaterThanOrEqual(oldest);
  });

  it('skips to the next segment when the checkpoint segment was already deleted', async () => {
    const dir = tempDir();
    await prepared(dir, 40, 0);
    const segs = segmentFiles(dir);
    // Simulate a crash after a checkpoint at the end of segment 1 was written and segment 1 deleted…
    const firstSize = fs.statSync(path.join(dir, segs[0]!)).size;
    const inFirst = fs.readFileSync(path.join(dir, segs[0]!), 'utf8').split('\n').length - 1;
    fs.rmSync(path.join(dir, segs[0]!));
    fs.writeFileSync(checkpointPath(dir), JSON.stringify({ segment: 1, offset: firstSize }));
    const spool = await spoolAt(dir, { segmentBytes: 600 });
    expect(ids(drain(spool))).toEqual(range(inFirst, 40));
  });

  it('deletes segments older than the checkpoint left behind by a crash during commit', async () => {
    const dir = tempDir();
    await prepared(dir, 40, 0);
    const segs = segmentFiles(dir);
    const second = Number(segs[1]!.slice(0, 8));
    const inFirst = fs.readFileSync(path.join(dir, segs[0]!), 'utf8').split('\n').length - 1;
    fs.writeFileSync(checkpointPath(dir), JSON.stringify({ segment: second, offset: 0 }));
    const spool = await spoolAt(dir, { segmentBytes: 600 });
    expect(segmentFiles(dir)).not.toContain(segs[0]);
    expect(ids(drain(spool))).toEqual(range(inFirst, 40));
  });

  it('replays the segment when the checkpoint offset is not on a record boundary', async () => {
    const dir = tempDir();
    await prepared(dir, 40, 0);
    fs.writeFileSync(checkpointPath(dir), JSON.stringify({ segment: 1, offset: 7 }));
    const logger = collectingLogger();
    const spool = await spoolAt(dir, { segmentBytes: 600, logger });
    expect(logger.count('warn', /record boundary/)).toBe(1);
    expect(ids(drain(spool))).toEqual(range(0, 40));
  });

  it('clamps a checkpoint beyond the end of its segment', async () => {
    const dir = tempDir();
    await prepared(dir, 40, 0);
    const segs = segmentFiles(dir);
    const inFirst = fs.readFileSync(path.join(dir, segs[0]!), 'utf8').split('\n').length - 1;
    fs.writeFileSync(checkpointPath(dir), JSON.stringify({ segment: 1, offset: 1_000_000 }));
    const logger = collectingLogger();
    const spool = await spoolAt(dir, { segmentBytes: 600, logger });
    expect(logger.count('warn', /beyond end/)).toBe(1);
    expect(ids(drain(spool))).toEqual(range(inFirst, 40));
  });

  it('numbers new segments after a checkpoint that points past every file', async () => {
    const dir = tempDir();
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(checkpointPath(dir), JSON.stringify({ segment: 41, offset: 12 }));
    const spool = await spoolAt(dir);
    expect(segmentFiles(dir)).toEqual(['00000042.seg']);
    spool.append('after');
    expect(drain(spool)).toEqual(['after']);
  });

  it('ignores a leftover temp checkpoint and unrelated files', async () => {
    const dir = tempDir();
    await prepared(dir, 10, 4);
    fs.writeFileSync(path.join(dir, 'checkpoint.json.tmp'), '{"segment":99,"off');
    fs.writeFileSync(path.join(dir, 'notes.txt'), 'hello');
    const spool = await spoolAt(dir, { segmentBytes: 600 });
    expect(ids(drain(spool))).toEqual(range(4, 10));
    expect(fs.existsSync(path.join(dir, 'notes.txt'))).toBe(true);
  });
});
