import { createClient, type LiveReading, type LiveSubscription } from '@cnx/api-client';
import { onLiveAlert } from './alerts.svelte';
import { onLiveReport } from './reports.svelte';

/** The newest live values per station, from GET /v1/stream (browser only; started by the layout). */
export interface LiveValue {
  ts: string;
  pm25: number | null;
  pm25Corrected: number | null;
  waterLevel: number | null;
  qc: string[];
}

export const live = $state({
  connected: false,
  count: 0,
  stations: {} as Record<string, LiveValue>,
});

export function toLiveValue(r: LiveReading): LiveValue {
  return {
    ts: r.ts,
    pm25: r.values.pm25 ?? null,
    pm25Corrected: r.corrections.find((c) => c.metric === 'pm25')?.value ?? null,
    waterLevel: r.values.water_level ?? null,
    qc: [...r.qc],
  };
}

/** After the API refused a stream (429 too_many_streams, 503), try again this much later. */
const REFUSED_RETRY_MS = 30_000;

/**
 * Subscribes (the subscription reconnects by itself after drops; after a refusal it is closed, so a new
 * one is opened later). `onReading` lets the layout refresh the server data (throttled there).
 */
export function startLive(baseUrl: string, onReading: (r: LiveReading) => void): { close(): void } {
  const client = createClient({ baseUrl });
  let sub: LiveSubscription | undefined;
  let retry: ReturnType<typeof setTimeout> | undefined;
  let closed = false;
  const open = () => {
    sub = subscribeOnce(client, onReading, () => {
      if (!closed) retry = setTimeout(open, REFUSED_RETRY_MS);
    });
  };
  open();
  return {
    close() {
      closed = true;
      if (retry) clearTimeout(retry);
      sub?.close();
    },
  };
}

function subscribeOnce(
  client: ReturnType<typeof createClient>,
  onReading: (r: LiveReading) => void,
  onRefused: () => void,
): LiveSubscription {
  const sub: LiveSubscription = client.streamReadings(undefined, {
    open() {
      live.connected = true;
    },
    disconnect() {
      live.connected = false;
    },
    error() {
      live.connected = false;
      if (sub.closed) onRefused();
    },
    alert(e) {
      onLiveAlert(e.alert);
    },
    report(r) {
      onLiveReport(r);
    },
    reading(r) {
      const prev = live.stations[r.station];
      // A reading the quality policy keeps out of every figure (a spike, out of range, stuck) is
      // never shown as the live value. The bus is at-least-once and may deliver out of order: keep
      // the newest. (The stream sends only readings that are live by their own time.)
      if (r.usable && (!prev || prev.ts <= r.ts)) live.stations[r.station] = toLiveValue(r);
      live.count++;
      onReading(r);
    },
  });
  return sub;
}
