#!/usr/bin/env -S npx tsx
/**
 * cnx-sim: run a virtual device fleet from a city pack against an MQTT broker.
 *
 *   tsx firmware-sim/src/cli.ts run --city <city-id> --mqtt mqtt://127.0.0.1:1883 --scenario haze \
 *     --time-scale 1440 --sim-duration 1d --fault <device-id>:offline-buffer:30m
 *   tsx firmware-sim/src/cli.ts list
 *   tsx firmware-sim/src/cli.ts canal --tcp-base-port 15020 --rtu /tmp/cnx-rtu --scenario flood   (canal/cli.ts)
 *   tsx firmware-sim/src/cli.ts fleet --mqtt mqtt://127.0.0.1:1883 --tcp-base-port 15020          (air + canal)
 *   tsx firmware-sim/src/cli.ts backfill --mqtt mqtt://127.0.0.1:1883 --days 7       (backfill/cli.ts: history)
 */
import { writeFile } from 'node:fs/promises';
import { DEFAULT_CITY_ID } from '@cnx/city-pack';
import { deviceIntervalMs } from '@cnx/domain';
import { Command, InvalidArgumentError, Option } from 'commander';
import { registerBackfillCommand } from './backfill/cli';
import { registerCanalCommands } from './canal/cli';
import { loadCityFleet } from './city';
import { defaultMqttUrl, parseStartArg, runClientIdSuffix } from './cli/connect';
import { formatLocal, summaryDocument, summaryText } from './cli/format';
import { devicesOnline } from './cli/preflight';
import { createStatusReporter } from './cli/status';
import { DEVICE_MODELS } from './devices';
import { FAULTS, MALFORMED_KINDS, parseFaultArg } from './faults';
import type { FaultSpec } from './faults/types';
import { createFleet, type FleetFormat } from './fleet';
import { SCENARIOS } from './scenarios';
import { utcOffsetMinutes } from './util/clock';
import { parseDuration } from './util/duration';

const intArg = (name: string, min: number) => (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`${name} must be an integer >= ${min}`);
  return n;
};
const numArg = (v: string) => {
  const n = Number(v);
  if (!(n > 0) || !Number.isFinite(n)) throw new InvalidArgumentError('must be a number > 0');
  return n;
};
const durationArg = (v: string) => {
  try {
    parseDuration(v);
    return v;
  } catch (e) {
    throw new InvalidArgumentError((e as Error).message);
  }
};
const faultArg = (v: string, prev: FaultSpec[]) => {
  try {
    return [...prev, parseFaultArg(v)];
  } catch (e) {
    throw new InvalidArgumentError((e as Error).message);
  }
};

interface RunOpts {
  city: string;
  citiesDir?: string;
  mqtt: string;
  username?: string;
  password?: string;
  scenario: string;
  seed: number;
  timeScale: number;
  interval?: string;
  /** A string, `false` with --no-client-id-suffix, undefined: a fresh one for this run. */
  clientIdSuffix?: string | false;
  start?: string;
  devices?: string;
  limit?: number;
  fault: FaultSpec[];
  format: FleetFormat;
  duration?: string;
  simDuration?: string;
  maxMessages?: number;
  statusInterval: string;
  buffer: number;
  quiet?: boolean;
  jsonSummary?: string;
}

