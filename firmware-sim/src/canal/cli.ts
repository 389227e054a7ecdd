/**
 * CLI commands for canal stations, registered on the cnx-sim program by ../cli.ts:
 *
 *   cnx-sim canal --tcp-base-port 15020 --rtu /tmp/cnx-rtu --word-order CDAB --scenario flood --time-scale 60
 *   cnx-sim fleet --mqtt mqtt://127.0.0.1:1883 --tcp-base-port 15020     # air over MQTT + canal over Modbus
 */
import { writeFile } from 'node:fs/promises';
import { DEFAULT_CITY_ID } from '@cnx/city-pack';
import { registerMapIds, WORD_ORDERS, type WordOrder } from '@cnx/device-models';
import { type Command, InvalidArgumentError, Option } from 'commander';
import { loadCityFleet } from '../city';
import { defaultMqttUrl, parseStartArg, runClientIdSuffix } from '../cli/connect';
import { formatLocal, statusLine, summaryText } from '../cli/format';
import { FAULT_MODES, parseFaultArg } from '../faults';
import type { FaultSpec } from '../faults/types';
import { createFleet, type FleetFormat } from '../fleet';
import { utcOffsetMinutes } from '../util/clock';
import { parseDuration } from '../util/duration';
import { CANAL_FAULT_MODES, CANAL_FAULTS, type CanalFaultSpec, isCanalFaultMode, parseCanalFaultArg } from './faults';
import { type CanalFleet, createCanalFleet, loadCanalStations } from './fleet';
import { canalStatusLine, canalSummary, endpointLines } from './format';
import { CANAL_SCENARIOS } from './scenarios';

const intArg =
  (name: string, min: number, max = Number.MAX_SAFE_INTEGER) =>
  (v: string) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min || n > max)
      throw new InvalidArgumentError(`${name} must be an integer ${min}..${max}`);
    return n;
  };
