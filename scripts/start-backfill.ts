/**
 * `npm start`'s history backfill (used by scripts/start.ts): before the live fleet starts, publish
 * the last CNX_BACKFILL_DAYS (default 7) days of every simulated device's past on the history topics
 * (what `cnx-sim backfill` does, run here in-process: one tsx start-up less), through the real
 * broker and gateway, so the first screen already has a week
 * of data with its daily cycle: 24-hour means, AQI bands, charts. CNX_BACKFILL_DAYS=0 switches it off.
 *
 * It runs as soon as the gateway is healthy, before the API, the alerts service and the live fleet
 * start: nothing else then competes for the CPU (and no consumer of the bus has to wade through a
 * week of readings that are not live).
 *
 * A later start with data already stored fills only the gap since then. How we learn "since": the
 * store itself, opened read-only with the gateway's own settings (loadGatewayConfig: SQLite file or
 * InfluxDB alike), the oldest of the stations' newest readings in the window. Why the store: it is
 * the truth the pages are drawn from, it needs nothing else running (the API starts after the
 * backfill), and one indexed probe per station answers it. A station without a reading in the
 * window means the whole window. Re-publishing what is stored would be harmless anyway (a reading's
 * identity is device + time, so it overwrites itself), only slower.
 */
import { existsSync } from 'node:fs';
import { backfillProgressLine, backfillSummaryLine, loadHistorySources, publishBackfill } from '@cnx/firmware-sim';
import { createReadingStore } from '@cnx/store';
import { loadGatewayConfig } from '../apps/gateway/src/config';

export interface BackfillStartOptions {
  env: NodeJS.ProcessEnv;
  city: string;
  /** Each device's station (city pack): the newest stored reading of the backfilled devices' stations decides the gap. */
  stationOf: ReadonlyMap<string, string>;
  mqttUrl: string;
  gatewayUrl: string;
  /** When the gateway answered healthy (the figure printed is measured from it). */
  gatewayHealthyAt: number;
}

const DAY = 86_400_000;

/** The oldest of the stations' newest readings since `from`, or undefined if any station has none. */
async function newestStored(env: NodeJS.ProcessEnv, stationIds: string[], from: number): Promise<number | undefined> {
  const cfg = loadGatewayConfig(env).store;
  if (cfg.backend === 'sqlite' && !existsSync(cfg.path)) return undefined; // a first start
  const store = createReadingStore(
    cfg.backend === 'sqlite'
      ? { backend: 'sqlite', path: cfg.path, readonly: true }
      : { ...cfg, createDatabase: false },
  );
  await store.start();
  try {
    const latest = new Map((await store.latestPerStation(from, stationIds)).map((r) => [r.stationId, r.ts]));
    let oldest = Number.POSITIVE_INFINITY;
    for (const id of stationIds) oldest = Math.min(oldest, latest.get(id) ?? Number.NEGATIVE_INFINITY);
    return Number.isFinite(oldest) ? oldest : undefined;
  } finally {
    await store.stop();
  }
}

/** A counter or gauge of the gateway's /metrics (0 when absent). */
async function gatewayMetric(gatewayUrl: string, name: string): Promise<number> {
  const text = await (await fetch(`${gatewayUrl}/metrics`)).text();
  const m = new RegExp(`^${name} ([0-9.e+]+)$`, 'm').exec(text);
  return m ? Number(m[1]) : 0;
}

/** Run the backfill and wait until the gateway has stored it. Resolves false if it was switched off or failed. */
export async function backfillHistory(o: BackfillStartOptions): Promise<boolean> {
  const days = Number(o.env.CNX_BACKFILL_DAYS ?? 7);
  if (!Number.isFinite(days) || days < 0)
    throw new Error(`CNX_BACKFILL_DAYS must be a number of days >= 0, got ${o.env.CNX_BACKFILL_DAYS}`);
  if (days === 0) {
    console.log('[start] history backfill off (CNX_BACKFILL_DAYS=0)');
    return false;
  }
  const until = Date.now();
  const seed = 1; // the live fleet's (`cnx-sim run` and `canal` default), so the week joins up with it
  const city = await loadHistorySources(o.city, { seed, at: until });
  const stationIds = [...new Set(city.sources.flatMap((s) => o.stationOf.get(s.deviceId) ?? []))];
  const since = await newestStored(o.env, stationIds, until - days * DAY).catch((error: Error) => {
    console.log(`[start] could not read the newest stored readings (${error.message}); backfilling the whole window`);
    return undefined;
  });
  if (since !== undefined && since > until - days * DAY) {
    console.log(`[start] readings stored up to ${new Date(since).toISOString()}: backfilling only the gap since then`);
  }
  const acceptedBefore = await gatewayMetric(o.gatewayUrl, 'gateway_history_readings_accepted_total');
  const from = Math.max(until - days * DAY, since ?? Number.NEGATIVE_INFINITY);
  let lastLine = Date.now();
  const result = await publishBackfill({
    city: city.cityId,
    sources: city.sources,
    from,
    until,
    seed,
    mqtt: { url: o.mqttUrl },
    onProgress: (p) => {
      if (Date.now() - lastLine < 2000) return;
      lastLine = Date.now();
      console.log(`[backfill] ${backfillProgressLine(p)}`);
    },
  });
  console.log(`[backfill] ${backfillSummaryLine(result, city.utcOffsetMin, o.mqttUrl)}`);
  const readings = result.readings;
  // Stored = accepted by the gateway (spooled) and written by its store writer (spool drained). A
  // gateway that stops accepting (it rejected some: see its dead letters) is not waited for long.
  let last = -1;
  let lastMoved = Date.now();
  for (;;) {
    const accepted = (await gatewayMetric(o.gatewayUrl, 'gateway_history_readings_accepted_total')) - acceptedBefore;
    const pending = await gatewayMetric(o.gatewayUrl, 'gateway_spool_pending_readings');
    if (accepted >= readings && pending === 0) break;
    if (accepted !== last) {
      last = accepted;
      lastMoved = Date.now();
    } else if (Date.now() - lastMoved > 15_000) {
      console.error(
        `[start] the gateway accepted ${accepted} of ${readings} backfilled readings (${pending} not yet stored) ` +
          'and has not moved for 15 s; going on (see its metrics and dead letters)',
      );
      return false;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  const seconds = ((Date.now() - o.gatewayHealthyAt) / 1000).toFixed(1);
  console.log(
    `[start] history backfill stored: ${readings.toLocaleString('en-US')} readings, ${seconds} s after the gateway was healthy`,
  );
  return true;
}