async function run(o: RunOpts): Promise<number> {
  const simStart = parseStartArg(o.start);
  const clientIdSuffix = o.clientIdSuffix === false ? undefined : (o.clientIdSuffix ?? runClientIdSuffix());
  const city = await loadCityFleet(
    o.city,
    {
      devices: o.devices
        ?.split(',')
        .map((s) => s.trim())
        .filter(Boolean),
      limit: o.limit,
    },
    o.citiesDir,
  );
  if (city.devices.length === 0) throw new Error(`city ${o.city}: no simulatable devices selected`);
  const utcOffsetMin = utcOffsetMinutes(city.timezone, simStart);
  const fleet = createFleet({
    city: city.cityId,
    devices: city.devices,
    mqtt: { url: o.mqtt, username: o.username, password: o.password ?? process.env.CNX_SIM_MQTT_PASSWORD },
    scenario: o.scenario,
    seed: o.seed,
    timeScale: o.timeScale,
    interval: o.interval,
    clientIdSuffix,
    simStart,
    utcOffsetMin,
    format: o.format,
    faults: o.fault,
    maxMessages: o.maxMessages,
    duration: o.duration,
    simDuration: o.simDuration,
    bufferCapacity: o.buffer,
  });

  // Connection errors repeat every reconnect period per device: report them at most every 5 s.
  let errors = 0;
  let lastError = '';
  let lastReport = 0;
  fleet.on('error', (e) => {
    errors++;
    lastError = `${e.deviceId}: ${e.error.message}`;
    if (Date.now() - lastReport > 5000) {
      lastReport = Date.now();
      process.stderr.write(`\n[cnx-sim] ${errors} error(s), last: ${lastError}\n`);
    }
  });

  const log = (s: string) => {
    if (!o.quiet) process.stdout.write(`${s}\n`);
  };
  log(
    `cnx-sim: ${city.devices.length} device(s) of ${city.cityId} -> ${o.mqtt}, scenario ${o.scenario}, seed ${o.seed}, ` +
      `x${o.timeScale}, from ${formatLocal(simStart, utcOffsetMin)}` +
      (o.fault.length ? `, ${o.fault.length} fault(s)` : ''),
  );
  if (city.skipped.length)
    log(`  not run here: ${city.skipped.join(', ')} (canal Modbus stations: \`canal\` or \`fleet\`)`);
  log(
    clientIdSuffix === undefined
      ? '  MQTT client id = device id (as real firmware): another client of the same device takes over its session'
      : `  MQTT client ids <deviceId>@${clientIdSuffix} (runs beside other clients of the same devices)`,
  );
  // Publish rate is devices x time-scale / interval: make a surprising number visible before it hurts.
  const intervals = city.devices.map((d) => (o.interval ? parseDuration(o.interval) : deviceIntervalMs(d)));
  const rate = intervals.reduce((sum, ms) => sum + (o.timeScale * 1000) / ms, 0);
  log(
    `  ~${rate < 10 ? rate.toFixed(2) : Math.round(rate)} telemetry msg/s (time-scale / interval, summed over devices; ` +
      `interval ${o.interval ?? "each device's cadence from the city pack"})`,
  );

  if (o.username === undefined) {
    const busy = await devicesOnline(
      o.mqtt,
      city.cityId,
      city.devices.map((d) => d.id),
    );
    if (busy.length)
      process.stderr.write(
        `[cnx-sim] warning: already online on this broker (another client plays them, e.g. the npm start fleet): ` +
          `${busy.join(', ')}. The gateway will see their readings and yours as one device's (interleaved values, ` +
          'seq_duplicate, no stuck run): drive devices nobody else plays, e.g. CNX_SIM_FLEET=off npm start\n',
      );
  }
  await fleet.start();
  const status = createStatusReporter({
    fleet,
    out: process.stdout,
    intervalMs: parseDuration(o.statusInterval),
    utcOffsetMin,
  });
  if (!o.quiet) status.start();

  let signalled = false;
  const onSignal = (sig: NodeJS.Signals) => {
    if (signalled) {
      process.stderr.write(`\n[cnx-sim] second ${sig}: exiting without clean shutdown\n`);
      process.exit(130);
    }
    signalled = true;
    void fleet.stop();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  const reason = await fleet.finished;
  await fleet.stop(); // retained offline status, DISCONNECT, timers cleared
  status.stop();
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);

  const stats = fleet.stats();
  process.stdout.write(
    `${o.quiet ? summaryText(stats, utcOffsetMin).split('\n').slice(0, 2).join('\n') : summaryText(stats, utcOffsetMin)}\n`,
  );
  if (o.jsonSummary) await writeFile(o.jsonSummary, `${JSON.stringify(summaryDocument(stats), null, 2)}\n`);
  return reason === 'stopped' && !signalled ? 1 : 0;
}

async function list(o: { city: string; citiesDir?: string; json?: boolean }): Promise<void> {
  const city = await loadCityFleet(o.city, {}, o.citiesDir);
  const faults = Object.values(FAULTS).map((f) => ({
    mode: f.mode,
    description: f.description,
    main: f.mainKey,
    params: {
      after: `window start after the simulated start (${f.defaults.after})`,
      for: `window length (${f.defaults.for})`,
      every: 'repeat the window with this period (once)',
      ...Object.fromEntries(Object.entries(f.keys).map(([k, v]) => [k, v.help])),
    },
  }));
  const scenarios = Object.values(SCENARIOS).map((s) => ({ id: s.id, description: s.description, params: s.params }));
  if (o.json) {
    process.stdout.write(
      `${JSON.stringify({ city: city.cityId, devices: city.devices, skipped: city.skipped, faults, scenarios, malformedKinds: MALFORMED_KINDS }, null, 2)}\n`,
    );
    return;
  }
  const out: string[] = [`Devices of ${city.cityId} (${city.devices.length} simulatable):`];
  for (const d of city.devices) {
    out.push(`  ${d.id.padEnd(28)} ${d.model.padEnd(9)} station ${d.stationId} (${d.location.lat}, ${d.location.lon})`);
  }
  if (city.skipped.length) out.push(`  not simulated yet: ${city.skipped.join(', ')}`);
  out.push(
    '',
    `Device models: ${Object.keys(DEVICE_MODELS).join(', ')}`,
    '',
    'Fault modes (--fault deviceId|*:mode[:main][,key=value...]):',
  );
  for (const f of faults) {
    out.push(`  ${f.mode.padEnd(16)} ${f.description}`, `  ${''.padEnd(16)} main parameter: ${f.main}`);
    for (const [k, v] of Object.entries(f.params)) out.push(`  ${''.padEnd(18)}${k}: ${v}`);
  }
  out.push(`  malformed kinds: ${MALFORMED_KINDS.join(', ')}`, '', 'Scenarios (--scenario name[:key=value,...]):');
  for (const s of scenarios) {
    out.push(`  ${s.id.padEnd(8)} ${s.description}`);
    for (const [k, v] of Object.entries(s.params)) out.push(`  ${''.padEnd(10)}${k}: ${v}`);
  }
  process.stdout.write(`${out.join('\n')}\n`);
}

