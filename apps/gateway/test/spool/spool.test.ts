import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Spool, type SpoolPosition } from '../../src/spool/spool';
import { collectingLogger, drain, openSpool, range, rec, segmentFiles, spoolAt, stopTracked, tempDir } from './helpers';

afterEach(stopTracked);

function readCheckpoint(dir: string): { segment: number; offset: number } {
  return JSON.parse(fs.readFileSync(path.join(dir, 'checkpoint.json'), 'utf8'));
}

describe('Spool: append / read / commit', () => {
  it('starts empty and reports caught up', async () => {
    const dir = tempDir();
    const spool = await spoolAt(dir);
    expect(spool.readBatch(10)).toBeUndefined();
    expect(spool.stats()).toEqual({ bytes: 0, segments: 1, pendingRecords: 0, full: false, appended: 0, committed: 0 });
    expect(segmentFiles(dir)).toEqual(['00000001.seg']);
    expect(readCheckpoint(dir)).toEqual({ segment: 1, offset: 0 });
  });

  it('round-trips Thai text, empty and long records in order', async () => {
    const dir = tempDir();
    const spool = await spoolAt(dir);
    const records = [
      rec(0),
      'สวัสดีครับ เชียงใหม่ 🌫️ ฝุ่นควัน',
      '',
      'x'.repeat(3 * 1024 * 1024 + 7), // longer than the 1 MiB read buffer
      'ก'.repeat(500_000), // 1.5 MB of 3-byte characters
      rec(5),
    ];
    for (const r of records) expect(spool.append(r)).toBe(true);
    expect(spool.stats().pendingRecords).toBe(records.length);
    expect(drain(spool, 100)).toEqual(records);
    expect(spool.stats()).toMatchObject({ pendingRecords: 0, appended: 6, committed: 6 });
  });

  it('decodes multi-byte characters split across read chunk boundaries', async () => {
    const dir = tempDir();
    const spool = await spoolAt(dir);
    // Byte 1 MiB (the first chunk boundary) falls inside a 3-byte Thai character of the second record.
    const first = 'a'.repeat(1000); // 1001 bytes with the newline
    expect((1024 * 1024 - 1001) % 3).not.toBe(0);
    const records = [first, 'ก'.repeat(400_000), 'ข'.repeat(10)];
    // Plus many short Thai records so that later chunk boundaries land at all byte phases.
    for (let i = 0; i < 50_000; i++) records.push(`${i}:${'ชม'.repeat(1 + (i % 17))}`);
    expect(spool.appendMany(records)).toBe(true);
    const got = drain(spool, 7919);
    expect(got.length).toBe(records.length);
    expect(got).toEqual(records);
  });

  it('respects maxRecords and maxBytes per batch', async () => {
    const spool = await spoolAt(tempDir());
    const records = range(0, 25).map((i) => rec(i));
    for (const r of records) spool.append(r);
    const sizes: number[] = [];
    for (let b = spool.readBatch(10); b; b = spool.readBatch(10)) {
      sizes.push(b.records.length);
      spool.commit(b.end);
    }
    expect(sizes).toEqual([10, 10, 5]);

    const big = 'y'.repeat(1000);
    spool.appendMany([big, big, big, 'z']);
    const b1 = spool.readBatch(100, 2500)!;
    expect(b1.records).toEqual([big, big]); // a third would exceed 2500 bytes
    spool.commit(b1.end);
    const b2 = spool.readBatch(100, 10)!;
    expect(b2.records).toEqual([big]); // a single oversized record is still delivered
    spool.commit(b2.end);
    expect(spool.readBatch(100, 10)!.records).toEqual(['z']);
  });

  it('rewind re-delivers the uncommitted records', async () => {
    const spool = await spoolAt(tempDir(), { segmentBytes: 256 });
    const records = range(0, 40).map((i) => rec(i));
    for (const r of records) spool.append(r);
    const a = spool.readBatch(10)!;
    spool.commit(a.end);
    const b = spool.readBatch(15)!;
    const c = spool.readBatch(5)!;
    expect([...b.records, ...c.records]).toEqual(records.slice(10, 30));
    spool.rewind();
    const again = spool.readBatch(20)!;
    expect(again.records).toEqual(records.slice(10, 30));
    expect(again.end).toMatchObject({ segment: c.end.segment, offset: c.end.offset });
    spool.commit(again.end);
    expect(drain(spool)).toEqual(records.slice(30));
    expect(spool.stats()).toMatchObject({ pendingRecords: 0, committed: 40 });
  });

  it('commit of an older position is a no-op; beyond what was read is an error', async () => {
    const spool = await spoolAt(tempDir());
    for (const i of range(0, 10)) spool.append(rec(i));
    const a = spool.readBatch(3)!;
    const b = spool.readBatch(3)!;
    spool.commit(b.end);
    spool.commit(a.end); // stale: ignored
    expect(spool.stats()).toMatchObject({ committed: 6, pendingRecords: 4 });
    expect(() => spool.commit({ ...b.end, index: b.end.index + 5, offset: b.end.offset + 100 })).toThrow(RangeError);
    expect(spool.readBatch(100)!.records).toEqual(range(6, 10).map((i) => rec(i)));
  });

  it('committing an earlier batch after rewind moves the read cursor forward', async () => {
    const spool = await spoolAt(tempDir());
    for (const i of range(0, 10)) spool.append(rec(i));
    const a = spool.readBatch(4)!;
    spool.rewind();
    spool.commit(a.end);
    expect(spool.readBatch(100)!.records).toEqual(range(4, 10).map((i) => rec(i)));
  });

  it('sees records appended to the segment it is reading, each exactly once', async () => {
    const spool = await spoolAt(tempDir(), { segmentBytes: 4096 });
    const got: string[] = [];
    const appended: string[] = [];
    let last: SpoolPosition | undefined;
    let n = 0;
    for (let round = 0; round < 200; round++) {
      for (let k = 0; k < round % 7; k++) {
        const r = rec(n++, round);
        appended.push(r);
        spool.append(r);
      }
      const b = spool.readBatch(3);
      if (b) {
        got.push(...b.records);
        last = b.end;
        if (round % 3 === 0) spool.commit(b.end);
      }
    }
    if (last) spool.commit(last);
    got.push(...drain(spool));
    expect(got).toEqual(appended);
    expect(spool.stats().pendingRecords).toBe(0);
  });

  it('deletes consumed segments on commit and frees their bytes', async () => {
    const dir = tempDir();
    const spool = await spoolAt(dir, { segmentBytes: 1000 });
    const line = 'r'.repeat(99); // 100 bytes with the newline: exactly 10 records per segment
    for (let i = 0; i < 35; i++) spool.append(line);
    expect(segmentFiles(dir)).toEqual(['00000001.seg', '00000002.seg', '00000003.seg', '00000004.seg']);
    expect(spool.stats()).toMatchObject({ bytes: 3500, segments: 4 });

    const a = spool.readBatch(10)!; // exactly the first segment
    expect(a.end).toMatchObject({ segment: 1, offset: 1000 });
    spool.commit(a.end);
    expect(segmentFiles(dir)).toEqual(['00000002.seg', '00000003.seg', '00000004.seg']);
    expect(readCheckpoint(dir)).toEqual({ segment: 2, offset: 0 });
    expect(spool.stats()).toMatchObject({ bytes: 2500, segments: 3, pendingRecords: 25 });

    const b = spool.readBatch(15)!; // across a boundary, ending mid segment 3
    expect(b.end).toMatchObject({ segment: 3, offset: 500 });
    spool.commit(b.end);
    expect(segmentFiles(dir)).toEqual(['00000003.seg', '00000004.seg']);
    expect(readCheckpoint(dir)).toEqual({ segment: 3, offset: 500 });
    expect(drain(spool).length).toBe(10);
    expect(segmentFiles(dir)).toEqual(['00000004.seg']);
  });

  it('appendMany is one all-or-nothing write', async () => {
    const spool = await spoolAt(tempDir(), { maxBytes: 1000, segmentBytes: 10_000 });
    expect(spool.appendMany([])).toBe(true);
    expect(spool.appendMany(range(0, 10).map((i) => rec(i)))).toBe(true);
    expect(drain(spool, 100, false).map((r) => JSON.parse(r).i)).toEqual(range(0, 10));
    expect(() => spool.appendMany(['ok', 'bad\nrecord'])).toThrow(TypeError);
    expect(spool.stats().appended).toBe(10);
  });

  it('rejects a record containing a newline without writing anything', async () => {
    const spool = await spoolAt(tempDir());
    expect(() => spool.append('{"a":1}\n{"b":2}')).toThrow(TypeError);
    expect(spool.stats()).toMatchObject({ bytes: 0, appended: 0 });
    // In a group too, wherever it is, also in a record built by concatenation and after multi-byte text.
    const built = `{"station":"สถานี",${'"x":1,'.repeat(3)}"y":"`;
    expect(() => spool.appendMany(['{"a":1}', `${built}\n"}`])).toThrow(/must not contain a newline/);
    expect(() => spool.appendMany(['\n', '{"a":1}'])).toThrow(/must not contain a newline/);
    expect(spool.stats()).toMatchObject({ bytes: 0, appended: 0 });
    expect(spool.appendMany(['{"a":1}', `${built}"}`])).toBe(true);
    expect(spool.stats()).toMatchObject({ appended: 2 });
  });

  it('throws when used before start or after stop', async () => {
    const spool = new Spool({ dir: tempDir() });
    expect(() => spool.append('x')).toThrow(/not started/);
    expect(() => spool.readBatch(1)).toThrow(/not started/);
    await spool.start();
    await spool.stop();
    await spool.stop(); // idempotent
    expect(() => spool.append('x')).toThrow(/not started/);
  });

  it('validates options without touching the disk', () => {
    const dir = path.join(tempDir(), 'not-created');
    expect(() => new Spool({ dir, maxBytes: 0 })).toThrow(RangeError);
    expect(() => new Spool({ dir, segmentBytes: 1.5 })).toThrow(RangeError);
    expect(() => new Spool({ dir, fsync: 'sometimes' as never })).toThrow(RangeError);
    new Spool({ dir });
    expect(fs.existsSync(dir)).toBe(false);
  });

  it.each(['always', 'interval'] as const)('works with fsync=%s across segment rotations', async (fsync) => {
    const dir = tempDir();
    const logger = collectingLogger();
    const spool = await spoolAt(dir, { fsync, fsyncIntervalMs: 5, segmentBytes: 2048, logger });
    for (let i = 0; i < 300; i++) {
      expect(spool.append(rec(i))).toBe(true);
      if (i % 50 === 0) await new Promise((r) => setTimeout(r, 10)); // let the interval timer sync
    }
    expect(segmentFiles(dir).length).toBeGreaterThan(3);
    expect(drain(spool, 64).map((r) => JSON.parse(r).i)).toEqual(range(0, 300));
    await spool.stop();
    expect(logger.count('error', /./)).toBe(0);
    const again = await spoolAt(dir, { fsync });
    expect(again.readBatch(10)).toBeUndefined();
  });
});

