import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type MosquittoHandle, startMosquitto } from '@cnx/testkit';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type CanalEndpoint, createCanalFleet, loadCanalStations } from '../src/canal';
import { closeTo6, mbpoll, SIM_START } from './canal-helpers';

const CLI = fileURLToPath(new URL('../src/cli.ts', import.meta.url));

interface Run {
  child: ChildProcess;
  output: () => string;
  exit: Promise<number | null>;
}
const running: Run[] = [];

function runCli(args: string[]): Run {
  const child = spawn(process.execPath, ['--import', 'tsx', CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout?.on('data', (d) => {
    out += String(d);
  });
  child.stderr?.on('data', (d) => {
    out += String(d);
  });
  const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const run = { child, output: () => out, exit };
  running.push(run);
  return run;
}

/** n consecutive free loopback ports (checked by binding each). */
async function freePortRange(n: number): Promise<number> {
  const canBind = (port: number) =>
    new Promise<boolean>((resolve) => {
      const s = createServer();
      s.once('error', () => resolve(false));
      s.listen({ host: '127.0.0.1', port, exclusive: true }, () => s.close(() => resolve(true)));
    });
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = 20000 + Math.floor(Math.random() * 30000);
    let ok = true;
    for (let i = 0; i < n && ok; i++) ok = await canBind(base + i);
    if (ok) return base;
  }
  throw new Error(`no ${n} consecutive free ports found`);
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cnx-canal-cli-'));
});
afterAll(async () => {
  for (const r of running) if (r.child.exitCode === null) r.child.kill('SIGKILL');
  await rm(dir, { recursive: true, force: true });
});

describe('cnx-sim canal', () => {
  it('serves the city’s canal stations over TCP and one RTU bus, as listed, until SIGTERM', async () => {
    const base = await freePortRange(5);
    const rtuDir = join(dir, 'rtu');
    const endpointsFile = join(dir, 'endpoints.json');
    const start = new Date(SIM_START).toISOString();
    const run = runCli([
      'canal',
      '--time-scale=0',
      `--start=${start}`,
      `--tcp-base-port=${base}`,
      `--rtu=${rtuDir}`,
      '--word-order=CDAB',
      '--word-order=cm-canal-padaet-probe=DCBA',
      '--fault=cm-canal-pratukom-probe:busy',
      `--json-endpoints=${endpointsFile}`,
      '--quiet',
    ]);
    await vi.waitFor(() => expect(run.output()).toMatch(/^ready: 5 canal station/m), { timeout: 20_000, interval: 50 });
    expect(run.output()).toMatch(/cm-canal-rakaeng-probe\s+unit 3\s+tcp 127\.0\.0\.1:\d+\s+rtu \S+canal-bus 9600 8N1/);
    const endpoints = JSON.parse(await readFile(endpointsFile, 'utf8')) as CanalEndpoint[];
    expect(endpoints.map((e) => [e.deviceId, e.unitId, e.tcp?.port, e.wordOrder])).toEqual([
      ['cm-canal-changphueak-probe', 1, base, 'CDAB'],
      ['cm-canal-sriphum-probe', 2, base + 1, 'CDAB'],
      ['cm-canal-rakaeng-probe', 3, base + 2, 'CDAB'],
      ['cm-canal-pratukom-probe', 4, base + 3, 'CDAB'],
      ['cm-canal-padaet-probe', 5, base + 4, 'DCBA'],
    ]);

    // The same stations, computed in this process: what the CLI must be serving.
    const { stations } = await loadCanalStations('chiang-mai');
    const expected = createCanalFleet({ city: 'chiang-mai', stations, simStart: SIM_START, timeScale: 0, tcp: false });
    const rakaeng = expected.station('cm-canal-rakaeng-probe').valuesAt();
    const tcp = await mbpoll([
      '-m',
      'tcp',
      '-p',
      String(base + 2),
      '-a',
      '3',
      '-0',
      '-t',
      '4:float',
      '-r',
      '5',
      '-c',
      '3',
      '127.0.0.1',
    ]);
    expect(tcp.code, tcp.output).toBe(0);
    expect(closeTo6(tcp.values.get(5), rakaeng.do!)).toBe(true);
    expect(closeTo6(tcp.values.get(9), rakaeng.turbidity!)).toBe(true);
    const bus = endpoints[0]!.rtu!.path;
    const rtu = await mbpoll([
      '-m',
      'rtu',
      '-b',
      '9600',
      '-P',
      'none',
      '-a',
      '3',
      '-0',
      '-t',
      '4:float',
      '-r',
      '7',
      '-c',
      '1',
      bus,
    ]);
    expect(rtu.code, rtu.output).toBe(0);
    expect(closeTo6(rtu.values.get(7), rakaeng.ph!)).toBe(true);
    const level = await mbpoll(['-m', 'rtu', '-b', '9600', '-P', 'none', '-a', '1', '-0', '-t', '4', '-r', '0', bus]);
    expect(level.values.get(0)! / 1000).toBe(expected.station('cm-canal-changphueak-probe').valuesAt().water_level);
    const busy = await mbpoll([
      '-m',
      'tcp',
      '-p',
      String(base + 3),
      '-a',
      '4',
      '-0',
      '-t',
      '4',
      '-r',
      '0',
      '127.0.0.1',
    ]);
    expect(busy.output).toMatch(/busy/);

    run.child.kill('SIGTERM');
    expect(await run.exit).toBe(0);
    expect(run.output()).toMatch(/finished: stopped/);
    expect(run.output()).toMatch(/cm-canal-pratukom-probe\s+requests\s+1 .*exceptions 1x6/);
    expect(existsSync(bus)).toBe(false); // socat ended, its links removed
  });

  it('rejects bad arguments with a message and exit code 1', async () => {
    const cases = [
      [['canal', '--word-order=XYZW'], /--word-order "XYZW": use ABCD\|CDAB\|BADC\|DCBA/],
      [['canal', '--fault=cm-canal-rakaeng-probe:melt'], /unknown canal fault "melt"/],
      [['canal', '--fault=cm-air-cmu-01-pms:timeout', '--tcp-base-port=1'], /not a simulated canal station/],
      [['canal', '--scenario=tsunami'], /unknown canal scenario "tsunami"/],
    ] as const;
    const runs = cases.map(([args]) => runCli([...args]));
    for (const [i, run] of runs.entries()) {
      expect(await run.exit).toBe(1);
      expect(run.output()).toMatch(cases[i]![1]);
    }
  });

  it('--list names stations, maps, faults and scenarios', async () => {
    const run = runCli(['canal', '--list']);
    expect(await run.exit).toBe(0);
    expect(run.output()).toMatch(/cm-canal-padaet-probe\s+cnx-canal-probe-v1/);
    expect(run.output()).toMatch(/Register maps: cnx-canal-probe-v1, rs485-do-probe-v1, rs485-ph-probe-v1/);
    for (const mode of ['timeout', 'exception', 'busy', 'bad-crc', 'drop-connection', 'offline', 'probe-fault']) {
      expect(run.output()).toContain(`  ${mode} `);
    }
    expect(run.output()).toMatch(/flood\s+fast rise/);
  });
});

