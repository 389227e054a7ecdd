/**
 * `cnx-sim backfill`: publish the simulated past of a city's devices on their history topics, so a
 * fresh system has a week of data with its daily cycle (`npm start` runs it; README "Backfill").
 *
 *   cnx-sim backfill --city <city-id> --mqtt mqtt://127.0.0.1:1883 --days 7
 *   cnx-sim backfill --days 1 --until 2026-03-15T00:00:00+07:00 --devices <device-id> --format json
 */
import { writeFile } from 'node:fs/promises';
import { DEFAULT_CITY_ID } from '@cnx/city-pack';
import { SingleBar } from 'cli-progress';
import { type Command, InvalidArgumentError, Option } from 'commander';
import { formatLocal } from '../cli/format';
import { backfillProgressLine, backfillSummaryLine, fmt } from './format';
import type { HistoryFormat } from './history';
import { loadHistorySources } from './history';
import { countBackfillReadings, publishBackfill } from './publish';

const DAY = 86_400_000;

interface BackfillOpts {
  city: string;
  citiesDir?: string;
  mqtt: string;
  username?: string;
  password?: string;
  days: number;
  until?: string;
  since?: string;
  seed: number;
  scenario: string;
  devices?: string;
  limit?: number;
  format: HistoryFormat;
  maxInFlight: number;
  quiet?: boolean;
  jsonSummary?: string;
}

const intArg = (name: string, min: number) => (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`${name} must be an integer >= ${min}`);
  return n;
};
const daysArg = (v: string) => {
  const n = Number(v);
  if (!(n >= 0) || n > 3660) throw new InvalidArgumentError('--days must be a number of days, 0..3660 (0.5 = 12 h)');
  return n;
};
const timeArg = (name: string) => (v: string) => {
  const t = Date.parse(v);
  if (!Number.isFinite(t)) throw new InvalidArgumentError(`${name}: not an ISO 8601 time: ${v}`);
  return v;
};

async function backfill(o: BackfillOpts): Promise<void> {
  const until = o.until === undefined ? Date.now() : Date.parse(o.until);
  let from = until - Math.round(o.days * DAY);
  if (o.since !== undefined) from = Math.max(from, Date.parse(o.since));
  const selection = {
    devices: o.devices
      ?.split(',')
      .map((s) => s.trim())
      .filter(Boolean),
    limit: o.limit,
  };
  const city = await loadHistorySources(o.city, {
    seed: o.seed,
    at: until,
    selection,
    citiesDir: o.citiesDir,
    scenario: o.scenario,
    simStart: from,
  });
  if (city.sources.length === 0) throw new Error(`city ${o.city}: no simulated devices selected`);
  const total = from < until ? countBackfillReadings(city.sources, o.seed, from, until) : 0;
  const log = (s: string) => {
    if (!o.quiet) process.stdout.write(`${s}\n`);
  };
  log(
    `cnx-sim backfill: ${city.sources.length} device(s) of ${city.cityId} -> ${o.mqtt} (history topics), ` +
      `${formatLocal(from, city.utcOffsetMin)} .. ${formatLocal(until, city.utcOffsetMin)}, ` +
      `${fmt(total)} readings, seed ${o.seed}, ${o.format}`,
  );
  if (city.skipped.length && !selection.devices?.length) log(`  not simulated: ${city.skipped.join(', ')}`);

  // Progress: a bar on a terminal; elsewhere (logs, npm start's prefixed output) a line every 2 s.
  const tty = !o.quiet && process.stdout.isTTY === true;
  const bar = tty
    ? new SingleBar({
        format:
          'backfill [{bar}] {percentage}% | {value}/{total} readings | {messages} messages | {eta_formatted} left',
        hideCursor: true,
        etaBuffer: 200,
      })
    : undefined;
  bar?.start(total, 0, { messages: 0 });
  let lastLine = Date.now();
  const result = await publishBackfill({
    city: city.cityId,
    sources: city.sources,
    from,
    until,
    seed: o.seed,
    format: o.format,
    maxInFlight: o.maxInFlight,
    mqtt: { url: o.mqtt, username: o.username, password: o.password ?? process.env.CNX_SIM_MQTT_PASSWORD },
    onProgress: (p) => {
      if (bar) bar.update(p.readings, { messages: p.messages });
      else if (!o.quiet && Date.now() - lastLine >= 2000) {
        lastLine = Date.now();
        log(backfillProgressLine(p));
      }
    },
  }).finally(() => bar?.stop());
  process.stdout.write(`${backfillSummaryLine(result, city.utcOffsetMin, o.mqtt)}\n`);
  if (o.jsonSummary) await writeFile(o.jsonSummary, `${JSON.stringify(result, null, 2)}\n`);
}

export function registerBackfillCommand(program: Command): void {
  program
    .command('backfill')
    .description(
      "publish the devices' simulated past (the live fleet's models, daily cycle included) on their history topics",
    )
    .option('--city <id>', 'city pack id (cities/<id>/)', DEFAULT_CITY_ID)
    .option('--cities-dir <dir>', 'folder holding city packs (default: the repository cities/ or $CNX_CITIES_DIR)')
    .option('--mqtt <url>', 'broker URL', process.env.MQTT_URL ?? 'mqtt://127.0.0.1:1883')
    .option('--username <name>', 'MQTT username (password from --password or $CNX_SIM_MQTT_PASSWORD)')
    .option('--password <secret>', 'MQTT password')
    .option('--days <n>', 'how far back from --until, days (fractions allowed)', daysArg, 7)
    .option('--until <iso>', 'end of the history, exclusive, ISO 8601 (default: now)', timeArg('--until'))
    .option(
      '--since <iso>',
      'start no earlier than this (fill a gap after the newest stored reading)',
      timeArg('--since'),
    )
    .option(
      '--seed <n>',
      "random seed: same seed, same values (use the live fleet's, default 1)",
      intArg('--seed', 0),
      1,
    )
    .option(
      '--scenario <spec>',
      'air scenario as for `run` (e.g. haze:peak=250), starting at the beginning of the history',
      'normal',
    )
    .option('--devices <ids>', 'comma-separated device ids (default: every simulated device, air and canal)')
    .option('--limit <n>', 'at most n devices', intArg('--limit', 1))
    .addOption(
      new Option('--format <format>', 'SenML packs of several readings, or our JSON (one reading per message)')
        .choices(['senml', 'json'])
        .default('senml'),
    )
    .option('--max-in-flight <n>', 'messages awaiting their PUBACK at once', intArg('--max-in-flight', 1), 256)
    .option('--quiet', 'no progress; only the summary line')
    .option('--json-summary <file>', 'write the summary (counts, per-device time ranges) as JSON')
    .action(async (opts: BackfillOpts) => {
      await backfill(opts);
    });
}
