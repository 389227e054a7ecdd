import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type MosquittoHandle, startMosquitto } from '@cnx/testkit';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { loadCityFleet } from '../src/city';
import { createFleet } from '../src/fleet';

const CLI = fileURLToPath(new URL('../src/cli.ts', import.meta.url));

interface Run {
  child: ChildProcess;
  stdout: () => string;
  exit: Promise<number | null>;
}

function runCli(args: string[], env: Record<string, string | undefined> = process.env): Run {
  // node --import tsx: one process, so signals reach the CLI itself (no wrapper in between).
  const child = spawn(process.execPath, ['--import', 'tsx', CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env });
  let out = '';
  child.stdout?.on('data', (d) => {
    out += String(d);
  });
  child.stderr?.on('data', (d) => {
    out += String(d);
  });
  const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, stdout: () => out, exit };
}

async function retainedStatuses(url: string, city: string): Promise<Record<string, string>> {
  const client = await mqtt.connectAsync(url, { reconnectPeriod: 0 });
  const got: Record<string, string> = {};
  client.on('message', (topic, payload) => {
    got[topic.split('/')[4] as string] = (JSON.parse(String(payload)) as { state: string }).state;
  });
  await client.subscribeAsync(`cnx/v1/${city}/devices/+/status`, { qos: 1 });
  await new Promise((r) => setTimeout(r, 300));
  await client.endAsync();
  return got;
}

