/**
 * The alerts service as a real child process (`node --import tsx apps/alerts/src/main.ts`), as it runs
 * in production and under `npm start`: for crash tests here and for the API's staff-route tests.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type NormalizedReadingPayload, readingsBatchJson, topics } from '@cnx/protocol';
import { freePort, ManagedProcess } from '@cnx/testkit';
import type { MqttClient } from 'mqtt';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

export interface AlertsProcess {
  proc: ManagedProcess;
  port: number;
  url: string;
}

/** Starts the service on a free port and waits until /health says ok (bus connected). */
export async function startAlertsProcess(env: Record<string, string>, port?: number): Promise<AlertsProcess> {
  const p = port ?? (await freePort());
  const proc = ManagedProcess.spawn({
    name: 'alerts',
    command: process.execPath,
    args: ['--import', 'tsx', path.join(repoRoot, 'apps/alerts/src/main.ts')],
    cwd: repoRoot,
    tailLines: 5000,
    env: { ...process.env, LOG_LEVEL: 'warn', ALERTS_HTTP_PORT: String(p), ...env },
  });
  const url = `http://127.0.0.1:${p}`;
  await proc.waitUntilReady(
    async () => {
      try {
        return ((await (await fetch(`${url}/health`)).json()) as { status: string }).status === 'ok';
      } catch {
        return false;
      }
    },
    { timeoutMs: 60_000, what: 'alerts /health ok' },
  );
  return { proc, port: p, url };
}

/** A normalised reading as the gateway republishes it (NormalizedReadingPayload). */
export function busReading(
  station: string,
  device: string,
  kind: 'air' | 'canal',
  district: string,
  ts: number,
  values: Record<string, number>,
): NormalizedReadingPayload {
  return {
    v: 1,
    city: 'chiang-mai',
    station,
    device,
    kind,
    district,
    ts,
    values,
    corrections: [],
    qc: [],
    receivedAt: ts,
  };
}

/** Publishes readings on the bus exactly as the gateway does: one batch message, QoS 1. */
export async function publishBatch(client: MqttClient, readings: readonly NormalizedReadingPayload[]): Promise<void> {
  await client.publishAsync(topics.readings('chiang-mai'), readingsBatchJson(readings.map((r) => JSON.stringify(r))), {
    qos: 1,
  });
}