const program = new Command()
  .name('cnx-sim')
  .description('cnx-sense firmware simulator: virtual air-quality devices (MQTT) and canal stations (Modbus)')
  .showHelpAfterError();

program
  .command('run')
  .description('run a fleet of virtual devices from a city pack against an MQTT broker')
  .option('--city <id>', 'city pack id (cities/<id>/)', DEFAULT_CITY_ID)
  .option('--cities-dir <dir>', 'folder holding city packs (default: the repository cities/ or $CNX_CITIES_DIR)')
  .option('--mqtt <url>', 'broker URL (default: $MQTT_URL, else mqtt://127.0.0.1:$CNX_MQTT_PORT, port 1883 if unset)')
  .option('--username <name>', 'MQTT username (password from --password or $CNX_SIM_MQTT_PASSWORD)')
  .option('--password <secret>', 'MQTT password')
  .option(
    '--client-id-suffix <s>',
    'MQTT client ids are <deviceId>@<s> (default: a fresh sim-xxxxxx per run, so runs never take over each other)',
  )
  .option('--no-client-id-suffix', 'client id = device id, exactly as real firmware connects')
  .option('--scenario <spec>', `scenario: ${Object.keys(SCENARIOS).join('|')}, optionally name:key=value,...`, 'normal')
  .option('--seed <n>', 'random seed: same seed, same values', intArg('--seed', 0), 1)
  .option('--time-scale <x>', 'simulated seconds per real second (1440 = a day per minute)', numArg, 1)
  .option(
    '--interval <duration>',
    "reading interval of every device, simulated time (default: each device's intervalS in the city pack)",
    durationArg,
  )
  .option('--start <iso|-dur>', 'simulated start: ISO 8601 with offset, or a duration before now (-35m); default now')
  .option('--devices <ids>', 'comma-separated device ids (default: all simulatable devices)')
  .option('--limit <n>', 'at most n devices', intArg('--limit', 1))
  .option('--fault <spec>', 'deviceId|*:mode[:params], repeatable (see `list`)', faultArg, [])
  .addOption(new Option('--format <format>', 'payload format').choices(['json', 'senml', 'mixed']).default('json'))
  .option('--duration <duration>', 'stop after this much real time', durationArg)
  .option('--sim-duration <duration>', 'stop when this much simulated time has passed', durationArg)
  .option('--max-messages <n>', 'stop after n telemetry messages (fleet total)', intArg('--max-messages', 1))
  .option('--status-interval <duration>', 'status line period, real time', durationArg, '2s')
  .option('--buffer <n>', 'per-device buffer while disconnected, readings', intArg('--buffer', 1), 1000)
  .option('--quiet', 'no status line; only the final totals')
  .option('--json-summary <file>', 'write a JSON summary (per-device counts, seq and ts ranges)')
  .action(async (opts: RunOpts) => {
    opts.mqtt ??= defaultMqttUrl();
    process.exitCode = await run(opts);
  });

program
  .command('list')
  .description('list simulatable devices, fault modes and scenarios')
  .option('--city <id>', 'city pack id', DEFAULT_CITY_ID)
  .option('--cities-dir <dir>', 'folder holding city packs')
  .option('--json', 'machine-readable output')
  .action(list);

registerCanalCommands(program);
registerBackfillCommand(program);

program.parseAsync(process.argv).catch((e: unknown) => {
  process.stderr.write(`cnx-sim: ${(e as Error).message}\n`);
  process.exitCode = 1;
});