describe('cnx-sim CLI', () => {
  let broker: MosquittoHandle;
  let dir: string;
  beforeAll(async () => {
    broker = await startMosquitto();
    dir = await mkdtemp(join(tmpdir(), 'cnx-sim-cli-'));
  });
  afterAll(async () => {
    await broker?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('runs Chiang Mai devices to --max-messages and writes a JSON summary', async () => {
    const summary = join(dir, 'summary.json');
    const run = runCli([
      'run',
      '--city=chiang-mai',
      `--mqtt=${broker.url}`,
      '--limit=3',
      '--time-scale=600',
      '--start=2026-03-15T00:00:00+07:00',
      '--max-messages=45',
      '--status-interval=100ms',
      '--fault=cm-air-oldcity-02-pms:clock-skew:-15',
      `--json-summary=${summary}`,
    ]);
    expect(await run.exit).toBe(0);
    const doc = JSON.parse(await readFile(summary, 'utf8'));
    expect(doc.finished).toBe('max-messages');
    expect(doc.totals.published).toBe(45);
    expect(doc.totals.acked).toBe(45);
    const devices = Object.values(doc.devices) as { published: number; seq: { first: number; last: number } }[];
    expect(devices).toHaveLength(3);
    for (const d of devices) expect(d.seq.last - d.seq.first + 1).toBe(d.published);
    expect(doc.devices['cm-air-oldcity-02-pms'].faults[0]).toMatch(/^clock-skew\(-15m/);
    // stdout is a pipe here: plain status lines, no terminal escape codes
    expect(run.stdout()).not.toContain('\x1b[');
    expect(run.stdout()).toMatch(/finished: max-messages/);
    expect(await retainedStatuses(broker.url, 'chiang-mai')).toEqual({
      'cm-air-oldcity-01-pms': 'offline',
      'cm-air-oldcity-02-pms': 'offline',
      'cm-air-oldcity-03-pms': 'offline',
    });
  });

  it('without --mqtt reaches the broker on $CNX_MQTT_PORT, at the pack cadence, with a per-run client id', async () => {
    const summary = join(dir, 'defaults.json');
    const { MQTT_URL: _unset, ...env } = process.env;
    const run = runCli(
      [
        'run',
        '--devices=cm-air-oldcity-01-pms,cm-air-oldcity-02-pms',
        '--time-scale=600',
        '--max-messages=6',
        '--quiet',
        `--json-summary=${summary}`,
      ],
      { ...env, CNX_MQTT_PORT: String(broker.port) },
    );
    expect(await run.exit, run.stdout()).toBe(0);
    const doc = JSON.parse(await readFile(summary, 'utf8'));
    expect(doc.totals.acked).toBe(6);
    const devices = Object.values(doc.devices) as { clientId: string; intervalMs: number }[];
    // The Chiang Mai pack's cadence (intervalS 60) when no --interval is given.
    expect(devices.map((d) => d.intervalMs)).toEqual([60_000, 60_000]);
    const suffix = /^cm-air-oldcity-01-pms@(sim-[0-9a-f]{6})$/.exec(devices[0]!.clientId)?.[1];
    expect(suffix).toBeDefined();
    expect(devices[1]!.clientId).toBe(`cm-air-oldcity-02-pms@${suffix}`);

    const exact = runCli([
      'run',
      `--mqtt=${broker.url}`,
      '--devices=cm-air-oldcity-01-pms',
      '--interval=10s',
      '--time-scale=600',
      '--max-messages=2',
      '--no-client-id-suffix',
      '--quiet',
      `--json-summary=${summary}`,
    ]);
    expect(await exact.exit, exact.stdout()).toBe(0);
    const one = JSON.parse(await readFile(summary, 'utf8')).devices['cm-air-oldcity-01-pms'];
    expect([one.clientId, one.intervalMs]).toEqual(['cm-air-oldcity-01-pms', 10_000]);
  });

  it('warns when the devices of a run are online already (another client plays them)', async () => {
    const { devices } = await loadCityFleet('chiang-mai', { devices: ['cm-air-oldcity-03-pms'] });
    const other = createFleet({ city: 'chiang-mai', devices, mqtt: { url: broker.url }, clientIdSuffix: 'npm-start' });
    await other.start();
    try {
      const run = runCli([
        'run',
        `--mqtt=${broker.url}`,
        '--devices=cm-air-oldcity-03-pms',
        '--time-scale=600',
        '--max-messages=1',
        '--quiet',
      ]);
      expect(await run.exit, run.stdout()).toBe(0);
      expect(run.stdout()).toMatch(/warning: already online on this broker .*: cm-air-oldcity-03-pms\./);
      expect(run.stdout()).toContain('CNX_SIM_FLEET=off');
    } finally {
      await other.stop();
    }
  });

  it('shuts down cleanly on SIGTERM (retained offline, exit 0)', async () => {
    const run = runCli([
      'run',
      `--mqtt=${broker.url}`,
      '--devices=cm-air-cmu-01-pms',
      '--duration=5m',
      '--status-interval=100ms',
    ]);
    await vi.waitFor(() => expect(run.stdout()).toMatch(/devices 1\/1 up/), { timeout: 20_000 });
    expect(await retainedStatuses(broker.url, 'chiang-mai')).toMatchObject({ 'cm-air-cmu-01-pms': 'online' });
    run.child.kill('SIGTERM');
    expect(await run.exit).toBe(0);
    expect(run.stdout()).toMatch(/finished: stopped/);
    expect(await retainedStatuses(broker.url, 'chiang-mai')).toMatchObject({ 'cm-air-cmu-01-pms': 'offline' });
  });

  it('rejects bad arguments with a message and exit code 1', async () => {
    const run = runCli(['run', `--mqtt=${broker.url}`, '--fault=cm-air-cmu-01-pms:melt']);
    expect(await run.exit).toBe(1);
    expect(run.stdout()).toMatch(/unknown mode "melt"/);
  });

  it('lists devices, fault modes and scenarios', async () => {
    const run = runCli(['list', '--json']);
    expect(await run.exit).toBe(0);
    const doc = JSON.parse(run.stdout());
    expect(doc.devices.length).toBeGreaterThan(3);
    expect(doc.faults.map((f: { mode: string }) => f.mode)).toEqual([
      'dropout',
      'stuck',
      'spike',
      'malformed',
      'clock-skew',
      'reconnect-storm',
      'offline-buffer',
    ]);
    expect(doc.scenarios.map((s: { id: string }) => s.id)).toEqual(['normal', 'haze', 'rain']);
  });
});
