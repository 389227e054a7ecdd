/**
 * The Modbus bench: the gateway's poller next to a naive sequential modbus-serial loop, in the same run.
 *
 *   npm run bench:modbus -w @cnx/bench
 *   npm run bench:modbus -w @cnx/bench -- --devices 50 --duration 8 --rtu-devices 5 --rtu-duration 10 --baud 9600
 *
 * 1. TCP loopback: `--devices` simulated canal stations (@cnx/firmware-sim, one Modbus TCP port each,
 *    hosted by a child process so their CPU is not ours), polled as fast as possible for `--duration`
 *    seconds by (a) the naive loop, (b) the poller with a no-op ingest, (c) the poller feeding the real
 *    ingest pipeline (QC, JSON, spool append + flush per reading, bus publish to a no-op).
 * 2. RTU at `--baud` through a socat pty pair: `--rtu-devices` stations on one shared line whose wire
 *    time the simulator emulates, the line saturated by the poller and by the naive loop, against the
 *    wire-time ceiling computed from the frame sizes; then the same without line-speed emulation (what
 *    the software alone can do).
 * 3. Recovery per fault kind: stations scripted to fail (timeout, busy, exception, dropped connections,
 *    offline, bad CRC) for a window; time from the end of the window to the first accepted reading.
 *
 * Prints tables and writes bench/results/modbus-<timestamp>.json. See docs/performance.md ("Modbus").
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { loadCityPack, resolveCityDir, writeSyntheticCityPack } from '@cnx/city-pack';
import { loadRegisterMap } from '@cnx/device-models';
import type { CanalEndpoint, CanalFaultSpec } from '@cnx/firmware-sim';
import { freePort, makeTempDir, removeDir } from '@cnx/testkit';
import type { HostFleetSpec, HostReady, HostSpec } from './modbus-host';
import { type NaiveResult, naiveRtu, naiveTcp } from './modbus-naive';
import { type PollerRun, rtuCeiling, runPoller } from './modbus-poller';

const BENCH_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const CITY = 'modbench';

const { values: args } = parseArgs({
  options: {
    devices: { type: 'string', default: '50' },
    duration: { type: 'string', default: '8' },
    'rtu-devices': { type: 'string', default: '5' },
    'rtu-duration': { type: 'string', default: '10' },
    baud: { type: 'string', default: '9600' },
    'interval-ms': { type: 'string', default: '2' },
    'rtu-interval-ms': { type: 'string', default: '50' },
    'no-recovery': { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
});
if (args.help) {
  console.log(
    'npm run bench:modbus -w @cnx/bench -- [--devices 50] [--duration 8] [--rtu-devices 5] [--rtu-duration 10] [--baud 9600] [--interval-ms 2] [--no-recovery]',
  );
  process.exit(0);
}
const N = Number(args.devices);
const DURATION_MS = Number(args.duration) * 1000;
const RTU_N = Number(args['rtu-devices']);
const RTU_DURATION_MS = Number(args['rtu-duration']) * 1000;
const BAUD = Number(args.baud);
/**
 * Poll intervals used to saturate: below what a device (TCP) or the shared line (RTU: 5 devices every
 * 50 ms ask for 100 requests/s, ~4x the 9600-baud ceiling) can serve, so every slot is taken.
 */
const SATURATE_MS = Number(args['interval-ms']);
const RTU_SATURATE_MS = Number(args['rtu-interval-ms']);

/** `n` consecutive free loopback ports (a fleet listens on basePort + i). */
async function freeBasePort(n: number): Promise<number> {
  const free = (port: number) =>
    new Promise<boolean>((res) => {
      const s = createServer();
      s.once('error', () => res(false));
      s.listen({ host: '127.0.0.1', port, exclusive: true }, () => s.close(() => res(true)));
    });
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = await freePort();
    let ok = base + n < 65_536;
    for (let i = 1; ok && i < n; i++) ok = await free(base + i);
    if (ok) return base;
  }
  throw new Error(`no ${n} consecutive free ports`);
}

