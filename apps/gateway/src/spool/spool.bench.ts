/**
 * Spool micro-benchmark (not a test): append N ~200-byte records one by one, read them back in batches,
 * commit, and print throughput and CPU per record (process.cpuUsage, user + system). Then the same
 * with the alternative issue 13 asked to measure: a SQLite table in WAL mode (better-sqlite3, one
 * INSERT per record in its own transaction, synchronous=NORMAL: in the kernel at commit, like the
 * spool's write(2); fsync at WAL checkpoints), read back by rowid and deleted on commit.
 *
 *   npx tsx apps/gateway/src/spool/spool.bench.ts [records=500000] [fsync=interval]
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import Database from 'better-sqlite3';
import { Spool, type SpoolOptions } from './spool';

const N = Number(process.argv[2] ?? 500_000);
const fsyncPolicy = (process.argv[3] ?? 'interval') as SpoolOptions['fsync'];
const BATCH = 5_000;

function makeRecords(n: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const thai = i % 10 === 0; // 10 % of the records carry Thai text (multi-byte UTF-8)
    out.push(
      JSON.stringify({
        d: `cnx-aq-${String(i % 500).padStart(4, '0')}`,
        m: 'pm25',
        v: Math.round(Math.random() * 3000) / 10,
        u: 'ug/m3',
        t: 1_700_000_000_000 + i * 1000,
        q: 0,
        s: thai ? 'สถานีวัดคุณภาพอากาศ' : 'station-chiangmai-old-city-01',
        seq: i,
        fw: '1.4.2',
        rssi: -67,
        topic: `cnx/v1/chiangmai/aq/${i % 500}/telemetry`,
      }),
    );
  }
  return out;
}

async function measure(label: string, n: number, fn: () => void | Promise<void>): Promise<void> {
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  await fn();
  const wallMs = Number(process.hrtime.bigint() - t0) / 1e6;
  const cpu = process.cpuUsage(cpu0);
  const perRec = (cpu.user + cpu.system) / n;
  console.log(
    `${label.padEnd(22)} ${Math.round(n / (wallMs / 1000))
      .toLocaleString('en-US')
      .padStart(10)} rec/s  ${perRec.toFixed(2)} µs CPU/rec (user ${(cpu.user / n).toFixed(2)}, sys ${(
      cpu.system / n
    ).toFixed(2)})  wall ${wallMs.toFixed(0)} ms`,
  );
}

async function main(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'spool-bench-'));
  const records = makeRecords(N);
  const avg = records.reduce((a, r) => a + Buffer.byteLength(r) + 1, 0) / N;
  console.log(`spool bench: ${N.toLocaleString('en-US')} records, avg ${avg.toFixed(0)} B, fsync=${fsyncPolicy}`);
  try {
    const spool = new Spool({ dir, maxBytes: 2 * 1024 ** 3, fsync: fsyncPolicy });
    await spool.start();

    await measure('append (1 per call)', N, () => {
      for (let i = 0; i < N; i++) if (!spool.append(records[i]!)) throw new Error('full');
    });

    let read = 0;
    await measure('readBatch+commit', N, () => {
      for (let b = spool.readBatch(BATCH); b; b = spool.readBatch(BATCH)) {
        read += b.records.length;
        spool.commit(b.end);
      }
    });
    if (read !== N) throw new Error(`read ${read} of ${N}`);

    await measure('appendMany (100/call)', N, () => {
      for (let i = 0; i < N; i += 100) if (!spool.appendMany(records.slice(i, i + 100))) throw new Error('full');
    });
    await spool.stop();

    // Cold read after a restart: start() recovery scan + reading everything back.
    const again = new Spool({ dir, maxBytes: 2 * 1024 ** 3, fsync: fsyncPolicy });
    await measure('restart (scan)', N, () => again.start());
    read = 0;
    await measure('readBatch after restart', N, () => {
      for (let b = again.readBatch(BATCH); b; b = again.readBatch(BATCH)) {
        read += b.records.length;
        again.commit(b.end);
      }
    });
    if (read !== N) throw new Error(`read ${read} of ${N} after restart`);
    await again.stop();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** The SQLite WAL alternative, the same operations. */
async function sqliteWal(records: string[]): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'spool-sqlite-bench-'));
  try {
    const db = new Database(path.join(dir, 'spool.sqlite'));
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.exec('CREATE TABLE spool (id INTEGER PRIMARY KEY, line TEXT NOT NULL)');
    const insert = db.prepare('INSERT INTO spool (line) VALUES (?)');
    const select = db.prepare('SELECT id, line FROM spool WHERE id > ? ORDER BY id LIMIT ?');
    const del = db.prepare('DELETE FROM spool WHERE id <= ?');
    await measure('sqlite wal: insert (1 per tx)', N, () => {
      for (let i = 0; i < N; i++) insert.run(records[i]);
    });
    let read = 0;
    await measure('sqlite wal: select+delete', N, () => {
      let after = 0;
      for (;;) {
        const rows = select.all(after, BATCH) as { id: number; line: string }[];
        if (rows.length === 0) break;
        read += rows.length;
        after = rows[rows.length - 1]!.id;
        del.run(after);
      }
    });
    if (read !== N) throw new Error(`sqlite: read ${read} of ${N}`);
    const many = db.transaction((rs: string[]) => {
      for (const r of rs) insert.run(r);
    });
    await measure('sqlite wal: insert (100/tx)', N, () => {
      for (let i = 0; i < N; i += 100) many(records.slice(i, i + 100));
    });
    db.close();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

await main();
await sqliteWal(makeRecords(N));
