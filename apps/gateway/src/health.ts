import type { ReadingStore, StoreHealth } from '@cnx/store';
import type { HealthReport } from './http';
import type { GatewayStats } from './metrics';
import type { SpoolStats } from './spool/spool';
import type { StoreStarterStatus } from './store-starter';
import type { WriterStatus } from './writer.service';

export interface HealthParts {
  stats: GatewayStats;
  spool?: SpoolStats;
  store?: ReadingStore;
  starter?: StoreStarterStatus;
  writer?: WriterStatus;
  /** The last rollup run (rollup.service.ts): informational, it does not change the status. */
  rollup?: { at: number; ok: boolean; error?: string; result?: unknown };
  startedAt: number;
}

/** Why the writer is not writing, or could not if it had to (undefined: it can). */
function writerProblem(
  starter: StoreStarterStatus | undefined,
  writer: WriterStatus | undefined,
  store: StoreHealth | undefined,
  spool: SpoolStats | undefined,
): string | undefined {
  if (!starter?.started) {
    const why = starter?.lastError ? `: ${starter.lastError}` : '';
    return `store not started${why}; readings are kept in the spool and written once it starts`;
  }
  if (!writer) return 'writer not running';
  if (writer.backingOff) {
    const what = writer.filesystemError ? 'gateway filesystem error' : 'store writes failing';
    return `${what}: ${writer.lastError ?? 'unknown error'}; retrying in ${writer.retryInMs ?? 0} ms`;
  }
  // The store has the readings but the spool cannot record that (a restart would write them again).
  if (spool?.checkpointError) return `gateway filesystem error: spool checkpoint: ${spool.checkpointError}; retrying`;
  // Nothing failed yet (nothing to write, say), but the store does not answer: the next write would fail.
  if (store && !store.ok) return `store not reachable: ${store.detail ?? 'no answer'}; readings are kept in the spool`;
  return undefined;
}

/**
 * GET /health: `down` when the gateway cannot accept data (not connected to the broker, a
 * subscription refused by the broker, or the spool full), `degraded` when it accepts but cannot store (the store not started or failing, or
 * its own disk failing: `writer.detail.reason` says which), else `ok`.
 */
export async function gatewayHealth(p: HealthParts): Promise<HealthReport> {
  let store: StoreHealth | undefined;
  if (p.store && p.starter && !p.starter.started) {
    store = { ok: false, backend: p.store.backend, detail: `not started: ${p.starter.lastError ?? 'starting'}` };
  } else if (p.store) {
    store = await p.store.health().catch((e: Error) => ({ ok: false, backend: '?', detail: e.message }));
  }
  const reason = writerProblem(p.starter, p.writer, store, p.spool);
  const checks: HealthReport['checks'] = {
    mqtt: {
      ok: p.stats.mqttConnected && !p.stats.subscriptionRefused,
      ...(p.stats.subscriptionRefused ? { detail: { reason: p.stats.subscriptionRefused } } : {}),
    },
    store: { ok: store?.ok ?? false, detail: p.starter ? { ...store, ...p.starter } : store },
    spool: { ok: !!p.spool && !p.spool.full, detail: p.spool },
    writer: {
      ok: reason === undefined,
      detail: { ...(reason ? { reason } : {}), ...p.writer, pendingReadings: p.spool?.pendingRecords },
    },
  };
  const status =
    !checks.mqtt?.ok || !checks.spool?.ok ? 'down' : checks.store?.ok && checks.writer?.ok ? 'ok' : 'degraded';
  return {
    status,
    checks: {
      ...checks,
      ...(p.rollup ? { rollup: { ok: p.rollup.ok, detail: p.rollup } } : {}),
      uptime: { ok: true, detail: { seconds: Math.round((Date.now() - p.startedAt) / 1000) } },
    },
  };
}