async function startHost(spec: HostSpec): Promise<{ child: ChildProcess; ready: HostReady }> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', join(BENCH_DIR, 'src', 'modbus-host.ts'), JSON.stringify(spec)],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
      cwd: BENCH_DIR,
    },
  );
  const ready = await new Promise<HostReady>((res, rej) => {
    let out = '';
    const timer = setTimeout(() => rej(new Error('modbus-host did not start within 30 s')), 30_000);
    child.stdout?.on('data', (d) => {
      out += String(d);
      const line = out.split('\n').find((l) => l.startsWith('READY '));
      if (line) {
        clearTimeout(timer);
        res(JSON.parse(line.slice(6)) as HostReady);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      rej(new Error(`modbus-host exited with ${code}`));
    });
  });
  return { child, ready };
}

const fmt = (n: number, d = 0) => n.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d });
const pad = (s: string, w: number) => (s.length >= w ? s : s + ' '.repeat(w - s.length));
const lpad = (s: string, w: number) => (s.length >= w ? s : ' '.repeat(w - s.length) + s);
function table(head: string[], rows: string[][]): string {
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) => r.map((c, i) => (i === 0 ? pad(c, w[i]!) : lpad(c, w[i]!))).join('  ');
  return [line(head), w.map((x) => '-'.repeat(x)).join('  '), ...rows.map(line)].join('\n');
}

const naiveRow = (name: string, r: NaiveResult) => ({
  system: name,
  pollsPerSec: (r.polls * 1000) / r.elapsedMs,
  polls: r.polls,
  errors: r.errors,
  cpuUsPerPoll: r.polls ? r.cpuUs / r.polls : 0,
  rttP50Ms: undefined as number | undefined,
  rttP99Ms: undefined as number | undefined,
});
const pollerRow = (name: string, r: PollerRun) => ({
  system: name,
  pollsPerSec: (r.ok * 1000) / r.elapsedMs,
  polls: r.ok,
  errors: r.failed,
  cpuUsPerPoll: r.ok ? r.cpuUs / r.ok : 0,
  rttP50Ms: r.rttP50Ms,
  rttP99Ms: r.rttP99Ms,
});
type Row = ReturnType<typeof naiveRow>;
const throughputTable = (rows: Row[]) =>
  table(
    ['system', 'polls/s', 'polls', 'errors', 'CPU µs/poll', 'RTT p50 ms', 'RTT p99 ms'],
    rows.map((r) => [
      r.system,
      fmt(r.pollsPerSec, 1),
      fmt(r.polls),
      fmt(r.errors),
      fmt(r.cpuUsPerPoll, 1),
      r.rttP50Ms === undefined ? '-' : fmt(r.rttP50Ms, 2),
      r.rttP99Ms === undefined ? '-' : fmt(r.rttP99Ms, 2),
    ]),
  );

