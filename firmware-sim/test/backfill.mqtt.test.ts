import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { filters, parseTelemetry, parseTopic } from '@cnx/protocol';
import { freePort, type MosquittoHandle, startMosquitto } from '@cnx/testkit';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadHistorySources } from '../src/backfill/history';
import { type BackfillResult, publishBackfill } from '../src/backfill/publish';

const CITY = 'chiang-mai';
const DAY = 86_400_000;
const UNTIL = Date.parse('2026-03-15T09:00:00+07:00');
const CLI = fileURLToPath(new URL('../src/cli.ts', import.meta.url));

/** Every message on the history topics, in arrival order. */
async function historySubscriber(
  url: string,
): Promise<{ client: MqttClient; got: { topic: string; payload: string }[] }> {
  const client = await mqtt.connectAsync(url, { clientId: 'backfill-test-observer', clean: true, reconnectPeriod: 0 });
  const got: { topic: string; payload: string }[] = [];
  client.on('message', (topic, payload) => got.push({ topic, payload: payload.toString('utf8') }));
  await client.subscribeAsync(filters.allHistory(CITY), { qos: 1 });
  return { client, got };
}

/** Wait on a condition, not a clock (the test's timeout bounds it). */
async function waitUntil(cond: () => boolean): Promise<void> {
  while (!cond()) await new Promise((r) => setTimeout(r, 20));
}

function runCli(args: string[]): Promise<{ code: number | null; out: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d) => {
    out += String(d);
  });
  child.stderr.on('data', (d) => {
    out += String(d);
  });
  return new Promise((resolve) => child.on('exit', (code) => resolve({ code, out })));
}

describe('backfill against a real Mosquitto', () => {
  let broker: MosquittoHandle;
  beforeAll(async () => {
    broker = await startMosquitto();
  });
  afterAll(async () => {
    await broker?.stop();
  });

  it("publishes a day of every device's history on its history topic: every reading, in order, in range", async () => {
    const sub = await historySubscriber(broker.url);
    const { sources } = await loadHistorySources(CITY, { seed: 1, at: UNTIL });
    const from = UNTIL - DAY;
    const result: BackfillResult = await publishBackfill({
      city: CITY,
      sources,
      from,
      until: UNTIL,
      seed: 1,
      mqtt: { url: broker.url },
      maxInFlight: 64,
    });
    // Every PUBACK is in: the broker has them all, and delivers them to the observer.
    await waitUntil(() => sub.got.length >= result.messages);
    await sub.client.endAsync();

    expect(sources).toHaveLength(27); // 22 air nodes (MQTT) + 5 canal stations (Modbus), one a minute each
    expect(result.readings).toBe(27 * 1440);
    expect(sub.got).toHaveLength(result.messages);
    const perDevice = new Map<string, number[]>();
    for (const m of sub.got) {
      const t = parseTopic(m.topic);
      expect(t?.kind).toBe('history');
      const parsed = parseTelemetry(m.payload);
      if (!parsed.ok) throw new Error(`${m.topic}: ${parsed.error.message}`);
      const list = perDevice.get(t!.id) ?? [];
      list.push(...parsed.value.map((r) => r.ts));
      perDevice.set(t!.id, list);
    }
    expect([...perDevice.keys()].sort()).toEqual(sources.map((s) => s.deviceId).sort());
    for (const [id, ts] of perDevice) {
      expect(ts, id).toHaveLength(1440);
      expect(
        ts.every((x, i) => i === 0 || x > (ts[i - 1] as number)),
        `${id} in time order`,
      ).toBe(true);
      expect(ts[0]).toBeGreaterThanOrEqual(from);
      expect(ts.at(-1)).toBeLessThan(UNTIL);
      const d = result.devices.find((x) => x.deviceId === id);
      expect([d?.readings, d?.first, d?.last]).toEqual([1440, ts[0], ts.at(-1)]);
    }
  });

  it('the CLI: JSON format, a device selection, the one-line summary and a JSON summary', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'cnx-backfill-'));
    try {
      const sub = await historySubscriber(broker.url);
      const devices = ['cm-air-cmu-01-pms', 'cm-canal-padaet-probe'];
      const file = join(dir, 'summary.json');
      const run = await runCli([
        'backfill',
        '--mqtt',
        broker.url,
        '--days',
        '0.5',
        '--until',
        new Date(UNTIL).toISOString(),
        '--devices',
        devices.join(','),
        '--format',
        'json',
        '--json-summary',
        file,
      ]);
      expect(run.code, run.out).toBe(0);
      expect(run.out).toMatch(/backfill: 1,440 readings of 2 devices in 1,440 messages, [0-9.]+ s/);
      const summary = JSON.parse(await readFile(file, 'utf8')) as BackfillResult;
      expect(summary.devices.map((d) => [d.deviceId, d.readings])).toEqual(devices.map((id) => [id, 720]));
      await waitUntil(() => sub.got.length >= 1440);
      await sub.client.endAsync();
      for (const m of sub.got) {
        const body = JSON.parse(m.payload) as { ts: number; seq?: number };
        expect(body.seq).toBeUndefined();
        expect(body.ts).toBeLessThan(UNTIL);
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('fails with a message naming the broker when it cannot connect', async () => {
    const url = `mqtt://127.0.0.1:${await freePort()}`;
    const run = await runCli(['backfill', '--mqtt', url, '--days', '0.01', '--devices', 'cm-air-cmu-01-pms']);
    expect(run.code).toBe(1);
    expect(run.out).toContain(`cannot connect to the MQTT broker at ${url}`);
  });
});
