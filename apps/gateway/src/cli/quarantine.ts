/**
 * Quarantine CLI: writes the readings of a quarantine file (readings the store once refused as
 * invalid, kept by the gateway's writer in `<spool dir>/quarantine-<date>.ndjson`) into the store,
 * once the cause is fixed (a field-type conflict resolved, a retention policy lengthened...).
 *
 *   npm run -w @cnx/gateway quarantine -- replay <file> [--batch <n>]
 *
 * The store is the gateway's, from the same environment (INFLUX_URL, INFLUX_DB, ... or SQLITE_PATH,
 * CNX_DATA_DIR; apps/gateway/README.md). Store writes are idempotent, so replaying a file again (or
 * after an interrupted run) stores each reading once. Progress goes to stdout. Lines the store still
 * refuses, and lines that are not readings, are named with their line number and reason and
 * written to `<file>.rejected` (the original text) for another try; the file itself is never
 * changed. Exit code: 0 everything stored; 1 some lines not stored (see `<file>.rejected`); 2 usage,
 * configuration, an unreadable file, or the store not reachable or failing (nothing is lost: run it
 * again).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import type { Reading } from '@cnx/domain';
import { ConfigError } from '@cnx/runtime';
import { createReadingStore, type ReadingStore } from '@cnx/store';
import { loadGatewayConfig } from '../config';
import { readingFromRecord } from '../spool/records';
import { refusesReadings } from '../store-errors';

export interface CliOutput {
  out: (line: string) => void;
  err: (line: string) => void;
}

const USAGE = 'usage: quarantine replay <quarantine-file> [--batch <readings per write, default 1000>]';
/** Refused lines named one by one on the terminal, at most (all are in the .rejected file). */
const SHOW_REFUSED = 20;

interface Line {
  no: number;
  text: string;
  reading?: Reading;
}

interface Refused {
  no: number;
  text: string;
  reason: string;
}

const message = (e: unknown): string => (e instanceof Error ? e.message : String(e));

function parseCliArgs(argv: readonly string[]): { file: string; batch: number } | undefined {
  let parsed: ReturnType<typeof parseArgs<{ options: { batch: { type: 'string' } }; allowPositionals: true }>>;
  try {
    parsed = parseArgs({ args: [...argv], options: { batch: { type: 'string' } }, allowPositionals: true });
  } catch {
    return undefined; // an unknown option
  }
  const [command, file, ...extra] = parsed.positionals;
  if (command !== 'replay' || !file || extra.length > 0) return undefined;
  const batch = parsed.values.batch === undefined ? 1000 : Number(parsed.values.batch);
  if (!Number.isSafeInteger(batch) || batch < 1 || batch > 100_000) return undefined;
  return { file, batch };
}

/** Write one batch; if the store refuses readings in it, write them one by one to find which. */
async function writeBatch(store: ReadingStore, batch: Line[], refused: Refused[]): Promise<number> {
  try {
    await store.write(batch.map((l) => l.reading as Reading));
    return batch.length;
  } catch (error) {
    if (!refusesReadings(error)) throw error;
  }
  let written = 0;
  for (const line of batch) {
    try {
      await store.write([line.reading as Reading]);
      written++;
    } catch (error) {
      if (!refusesReadings(error)) throw error;
      refused.push({ no: line.no, text: line.text, reason: message(error) });
    }
  }
  return written;
}

export async function runQuarantineCli(
  argv: readonly string[],
  io: CliOutput,
  env: Record<string, string | undefined> = process.env,
  cwd = process.cwd(),
): Promise<number> {
  const args = parseCliArgs(argv);
  if (!args) {
    io.err(USAGE);
    return 2;
  }
  const file = path.resolve(cwd, args.file);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    io.err(`cannot read ${file}: ${message(error)}`);
    return 2;
  }
  const refused: Refused[] = [];
  const lines: Line[] = [];
  for (const [i, t] of text.split('\n').entries()) {
    if (t.trim() === '') continue;
    try {
      lines.push({ no: i + 1, text: t, reading: readingFromRecord(t).reading });
    } catch (error) {
      refused.push({ no: i + 1, text: t, reason: message(error) });
    }
  }

  let store: ReadingStore;
  try {
    const { store: c } = loadGatewayConfig({ ...env, CNX_DATA_DIR: path.resolve(cwd, env.CNX_DATA_DIR ?? 'data') });
    store = createReadingStore(c.backend === 'sqlite' ? { backend: 'sqlite', path: path.resolve(cwd, c.path) } : c);
    io.out(
      `replaying ${lines.length} readings from ${file} into ${c.backend === 'sqlite' ? `SQLite ${path.resolve(cwd, c.path)}` : `InfluxDB ${c.url} database ${c.database}`}`,
    );
  } catch (error) {
    io.err(error instanceof ConfigError ? error.message : `invalid configuration: ${message(error)}`);
    return 2;
  }

  let written = 0;
  try {
    await store.start();
    for (let i = 0; i < lines.length; i += args.batch) {
      written += await writeBatch(store, lines.slice(i, i + args.batch), refused);
      io.out(`  ${Math.min(i + args.batch, lines.length)}/${lines.length} readings sent, ${written} stored`);
    }
  } catch (error) {
    io.err(
      `the store failed: ${message(error)}\n${written} of ${lines.length} readings stored so far; nothing is lost ` +
        `(the file is unchanged): fix the store and run the command again (writes are idempotent)`,
    );
    return 2;
  } finally {
    await store.stop().catch(() => undefined);
  }

  if (refused.length === 0) {
    io.out(`done: all ${written} readings stored`);
    return 0;
  }
  refused.sort((a, b) => a.no - b.no);
  const rejectedFile = `${file}.rejected`;
  writeFileSync(rejectedFile, `${refused.map((r) => r.text).join('\n')}\n`);
  io.err(
    `done: ${written} readings stored, ${refused.length} line${refused.length === 1 ? '' : 's'} not stored (kept in ${rejectedFile}):`,
  );
  for (const r of refused.slice(0, SHOW_REFUSED)) io.err(`  line ${r.no}: ${r.reason}`);
  if (refused.length > SHOW_REFUSED) io.err(`  ... and ${refused.length - SHOW_REFUSED} more`);
  return 1;
}

const invokedDirectly = process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href;
if (invokedDirectly) {
  // npm run sets INIT_CWD to where the user typed the command; paths are relative to that.
  const cwd = process.env.INIT_CWD ?? process.cwd();
  const io: CliOutput = { out: (l) => console.log(l), err: (l) => console.error(l) };
  runQuarantineCli(process.argv.slice(2), io, process.env, cwd).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      console.error(error);
      process.exitCode = 2;
    },
  );
}