async function main(): Promise<void> {
  const tmp = await makeTempDir('cnx-modbus-bench-');
  const citiesDir = join(tmp, 'cities');
  const faultDevices = args['no-recovery'] ? 0 : 7;
  const total = Math.max(N, RTU_N, faultDevices);
  await writeSyntheticCityPack(join(citiesDir, CITY), { id: CITY, airStations: 0, canalStations: total });
  const loaded = await loadCityPack(resolveCityDir(CITY, citiesDir));
  if (!loaded.ok) throw new Error('synthetic city pack invalid');
  const pack = loaded.value;
  const ids = pack.devices.map((d) => d.id);
  const map = loadRegisterMap('cnx-canal-probe-v1');

  // Fault windows of the recovery run (simulated time = real time from the host's start).
  const FAULT_AFTER = 4000;
  const FAULT_FOR = 5000;
  const faultKinds: { label: string; transport: 'tcp' | 'rtu'; spec: Omit<CanalFaultSpec, 'device'> }[] = [
    { label: 'timeout', transport: 'tcp', spec: { mode: 'timeout' } },
    { label: 'busy (exception 6)', transport: 'tcp', spec: { mode: 'busy' } },
    { label: 'exception 4', transport: 'tcp', spec: { mode: 'exception', code: 4 } },
    { label: 'dropped connection', transport: 'tcp', spec: { mode: 'drop-connection' } },
    { label: 'offline (port closed)', transport: 'tcp', spec: { mode: 'offline' } },
    { label: 'bad CRC', transport: 'rtu', spec: { mode: 'bad-crc' } },
    { label: 'timeout', transport: 'rtu', spec: { mode: 'timeout' } },
  ].slice(0, faultDevices) as never;
  const throughputFleets: HostFleetSpec[] = [
    { name: 'tcp', devices: ids.slice(0, N), tcpBasePort: await freeBasePort(N) },
    {
      name: 'rtu-line',
      devices: ids.slice(0, RTU_N),
      rtu: { dir: join(tmp, 'rtu-line'), baudRate: BAUD, emulateLineSpeed: true },
    },
    {
      name: 'rtu-raw',
      devices: ids.slice(0, RTU_N),
      rtu: { dir: join(tmp, 'rtu-raw'), baudRate: BAUD, emulateLineSpeed: false },
    },
  ];
  const faultFleets: HostFleetSpec[] = [];
  if (faultDevices) {
    const tcpFaults = faultKinds.filter((f) => f.transport === 'tcp').length;
    faultFleets.push(
      {
        name: 'faults-tcp',
        devices: ids.slice(0, tcpFaults),
        tcpBasePort: await freeBasePort(tcpFaults),
        live: true,
        faults: faultKinds
          .filter((f) => f.transport === 'tcp')
          .map((f, i) => ({ ...f.spec, device: ids[i]!, after: FAULT_AFTER, for: FAULT_FOR })),
      },
      {
        name: 'faults-rtu',
        devices: ids.slice(tcpFaults, faultDevices),
        rtu: { dir: join(tmp, 'faults-rtu'), baudRate: BAUD, emulateLineSpeed: true },
        live: true,
        faults: faultKinds
          .filter((f) => f.transport === 'rtu')
          .map((f, i) => ({ ...f.spec, device: ids[tcpFaults + i]!, after: FAULT_AFTER, for: FAULT_FOR })),
      },
    );
  }
  console.log(`modbus bench: ${total} simulated canal stations, hosted by a child process`);
  let host = await startHost({ citiesDir, city: CITY, fleets: throughputFleets });
  const fleet = (name: string) => host.ready.fleets.find((f) => f.name === name)!;
  const block = { ...map, registers: map.registers.filter((r) => r.metric || r.name === map.status?.register) };
  const [readBlock] = (await import('@cnx/device-models')).planReads(block);
  if (!readBlock) throw new Error('no read block');

  const results: Record<string, unknown> = {};
  try {
    // 1. TCP loopback -------------------------------------------------------------------------
    const tcpEps = fleet('tcp').endpoints;
    const tcpTargets = tcpEps.map((e) => ({ deviceId: e.deviceId, unitId: e.unitId, tcp: e.tcp! }));
    console.log(`\nTCP loopback, ${N} devices, ${DURATION_MS / 1000} s each (11-register read + decode per poll)`);
    const tcpRows: Row[] = [];
    tcpRows.push(
      naiveRow(
        'naive sequential loop',
        await naiveTcp(
          tcpTargets.map((t) => ({ ...t.tcp, unitId: t.unitId })),
          readBlock,
          DURATION_MS,
        ),
      ),
    );
    const pollerOpts = {
      pack,
      intervalMs: SATURATE_MS,
      timeoutMs: 1000,
      retries: 1,
      durationMs: DURATION_MS,
      warmupMs: 1000,
    };
    tcpRows.push(
      pollerRow('poller, no-op ingest', await runPoller({ ...pollerOpts, tcp: tcpTargets, ingest: 'noop' })),
    );
    tcpRows.push(
      pollerRow('poller + pipeline + spool', await runPoller({ ...pollerOpts, tcp: tcpTargets, ingest: 'pipeline' })),
    );
    console.log(throughputTable(tcpRows));
    results.tcp = { devices: N, durationMs: DURATION_MS, saturateIntervalMs: SATURATE_MS, rows: tcpRows };

    // 2. RTU through socat -------------------------------------------------------------------
    const ceiling8n1 = rtuCeiling(readBlock.length, BAUD, 10);
    const ceiling11 = rtuCeiling(readBlock.length, BAUD, 11);
    console.log(
      `\nRTU, ${RTU_N} devices on one line at ${BAUD} baud 8N1 (socat pty pair), ${RTU_DURATION_MS / 1000} s each`,
    );
    console.log(
      `ceiling per request = (request 8 + response 5 + 2 x ${readBlock.length} registers) chars x bits/char / baud + 2 x t3.5`,
    );
    for (const c of [ceiling8n1, ceiling11]) {
      console.log(
        `  ${c.bitsPerChar} bits/char: (8 + ${5 + 2 * readBlock.length}) x ${c.bitsPerChar} / ${BAUD} s = ${fmt(c.wireMs, 2)} ms + 2 x ${fmt(c.t35Ms, 2)} ms = ${fmt(c.perRequestMs, 2)} ms -> ${fmt(c.perSecond, 2)} requests/s`,
      );
    }
    const rtuRows: (Row & { line: string; ofCeiling?: number })[] = [];
    for (const [name, line] of [
      ['rtu-line', `${BAUD} baud emulated`],
      ['rtu-raw', 'no line-speed emulation'],
    ] as const) {
      const eps = fleet(name).endpoints;
      const path = eps[0]!.rtu!.path;
      const units = eps.map((e) => e.unitId);
      const naive = naiveRow('naive sequential loop', await naiveRtu(path, BAUD, units, readBlock, RTU_DURATION_MS));
      const poller = pollerRow(
        'poller',
        await runPoller({
          pack,
          // The emulated line is saturated at 50 ms; without emulation only the software limits.
          intervalMs: name === 'rtu-line' ? RTU_SATURATE_MS : SATURATE_MS,
          timeoutMs: 500,
          retries: 1,
          durationMs: RTU_DURATION_MS,
          warmupMs: 1000,
          rtu: { path, baudRate: BAUD, devices: eps.map((e) => ({ deviceId: e.deviceId, unitId: e.unitId })) },
          ingest: 'noop',
        }),
      );
      for (const r of [naive, poller]) {
        const row = { ...r, line, system: `${r.system} (${line})` };
        if (name === 'rtu-line') (row as { ofCeiling?: number }).ofCeiling = r.pollsPerSec / ceiling8n1.perSecond;
        rtuRows.push(row);
      }
    }
    console.log(
      table(
        ['system', 'requests/s', 'of 8N1 ceiling', 'errors', 'CPU µs/req', 'RTT p50 ms', 'RTT p99 ms'],
        rtuRows.map((r) => [
          r.system,
          fmt(r.pollsPerSec, 2),
          r.ofCeiling === undefined ? '-' : `${fmt(r.ofCeiling * 100, 1)} %`,
          fmt(r.errors),
          fmt(r.cpuUsPerPoll, 1),
          r.rttP50Ms === undefined ? '-' : fmt(r.rttP50Ms, 2),
          r.rttP99Ms === undefined ? '-' : fmt(r.rttP99Ms, 2),
        ]),
      ),
    );
    console.log(
      'note: the naive loop sends the next request as soon as an answer is in; the poller first keeps the t3.5 silence the spec requires.',
    );
    results.rtu = {
      devices: RTU_N,
      baudRate: BAUD,
      registers: readBlock.length,
      durationMs: RTU_DURATION_MS,
      ceiling: { '8N1': ceiling8n1, '11-bit': ceiling11 },
      rows: rtuRows,
    };

    // 3. Recovery per fault kind ----------------------------------------------------------------
    if (faultDevices) {
      // A fresh host: the fault windows are timed from its start.
      host.child.kill('SIGTERM');
      await new Promise((r) => host.child.once('exit', r));
      host = await startHost({ citiesDir, city: CITY, fleets: faultFleets });
      const settings = { intervalMs: 1000, timeoutMs: 300, retries: 1, maxBackoffMs: 4000, offlineAfterMs: 3000 };
      console.log(
        `\nRecovery: fault window ${FAULT_AFTER / 1000}-${(FAULT_AFTER + FAULT_FOR) / 1000} s; poller interval ${settings.intervalMs} ms, timeout ${settings.timeoutMs} ms, retries ${settings.retries}, backoff cap ${settings.maxBackoffMs} ms`,
      );
      const ft = fleet('faults-tcp');
      const fr = fleet('faults-rtu');
      const start = Math.min(ft.simStart, fr.simStart);
      const run = await runPoller({
        pack,
        ...settings,
        durationMs: Math.max(0, FAULT_AFTER + FAULT_FOR + 9000 - (Date.now() - start)),
        tcp: ft.endpoints.map((e: CanalEndpoint) => ({ deviceId: e.deviceId, unitId: e.unitId, tcp: e.tcp! })),
        rtu: {
          path: fr.endpoints[0]!.rtu!.path,
          baudRate: BAUD,
          devices: fr.endpoints.map((e) => ({ deviceId: e.deviceId, unitId: e.unitId })),
        },
        ingest: 'record',
      });
      const tcpFaults = faultKinds.filter((f) => f.transport === 'tcp').length;
      const rows = faultKinds.map((f, i) => {
        const deviceId = ids[i]!;
        const simStart = i < tcpFaults ? ft.simStart : fr.simStart;
        const from = simStart + FAULT_AFTER;
        const to = from + FAULT_FOR;
        const ts = run.accepted.get(deviceId) ?? [];
        const firstAfter = ts.find((t) => t >= to);
        const h = run.health.find((x) => x.device === deviceId);
        return {
          fault: f.label,
          transport: f.transport,
          recoveryMs: firstAfter === undefined ? null : firstAfter - to,
          errors: h?.errors ?? {},
          offlineEvents: run.events.filter((e) => e.device === deviceId && e.event === 'device-offline').length,
          onlineEvents: run.events.filter((e) => e.device === deviceId && e.event === 'device-online').length,
        };
      });
      console.log(
        table(
          ['fault', 'transport', 'recovery ms', 'errors counted', 'offline/online events'],
          rows.map((r) => [
            r.fault,
            r.transport,
            r.recoveryMs === null ? 'not recovered' : fmt(r.recoveryMs),
            Object.entries(r.errors)
              .filter(([, n]) => (n as number) > 0)
              .map(([k, n]) => `${k} ${n}`)
              .join(', ') || '-',
            `${r.offlineEvents}/${r.onlineEvents}`,
          ]),
        ),
      );
      results.recovery = { faultAfterMs: FAULT_AFTER, faultForMs: FAULT_FOR, settings, rows };
    }
  } finally {
    if (host.child.exitCode === null) {
      host.child.kill('SIGTERM');
      await new Promise((r) => host.child.once('exit', r));
    }
    await removeDir(tmp);
  }

  const out = join(BENCH_DIR, 'results', `modbus-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  await mkdir(dirname(out), { recursive: true });
  await writeFile(
    out,
    `${JSON.stringify({ bench: 'modbus', at: new Date().toISOString(), machine: { cpus: os.cpus().length, cpu: os.cpus()[0]?.model, node: process.version }, ...results }, null, 2)}\n`,
  );
  console.log(`\nwrote ${out}`);
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