const scaleArg = (v: string) => {
  const n = Number(v);
  if (!(n >= 0) || !Number.isFinite(n)) throw new InvalidArgumentError('must be a number >= 0 (0 freezes time)');
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
const collect =
  <T>(parse: (v: string) => T) =>
  (v: string, prev: T[]) => {
    try {
      return [...prev, parse(v)];
    } catch (e) {
      throw new InvalidArgumentError((e as Error).message);
    }
  };
const isWordOrder = (s: string): s is WordOrder => (WORD_ORDERS as readonly string[]).includes(s);
/** `CDAB` (every station) or `deviceId=DCBA` (one station). */
const wordOrderArg = collect((v: string) => {
  const eq = v.indexOf('=');
  const order = (eq < 0 ? v : v.slice(eq + 1)).toUpperCase();
  if (!isWordOrder(order)) throw new Error(`--word-order "${v}": use ${WORD_ORDERS.join('|')} or deviceId=ORDER`);
  return eq < 0 ? { order } : { device: v.slice(0, eq), order };
});
/** Mixed fleets take both kinds of fault: the mode names the fleet. */
const anyFaultArg = collect((v: string): { canal?: CanalFaultSpec; air?: FaultSpec } => {
  const mode = v.split(':')[1] ?? '';
  if (isCanalFaultMode(mode)) return { canal: parseCanalFaultArg(v) };
  if (!(FAULT_MODES as readonly string[]).includes(mode)) {
    throw new Error(
      `--fault "${v}": unknown mode "${mode}" (air: ${FAULT_MODES.join(', ')}; canal: ${CANAL_FAULT_MODES.join(', ')})`,
    );
  }
  return { air: parseFaultArg(v) };
});

interface TransportOpts {
  city: string;
  citiesDir?: string;
  tcp: boolean;
  tcpHost: string;
  tcpBasePort: number;
  rtu?: string;
  rtuMode: 'shared' | 'per-station';
  baud: number;
  parity: 'none' | 'even' | 'odd';
  lineSpeed: boolean;
  wordOrder: { device?: string; order: WordOrder }[];
  unitIdBase: number;
  unmapped: 'exception' | 'zero';
  seed: number;
  start?: string;
  duration?: string;
  simDuration?: string;
  statusInterval: string;
  quiet?: boolean;
  jsonEndpoints?: string;
}

function addTransportOptions(cmd: Command): Command {
  return cmd
    .option('--city <id>', 'city pack id (cities/<id>/)', DEFAULT_CITY_ID)
    .option('--cities-dir <dir>', 'folder holding city packs')
    .option('--tcp-host <host>', 'Modbus TCP listen address (0.0.0.0 for other machines)', '127.0.0.1')
    .option('--tcp-base-port <port>', 'station i listens on port+i', intArg('--tcp-base-port', 1, 65535), 15020)
    .option('--no-tcp', 'no Modbus TCP')
    .option('--rtu <dir>', 'also serve Modbus RTU on socat pty pairs in this folder (the master opens <dir>/canal-bus)')
    .addOption(
      new Option('--rtu-mode <mode>', 'one shared RS-485 bus, or one bus per station (<dir>/<deviceId>)')
        .choices(['shared', 'per-station'])
        .default('shared'),
    )
    .option('--baud <n>', 'RTU baud rate', intArg('--baud', 300, 921600), 9600)
    .addOption(new Option('--parity <p>', 'RTU parity').choices(['none', 'even', 'odd']).default('none'))
    .option('--no-line-speed', 'answer RTU at once instead of after the wire time at --baud')
    .option('--word-order <order>', `${WORD_ORDERS.join('|')} or deviceId=ORDER, repeatable`, wordOrderArg, [])
    .option('--unit-id-base <n>', 'unit id of the first station (then +1 each)', intArg('--unit-id-base', 1, 247), 1)
    .addOption(
      new Option('--unmapped <mode>', 'reads of unmapped addresses')
        .choices(['exception', 'zero'])
        .default('exception'),
    )
    .option('--seed <n>', 'random seed: same seed, same values', intArg('--seed', 0), 1)
    .option('--start <iso>', 'simulated start, ISO 8601 with offset (default: now)')
    .option('--duration <duration>', 'stop after this much real time', durationArg)
    .option('--sim-duration <duration>', 'stop when this much simulated time has passed', durationArg)
    .option('--status-interval <duration>', 'status line period, real time', durationArg, '10s')
    .option('--quiet', 'no status lines')
    .option('--json-endpoints <file>', 'write where each station listens as JSON (for scripts and gateway config)');
}

function canalFleetFrom(
  o: TransportOpts,
  stations: Awaited<ReturnType<typeof loadCanalStations>>['stations'],
  extra: { simStart: number; timeScale: number; utcOffsetMin: number; scenario: string; faults: CanalFaultSpec[] },
): CanalFleet {
  const wordOrders: Record<string, WordOrder> = {};
  let wordOrder: WordOrder | undefined;
  for (const w of o.wordOrder) {
    if (w.device) wordOrders[w.device] = w.order;
    else wordOrder = w.order;
  }
  return createCanalFleet({
    city: o.city,
    stations,
    seed: o.seed,
    ...extra,
    tcp: o.tcp ? { basePort: o.tcpBasePort, host: o.tcpHost } : false,
    rtu: o.rtu
      ? { dir: o.rtu, baudRate: o.baud, parity: o.parity, mode: o.rtuMode, emulateLineSpeed: o.lineSpeed }
      : undefined,
    wordOrder,
    wordOrders,
    unitIdBase: o.unitIdBase,
    unmapped: o.unmapped,
  });
}

/** Resolves on SIGINT/SIGTERM (a second signal exits at once) or `until` returning true (polled). */
function waitForEnd(until: () => boolean): { done: Promise<'signal' | 'bound'>; cleanup(): void } {
  let timer: ReturnType<typeof setInterval> | undefined;
  let signalled = false;
  let resolveDone: (r: 'signal' | 'bound') => void = () => {};
  const done = new Promise<'signal' | 'bound'>((r) => {
    resolveDone = r;
  });
  const onSignal = (sig: NodeJS.Signals) => {
    if (signalled) {
      process.stderr.write(`\n[cnx-sim] second ${sig}: exiting without clean shutdown\n`);
      process.exit(130);
    }
    signalled = true;
    resolveDone('signal');
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  timer = setInterval(() => {
    if (until()) resolveDone('bound');
  }, 100);
  return {
    done,
    cleanup() {
      if (timer) clearInterval(timer);
      timer = undefined;
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  };
}

interface CanalOpts extends TransportOpts {
  devices?: string;
  limit?: number;
  scenario: string;
  timeScale: number;
  fault: CanalFaultSpec[];
  list?: boolean;
}

async function runCanal(o: CanalOpts): Promise<number> {
  const out = (s: string) => process.stdout.write(`${s}\n`);
  const city = await loadCanalStations(
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
  if (o.list) {
    out(`Canal stations of ${city.cityId}:`);
    for (const s of city.stations) out(`  ${s.id.padEnd(28)} ${s.model}  ${s.name ?? s.stationId}`);
    out(`Register maps: ${registerMapIds().join(', ')}`);
    out('Canal faults (--fault deviceId|*:mode[:main][,key=value...]; after/for/every windows):');
    for (const f of Object.values(CANAL_FAULTS)) out(`  ${f.mode.padEnd(16)} ${f.description} (main: ${f.mainKey})`);
    out('Canal scenarios (--scenario name[:key=value,...]):');
    for (const s of Object.values(CANAL_SCENARIOS)) {
      out(`  ${s.id.padEnd(8)} ${s.description}`);
      for (const [k, v] of Object.entries(s.params)) out(`  ${''.padEnd(10)}${k}: ${v}`);
    }
    return 0;
  }
  if (city.stations.length === 0) throw new Error(`city ${o.city}: no canal stations selected`);
  if (!o.tcp && !o.rtu) throw new Error('nothing to serve: --no-tcp without --rtu');
  const simStart = parseStartArg(o.start);
  const utcOffsetMin = utcOffsetMinutes(city.timezone, simStart);
  const fleet = canalFleetFrom(o, city.stations, {
    simStart,
    timeScale: o.timeScale,
    utcOffsetMin,
    scenario: o.scenario,
    faults: o.fault,
  });
  out(
    `cnx-sim canal: ${city.stations.length} station(s) of ${city.cityId}, scenario ${o.scenario}, seed ${o.seed}, ` +
      `${o.timeScale === 0 ? 'time frozen' : `x${o.timeScale}`} at ${formatLocal(simStart, utcOffsetMin)}` +
      (o.fault.length ? `, ${o.fault.length} fault(s)` : ''),
  );
  await fleet.start();
  for (const line of endpointLines(fleet.endpoints)) out(line);
  if (o.jsonEndpoints) await writeFile(o.jsonEndpoints, `${JSON.stringify(fleet.endpoints, null, 2)}\n`);
  out(`ready: ${fleet.stations.length} canal station(s) serving Modbus (Ctrl-C stops)`);
  const realStart = Date.now();
  const simEnd = o.simDuration === undefined ? Number.POSITIVE_INFINITY : simStart + parseDuration(o.simDuration);
  const realEnd = o.duration === undefined ? Number.POSITIVE_INFINITY : realStart + parseDuration(o.duration);
  const status = o.quiet
    ? undefined
    : setInterval(() => out(canalStatusLine(fleet, utcOffsetMin, o.timeScale)), parseDuration(o.statusInterval));
  const end = waitForEnd(() => fleet.now() >= simEnd || Date.now() >= realEnd);
  const why = await end.done;
  end.cleanup();
  if (status) clearInterval(status);
  await fleet.stop();
  out(
    `finished: ${why === 'signal' ? 'stopped' : 'bound reached'} after ${((Date.now() - realStart) / 1000).toFixed(1)} s real`,
  );
  out(canalSummary(fleet));
  return 0;
}

interface MixedOpts extends TransportOpts {
  mqtt: string;
  username?: string;
  password?: string;
  airScenario: string;
  canalScenario: string;
  interval?: string;
  clientIdSuffix?: string | false;
  timeScale: number;
  airLimit?: number;
  canalLimit?: number;
  format: FleetFormat;
  fault: { canal?: CanalFaultSpec; air?: FaultSpec }[];
}

async function runMixed(o: MixedOpts): Promise<number> {
  const out = (s: string) => process.stdout.write(`${s}\n`);
  if (!(o.timeScale > 0)) throw new Error('--time-scale must be > 0 for a mixed fleet (air devices publish in time)');
  const simStart = parseStartArg(o.start);
  const air = await loadCityFleet(o.city, { limit: o.airLimit }, o.citiesDir);
  const canal = await loadCanalStations(o.city, { limit: o.canalLimit }, o.citiesDir);
  const utcOffsetMin = utcOffsetMinutes(air.timezone, simStart);
  const airFleet = createFleet({
    city: air.cityId,
    devices: air.devices,
    mqtt: { url: o.mqtt, username: o.username, password: o.password ?? process.env.CNX_SIM_MQTT_PASSWORD },
    scenario: o.airScenario,
    seed: o.seed,
    timeScale: o.timeScale,
    interval: o.interval,
    clientIdSuffix: o.clientIdSuffix === false ? undefined : (o.clientIdSuffix ?? runClientIdSuffix()),
    simStart,
    utcOffsetMin,
    format: o.format,
    faults: o.fault.flatMap((f) => (f.air ? [f.air] : [])),
    duration: o.duration,
    simDuration: o.simDuration,
  });
  const canalFleet = canalFleetFrom(o, canal.stations, {
    simStart,
    timeScale: o.timeScale,
    utcOffsetMin,
    scenario: o.canalScenario,
    faults: o.fault.flatMap((f) => (f.canal ? [f.canal] : [])),
  });
  let errors = 0;
  airFleet.on('error', () => {
    errors++;
  });
  out(
    `cnx-sim fleet: ${air.devices.length} air device(s) -> ${o.mqtt} (scenario ${o.airScenario}), ` +
      `${canal.stations.length} canal station(s) over Modbus (scenario ${o.canalScenario}), seed ${o.seed}, ` +
      `x${o.timeScale} from ${formatLocal(simStart, utcOffsetMin)}`,
  );
  await canalFleet.start();
  try {
    await airFleet.start();
  } catch (e) {
    await canalFleet.stop();
    throw e;
  }
  for (const line of endpointLines(canalFleet.endpoints)) out(line);
  if (o.jsonEndpoints) await writeFile(o.jsonEndpoints, `${JSON.stringify(canalFleet.endpoints, null, 2)}\n`);
  out(
    `ready: ${air.devices.length} air device(s) publishing, ${canal.stations.length} canal station(s) serving Modbus`,
  );
  const status = o.quiet
    ? undefined
    : setInterval(() => {
        out(statusLine(airFleet.stats(), utcOffsetMin) + (errors ? ` | mqtt errors ${errors}` : ''));
        out(canalStatusLine(canalFleet, utcOffsetMin, o.timeScale));
      }, parseDuration(o.statusInterval));
  let finished = false;
  void airFleet.finished.then(() => {
    finished = true;
  });
  const end = waitForEnd(() => finished);
  await end.done;
  end.cleanup();
  if (status) clearInterval(status);
  await airFleet.stop();
  await canalFleet.stop();
  out(summaryText(airFleet.stats(), utcOffsetMin));
  out(canalSummary(canalFleet));
  return 0;
}

export function registerCanalCommands(program: Command): void {
  addTransportOptions(
    program
      .command('canal')
      .description("serve the city pack's canal stations as Modbus TCP servers and RTU slaves (socat ptys)"),
  )
    .option('--devices <ids>', 'comma-separated canal device ids (default: all)')
    .option('--limit <n>', 'at most n stations', intArg('--limit', 1))
    .option('--scenario <spec>', `canal scenario: ${Object.keys(CANAL_SCENARIOS).join('|')}[:key=value,...]`, 'normal')
    .option(
      '--time-scale <x>',
      'simulated seconds per real second; 0 freezes time (compare with a master)',
      scaleArg,
      1,
    )
    .option('--fault <spec>', 'deviceId|*:mode[:params], repeatable (see --list)', collect(parseCanalFaultArg), [])
    .option('--list', 'list canal stations, register maps, faults and scenarios, then exit')
    .action(async (opts: CanalOpts) => {
      process.exitCode = await runCanal(opts);
    });

  addTransportOptions(
    program
      .command('fleet')
      .description('a mixed fleet: air devices over MQTT and canal stations over Modbus, one clock'),
  )
    .option('--mqtt <url>', 'broker URL (default: $MQTT_URL, else mqtt://127.0.0.1:$CNX_MQTT_PORT, port 1883 if unset)')
    .option('--username <name>', 'MQTT username (password from --password or $CNX_SIM_MQTT_PASSWORD)')
    .option('--password <secret>', 'MQTT password')
    .option('--client-id-suffix <s>', 'MQTT client ids <deviceId>@<s> (default: a fresh sim-xxxxxx per run)')
    .option('--no-client-id-suffix', 'client id = device id, exactly as real firmware connects')
    .option('--air-scenario <spec>', 'air scenario (see `list`)', 'normal')
    .option('--canal-scenario <spec>', 'canal scenario (see `canal --list`)', 'normal')
    .option(
      '--interval <duration>',
      "air reading interval, simulated time (default: each device's intervalS in the city pack)",
      durationArg,
    )
    .option('--time-scale <x>', 'simulated seconds per real second (> 0)', scaleArg, 1)
    .option('--air-limit <n>', 'at most n air devices', intArg('--air-limit', 1))
    .option('--canal-limit <n>', 'at most n canal stations', intArg('--canal-limit', 1))
    .addOption(
      new Option('--format <format>', 'air payload format').choices(['json', 'senml', 'mixed']).default('json'),
    )
    .option(
      '--fault <spec>',
      'deviceId|*:mode[:params]: air modes (see `list`) or canal modes, repeatable',
      anyFaultArg,
      [],
    )
    .action(async (opts: MixedOpts) => {
      opts.mqtt ??= defaultMqttUrl();
      process.exitCode = await runMixed(opts);
    });
}
