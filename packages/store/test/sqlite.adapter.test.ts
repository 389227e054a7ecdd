import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { QC_POLICY } from '@cnx/domain';
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

  it('migrates a file from before qc_metrics: old rows read back without qcMetrics, counted conservatively', async () => {
    const dir = await makeTempDir('cnx-sqlite-');
    dirs.push(dir);
    const path = join(dir, 'before-qc-metrics.db');
    // The schema before per-metric QC (metric columns are added at start as ever).
    const old = new Database(path);
    old.exec(`CREATE TABLE readings (city TEXT NOT NULL, station TEXT NOT NULL, device TEXT NOT NULL, ts INTEGER NOT NULL,
      seq INTEGER, qc TEXT NOT NULL DEFAULT '', water_level REAL, do REAL,
      PRIMARY KEY (city, station, device, ts)) WITHOUT ROWID`);
    const insert = old.prepare(
      `INSERT INTO readings (city, station, device, ts, qc, water_level, do) VALUES ('cnx', 'canal1', 'c1', ?, ?, ?, 6)`,
    );
    insert.run(T0, '', 1.0);
    insert.run(T0 + 60_000, 'stuck', 2.0);
    old.close();

    const store = new SqliteReadingStore({ path });
    await store.start();
    const canal = { city: 'cnx', stationId: 'canal1', deviceId: 'c1', corrections: [] };
    const range = { from: T0, to: T0 + 3_600_000 };
    const before = await store.query({ ...range, limit: 10 });
    expect(before).toEqual([
      { ...canal, ts: T0, values: { water_level: 1.0, do: 6 }, qc: [] },
      { ...canal, ts: T0 + 60_000, values: { water_level: 2.0, do: 6 }, qc: ['stuck'] },
    ]);
    expect(before.some((r) => 'qcMetrics' in r)).toBe(false);
    // A reading stuck on DO written now, beside the old ones.
    const frozen = {
      ...canal,
      ts: T0 + 120_000,
      values: { water_level: 3.0, do: 6 },
      qc: ['stuck' as const],
      qcMetrics: ['do' as const],
    };
    await store.write([frozen]);
    const usable = { mode: 'exclude-flagged' as const, flags: QC_POLICY.now.exclude, metric: 'water_level' as const };
    // The old stuck row: about an unknown metric, so left out of water level too; the new one counts.
    expect((await store.countByStation({ ...range, qc: usable }))[0]?.count).toBe(2);
    expect(await store.aggregate({ ...range, metric: 'water_level', bucketMs: 3_600_000, qc: usable })).toEqual([
      { city: 'cnx', stationId: 'canal1', start: T0, mean: 2, min: 1, max: 3, count: 2, flagged: 1 },
    ]);
    await store.stop();

    const check = new Database(path, { readonly: true });
    expect(check.prepare('SELECT ts, qc_metrics FROM readings ORDER BY ts').raw(true).all()).toEqual([
      [T0, null],
      [T0 + 60_000, null],
      [T0 + 120_000, 'do'],
    ]);
    check.close();
    // Starting again migrates nothing twice.
    const again = new SqliteReadingStore({ path });
    await again.start();
    expect(await again.count(range)).toBe(3);
    await again.stop();
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