describe('Spool: restart', () => {
  it('resumes exactly at the checkpoint: committed records are not re-delivered, uncommitted ones are', async () => {
    const dir = tempDir();
    const records = range(0, 100).map((i) => rec(i, i % 5 === 0 ? 300 : 0));
    const first = await openSpool(dir, { segmentBytes: 1500 });
    for (const r of records) first.append(r);
    const a = first.readBatch(30)!;
    first.commit(a.end);
    first.readBatch(20); // read but never committed (store write "failed", then crash)
    await first.stop();
    expect(segmentFiles(dir).length).toBeGreaterThan(3);

    const second = await spoolAt(dir, { segmentBytes: 1500 });
    expect(second.stats()).toMatchObject({ pendingRecords: 70, appended: 0, committed: 0 });
    for (const r of range(100, 110).map((i) => rec(i))) second.append(r);
    expect(drain(second, 17)).toEqual([...records.slice(30), ...range(100, 110).map((i) => rec(i))]);
  });

  it('resumes after a commit exactly at a segment end', async () => {
    const dir = tempDir();
    const line = (i: number) => `${String(i).padStart(4, '0')}${'.'.repeat(95)}`; // 100 bytes per record
    const first = await openSpool(dir, { segmentBytes: 1000 });
    for (let i = 0; i < 20; i++) first.append(line(i));
    const a = first.readBatch(20)!;
    expect(a.end).toMatchObject({ segment: 2, offset: 1000 }); // end of the active segment (it rotated)
    first.commit(a.end);
    expect(readCheckpoint(dir)).toEqual({ segment: 3, offset: 0 });
    await first.stop();

    const second = await spoolAt(dir, { segmentBytes: 1000 });
    expect(second.readBatch(10)).toBeUndefined();
    second.append(line(20));
    expect(second.readBatch(10)!.records).toEqual([line(20)]);
  });

  it('restarts with several segments and a checkpoint in the middle of one', async () => {
    const dir = tempDir();
    const first = await openSpool(dir, { segmentBytes: 512 });
    for (const i of range(0, 200)) first.append(rec(i));
    const a = first.readBatch(77)!;
    first.commit(a.end);
    await first.stop();
    const segsBefore = segmentFiles(dir);

    const second = await spoolAt(dir, { segmentBytes: 512 });
    expect(segmentFiles(dir)).toEqual(segsBefore);
    expect(second.stats().pendingRecords).toBe(123);
    expect(drain(second, 50).map((r) => JSON.parse(r).i)).toEqual(range(77, 200));
  });

  it('appends to the newest segment after restart while it has room', async () => {
    const dir = tempDir();
    const first = await openSpool(dir, { segmentBytes: 10_000 });
    first.append('a');
    await first.stop();
    const second = await spoolAt(dir, { segmentBytes: 10_000 });
    second.append('b');
    expect(segmentFiles(dir)).toEqual(['00000001.seg']);
    expect(drain(second)).toEqual(['a', 'b']);
  });
});