describe('cnx-sim fleet (air over MQTT + canal over Modbus)', () => {
  let broker: MosquittoHandle;
  beforeAll(async () => {
    broker = await startMosquitto();
  });
  afterAll(async () => {
    await broker?.stop();
  });

  it('runs both on one clock and stops both cleanly', async () => {
    const sub = await mqtt.connectAsync(broker.url, { reconnectPeriod: 0 });
    const air: string[] = [];
    sub.on('message', (topic) => air.push(topic.split('/')[4]!));
    await sub.subscribeAsync('cnx/v1/chiang-mai/devices/+/telemetry', { qos: 1 });
    const base = await freePortRange(2);
    const run = runCli([
      'fleet',
      `--mqtt=${broker.url}`,
      '--air-limit=2',
      '--canal-limit=2',
      '--time-scale=60',
      `--tcp-base-port=${base}`,
      '--canal-scenario=flood',
      '--fault=cm-canal-sriphum-probe:exception:2',
      '--fault=cm-air-oldcity-02-pms:clock-skew:-15',
      '--status-interval=300ms',
      '--duration=2m',
    ]);
    try {
      await vi.waitFor(() => expect(run.output()).toMatch(/^ready: 2 air device\(s\) publishing, 2 canal station/m), {
        timeout: 20_000,
        interval: 50,
      });
      const level = await mbpoll(['-m', 'tcp', '-p', String(base), '-a', '1', '-0', '-t', '4', '-r', '0', '127.0.0.1']);
      expect(level.code, level.output).toBe(0);
      expect(level.values.get(0)).toBeGreaterThan(0);
      const failing = await mbpoll([
        '-m',
        'tcp',
        '-p',
        String(base + 1),
        '-a',
        '2',
        '-0',
        '-t',
        '4',
        '-r',
        '0',
        '127.0.0.1',
      ]);
      expect(failing.output).toMatch(/Illegal data address/);
      await vi.waitFor(() => expect(new Set(air).size).toBe(2), { timeout: 20_000, interval: 50 });
      await vi.waitFor(() => expect(run.output()).toMatch(/canal 2\/2 up \| req \d+/), {
        timeout: 10_000,
        interval: 50,
      });
    } finally {
      await sub.endAsync();
      run.child.kill('SIGTERM');
    }
    expect(await run.exit).toBe(0);
    expect(run.output()).toMatch(/finished: stopped/);
    expect(run.output()).toMatch(/cm-canal-sriphum-probe\s+requests\s+1 .*exceptions 1x2/);
  });
});
