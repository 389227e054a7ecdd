import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeTempDir, removeDir } from '@cnx/testkit';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import {
  createReadingStore,
  InfluxDbReadingStore,
  type ReadingStoreConfig,
  SqliteReadingStore,
  STORE_ERROR_CODES,
  StoreError,
} from '../src/index';

const T0 = Date.UTC(2025, 2, 1);
const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await removeDir(d);
});

describe('SqliteReadingStore specifics', () => {
  it("works in ':memory:'", async () => {
    const store = new SqliteReadingStore({ path: ':memory:' });
    await store.start();
    await store.write([
      { city: 'c', stationId: 's', deviceId: 'd', ts: T0, values: { pm25: 1 }, corrections: [], qc: [] },
    ]);
    expect(await store.count({ from: T0, to: T0 + 1 })).toBe(1);
    await store.stop();
  });

  it('uses WAL with synchronous=NORMAL and adds missing metric columns to an existing table', async () => {
    const dir = await makeTempDir('cnx-sqlite-');
    dirs.push(dir);
    const path = join(dir, 'old.db');
    // A table from an older registry that only knew pm25.
    const old = new Database(path);
    old.exec(`CREATE TABLE readings (city TEXT NOT NULL, station TEXT NOT NULL, device TEXT NOT NULL, ts INTEGER NOT NULL,
      seq INTEGER, qc TEXT NOT NULL DEFAULT '', pm25 REAL, pm25_corrected REAL, pm25_correction TEXT,
      PRIMARY KEY (city, station, device, ts)) WITHOUT ROWID`);
    old
      .prepare(`INSERT INTO readings (city, station, device, ts, qc, pm25) VALUES ('c', 's', 'd', ?, '', 3.5)`)
      .run(T0);
    old.close();

    const store = new SqliteReadingStore({ path });
    await store.start();
    const reading = {
      city: 'c',
      stationId: 's',
      deviceId: 'd',
      ts: T0 + 1,
      values: { battery: 80 },
      corrections: [],
      qc: [],
    };
    await store.write([reading]);
    expect(await store.query({ from: T0, to: T0 + 10, limit: 10 })).toEqual([
      { city: 'c', stationId: 's', deviceId: 'd', ts: T0, values: { pm25: 3.5 }, corrections: [], qc: [] },
      reading,
    ]);
    await store.stop();

    const check = new Database(path, { readonly: true });
    expect(check.pragma('journal_mode', { simple: true })).toBe('wal');
    const cols = (check.pragma('table_info(readings)') as Array<{ name: string }>).map((c) => c.name);
    expect(cols).toEqual(expect.arrayContaining(['battery', 'battery_corrected', 'battery_correction', 'water_level']));
    check.close();
  });

  it('maps a database it cannot open to a StoreError', async () => {
    const dir = await makeTempDir('cnx-sqlite-');
    dirs.push(dir);
    const file = join(dir, 'a-file');
    writeFileSync(file, 'not a directory');
    const store = new SqliteReadingStore({ path: join(file, 'readings.db') });
    const e = await store.start().then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(e).toBeInstanceOf(StoreError);
    expect((e as StoreError).code).toBe(STORE_ERROR_CODES.sqlite);
  });
});

describe('createReadingStore', () => {
  it('chooses the adapter by backend name', () => {
    expect(createReadingStore({ backend: 'sqlite', path: ':memory:' })).toBeInstanceOf(SqliteReadingStore);
    expect(createReadingStore({ backend: 'influxdb', url: 'http://127.0.0.1:8086', database: 'cnx' })).toBeInstanceOf(
      InfluxDbReadingStore,
    );
  });

  it('names the known backends when given an unknown one', () => {
    expect(() => createReadingStore({ backend: 'mongodb' } as unknown as ReadingStoreConfig)).toThrow(
      /unknown reading store backend "mongodb" \(known: influxdb, sqlite\)/,
    );
  });
});
