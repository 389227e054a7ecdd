import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { NormalizedReadingPayload } from '@cnx/protocol';
import { createLogger } from '@cnx/runtime';
import { InfluxDbReadingStore, SqliteReadingStore } from '@cnx/store';
import { type InfluxDBHandle, startInfluxDB } from '@cnx/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CliOutput, runQuarantineCli } from '../src/cli/quarantine';
import { createMetrics, GatewayStats } from '../src/metrics';
import { readingFromRecord } from '../src/spool/records';
import { Spool } from '../src/spool/spool';
import { StoreWriter } from '../src/writer.service';
import { commitRecords } from './stages';

/**
 * The quarantine replay command (src/cli/quarantine.ts) against real stores: SQLite, and InfluxDB
 * with a real refusal (a field-type conflict) quarantined by the writer, fixed, then replayed.
 */

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const dirs: string[] = [];
const tempDir = () => {
  const d = mkdtempSync(path.join(tmpdir(), 'cnx-qreplay-'));
  dirs.push(d);
  return d;
};
afterAll(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const T0 = Date.now() - 2 * 3_600_000;

function record(i: number, opts: { humidity?: boolean; device?: string } = {}): string {
  const p: NormalizedReadingPayload = {
    v: 1,
    city: 'chiang-mai',
    station: `st-${i % 2}`,
    device: opts.device ?? `dev-${i % 2}`,
    kind: 'air',
    district: 'd',
    ts: T0 + i * 1000,
    seq: i,
    values: opts.humidity ? { pm25: 10 + i, humidity: 60 } : { pm25: 10 + i },
    corrections: [],
    qc: [],
    receivedAt: T0 + i * 1000,
  };
  return JSON.stringify(p);
}

function capture(): CliOutput & { out_: string[]; err_: string[] } {
  const out_: string[] = [];
  const err_: string[] = [];
  return { out_, err_, out: (l) => out_.push(l), err: (l) => err_.push(l) };
}

describe('quarantine replay into SQLite', () => {
  const dir = tempDir();
  const file = path.join(dir, 'quarantine-2026-01-01.ndjson');
  const good = Array.from({ length: 25 }, (_, i) => record(i));
  const tooLongId = record(99, { device: 'x'.repeat(300) });
  writeFileSync(file, [...good.slice(0, 10), 'not a reading', ...good.slice(10), tooLongId, ''].join('\n'));
  const env = { CNX_DATA_DIR: dir };

  const count = async () => {
    const store = new SqliteReadingStore({ path: path.join(dir, 'cnx.sqlite') });
    await store.start();
    const n = await store.count({ from: T0 - 1, to: T0 + 3_600_000 });
    await store.stop();
    return n;
  };

  it('stores every reading, names the lines it cannot store and keeps them in <file>.rejected', async () => {
    const io = capture();
    expect(await runQuarantineCli(['replay', path.basename(file), '--batch', '10'], io, env, dir)).toBe(1);
    expect(await count()).toBe(25);
    expect(io.out_[0]).toBe(`replaying 26 readings from ${file} into SQLite ${path.join(dir, 'cnx.sqlite')}`);
    expect(io.out_).toContain('  20/26 readings sent, 20 stored');
    expect(io.err_[0]).toBe(`done: 25 readings stored, 2 lines not stored (kept in ${file}.rejected):`);
    expect(io.err_[1]).toMatch(/^ {2}line 11: not a spool record/);
    expect(io.err_[2]).toMatch(/^ {2}line 27: .*deviceId.*at most 256 characters/);
    expect(readFileSync(`${file}.rejected`, 'utf8')).toBe(`not a reading\n${tooLongId}\n`);
  });

  it('is idempotent: a second run stores nothing twice', async () => {
    expect(await runQuarantineCli(['replay', file], capture(), env, dir)).toBe(1);
    expect(await count()).toBe(25);
  });

  it('clear errors: usage, a missing file, a store it cannot open', async () => {
    const io = capture();
    expect(await runQuarantineCli(['replay'], io, env, dir)).toBe(2);
    expect(await runQuarantineCli(['replay', file, '--batch', '0'], io, env, dir)).toBe(2);
    expect(io.err_).toEqual([expect.stringMatching(/^usage: quarantine replay/), expect.stringMatching(/^usage/)]);
    const missing = capture();
    expect(await runQuarantineCli(['replay', 'nope.ndjson'], missing, env, dir)).toBe(2);
    expect(missing.err_[0]).toMatch(/^cannot read .*nope\.ndjson: ENOENT/);
    // The SQLite "file" is a directory: the store cannot start; nothing is lost, run it again.
    const broken = capture();
    const code = await runQuarantineCli(['replay', file], broken, { ...env, SQLITE_PATH: dir }, dir);
    expect(code).toBe(2);
    expect(broken.err_[0]).toMatch(/^the store failed: SQLite start failed/);
    expect(broken.err_[0]).toContain('0 of 26 readings stored so far; nothing is lost');
  });

  it('runs as `npm run -w @cnx/gateway quarantine -- replay <file>`, the file relative to where it is typed', () => {
    // Typed in the directory holding the file (npm sets INIT_CWD to it), the repository as --prefix.
    const { INIT_CWD: _, ...parentEnv } = process.env;
    const res = spawnSync(
      'npm',
      [
        '--prefix',
        repoRoot,
        'run',
        '--silent',
        '-w',
        '@cnx/gateway',
        'quarantine',
        '--',
        'replay',
        path.basename(file),
      ],
      { cwd: dir, env: { ...parentEnv, CNX_DATA_DIR: dir }, encoding: 'utf8' },
    );
    expect(res.stdout).toContain(`replaying 26 readings from ${file}`);
    expect(res.stderr).toContain('done: 25 readings stored, 2 lines not stored');
    expect(res.status).toBe(1);
  });
});

describe('quarantine: a real InfluxDB refusal, quarantined by the writer, replayed once fixed', () => {
  let influx: InfluxDBHandle;
  const dir = tempDir();
  const spoolDir = path.join(dir, 'spool');

  beforeAll(async () => {
    influx = await startInfluxDB({ database: 'qreplay' });
  });
  afterAll(async () => {
    await influx?.stop();
  });

  const stored = async () => {
    const res = await influx.query(
      `SELECT count(qc) FROM reading WHERE time >= ${T0 - 1}ms AND time < ${T0 + 3_600_000}ms`,
    );
    return Number(res.results[0]?.series?.[0]?.values[0]?.[1] ?? 0);
  };

  it('the writer quarantines exactly the readings InfluxDB refuses (field-type conflict), stores the rest', async () => {
    // Someone wrote humidity as a string into this shard: every float humidity is now refused (HTTP 400).
    await influx.write(`reading,city=chiang-mai,device=other,station=st-9 humidity="wet" ${T0}`);
    const records = Array.from({ length: 20 }, (_, i) => record(i + 1, { humidity: i % 4 === 0 }));
    const store = new InfluxDbReadingStore({ url: influx.url, database: 'qreplay' });
    await store.start();
    const spool = new Spool({ dir: spoolDir, fsync: 'never' });
    await spool.start();
    const stats = new GatewayStats();
    const writer = new StoreWriter(
      spool,
      store,
      { batchSize: 8, flushIntervalMs: 5, maxBackoffMs: 100, quarantineDir: spoolDir },
      stats,
      createMetrics(stats, spool),
      createLogger('qreplay-test', 'silent'),
    );
    commitRecords(
      spool,
      records.map((r) => ({ record: r, reading: readingFromRecord(r).reading })),
      writer.onCommitted,
    );
    writer.start();
    expect(await writer.flush(30_000)).toBe(true);
    await writer.stop();
    await spool.stop();
    await store.stop();

    expect(stats.storeRejected).toBe(5);
    expect(await stored()).toBe(15); // ours without humidity (count(qc): the foreign point has none)
    const files = readdirSync(spoolDir).filter((f) => f.startsWith('quarantine-'));
    expect(files).toHaveLength(1);
    const quarantined = readFileSync(path.join(spoolDir, files[0]!), 'utf8').trimEnd().split('\n');
    expect(quarantined).toEqual(records.filter((_, i) => i % 4 === 0));
  });

  it('replays the quarantine file once the conflict is gone; again: still once each', async () => {
    const file = path.join(spoolDir, readdirSync(spoolDir).find((f) => f.startsWith('quarantine-'))!);
    const env = { INFLUX_URL: influx.url, INFLUX_DB: 'qreplay', CNX_DATA_DIR: dir };
    // Before the fix: the store still refuses them; the file is untouched, the lines are named.
    const refused = capture();
    expect(await runQuarantineCli(['replay', file], refused, env, dir)).toBe(1);
    expect(refused.err_[0]).toBe(`done: 0 readings stored, 5 lines not stored (kept in ${file}.rejected):`);
    expect(refused.err_[1]).toMatch(/^ {2}line 1: InfluxDB write failed: HTTP 400 .*field type conflict/);

    // The fix: the foreign point (and its field type) is dropped; ours are written again by the replay.
    await influx.query('DROP MEASUREMENT "reading"');
    const io = capture();
    expect(await runQuarantineCli(['replay', file], io, env, dir)).toBe(0);
    expect(io.out_).toEqual([
      `replaying 5 readings from ${file} into InfluxDB ${influx.url} database qreplay`,
      '  5/5 readings sent, 5 stored',
      'done: all 5 readings stored',
    ]);
    expect(await stored()).toBe(5);
    expect(await runQuarantineCli(['replay', file], capture(), env, dir)).toBe(0);
    expect(await stored()).toBe(5);
    expect(existsSync(file)).toBe(true);
  });
});
