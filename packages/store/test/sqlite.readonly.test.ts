import { join } from 'node:path';
import type { Reading } from '@cnx/domain';
import { makeTempDir, removeDir } from '@cnx/testkit';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SqliteReadingStore, STORE_ERROR_CODES, StoreError } from '../src/index';

const T0 = Date.UTC(2025, 2, 1);
const r = (i: number): Reading => ({
  city: 'c',
  stationId: `s${i % 2}`,
  deviceId: 'd',
  ts: T0 + i,
  values: { pm25: i },
  corrections: [],
  qc: [],
});
const ALL = { from: T0, to: T0 + 1_000_000 };

async function rejection(p: Promise<unknown>): Promise<StoreError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(StoreError);
  return e as StoreError;
}

describe('SqliteReadingStore read-only (a second process beside the writer)', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await makeTempDir('cnx-sqlite-ro-');
  });
  afterAll(async () => {
    await removeDir(dir);
  });

  it('reads what the writer commits while it keeps writing, and never writes', async () => {
    const path = join(dir, 'shared.db');
    const writer = new SqliteReadingStore({ path });
    await writer.start();
    await writer.write([r(0), r(1)]);
    const reader = new SqliteReadingStore({ path, readonly: true });
    await reader.start();
    expect(await reader.count(ALL)).toBe(2);
    await writer.write([r(2)]);
    expect(await reader.count(ALL)).toBe(3);
    const pages: number[] = [];
    for await (const p of reader.scan(ALL, 2)) pages.push(p.length);
    expect(pages).toEqual([2, 1]);
    expect((await reader.aggregate({ ...ALL, metric: 'pm25', bucketMs: 60_000 })).length).toBe(2);
    const e = await rejection(reader.write([r(9)]));
    expect(e.code).toBe(STORE_ERROR_CODES.invalidConfig);
    expect(e.message).toMatch(/read-only/);
    expect((await reader.health()).ok).toBe(true);
    await reader.stop();
    await writer.stop();
    // After the writer's clean stop (WAL checkpointed), a reader still opens the file.
    const later = new SqliteReadingStore({ path, readonly: true });
    await later.start();
    expect(await later.count(ALL)).toBe(3);
    await later.stop();
  });

  it('fails to start, retryably, before the writer has created the file or the schema', async () => {
    const missing = new SqliteReadingStore({ path: join(dir, 'nope', 'none.db'), readonly: true });
    const e = await rejection(missing.start());
    expect(e.code).toBe(STORE_ERROR_CODES.sqlite);
    const emptyPath = join(dir, 'empty.db');
    new Database(emptyPath).close();
    const empty = new SqliteReadingStore({ path: emptyPath, readonly: true });
    const e2 = await rejection(empty.start());
    expect(e2.retryable).toBe(true);
    expect(e2.message).toMatch(/no table readings.*gateway/);
    const db = new Database(emptyPath);
    db.exec(
      `CREATE TABLE readings (city TEXT, station TEXT, device TEXT, ts INTEGER, seq INTEGER, qc TEXT, pm25 REAL)`,
    );
    db.close();
    const e3 = await rejection(empty.start());
    expect(e3.message).toMatch(/missing .*qc_metrics.*pm10/);
  });
});
