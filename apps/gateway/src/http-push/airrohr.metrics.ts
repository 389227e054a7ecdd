import { Counter, Gauge, type Registry } from 'prom-client';

/** The `result` label of gateway_http_push_requests_total, one per HTTP answer kind. */
export const PUSH_RESULTS = [
  'accepted',
  'duplicate',
  'bad_request',
  'unauthorized',
  'unregistered',
  'payload_too_large',
  'unsupported_media_type',
  'spool_full',
  'error',
] as const;

export type PushResult = (typeof PUSH_RESULTS)[number];

/** Plain-number counters (as GatewayStats), read by prom-client at scrape time. */
export class AirrohrPushStats {
  readonly requests = new Map<PushResult, number>();

  count(result: PushResult): void {
    this.requests.set(result, (this.requests.get(result) ?? 0) + 1);
  }

  get(result: PushResult): number {
    return this.requests.get(result) ?? 0;
  }
}

/**
 * Register the HTTP-push metrics on the gateway's registry. Rejections are also counted by reason
 * in gateway_messages_rejected_total (every rejected push is dead-lettered like an MQTT message).
 */
export function registerAirrohrMetrics(
  registry: Registry,
  stats: AirrohrPushStats,
  registeredSensors: () => number,
): void {
  new Counter({
    name: 'gateway_http_push_requests_total',
    help: 'airrohr HTTP push requests, by result',
    labelNames: ['result'],
    registers: [registry],
    collect() {
      this.reset();
      for (const r of PUSH_RESULTS) this.inc({ result: r }, stats.get(r));
    },
  });
  new Gauge({
    name: 'gateway_http_push_registered_sensors',
    help: 'airrohr sensors in the HTTP push registry',
    registers: [registry],
    collect() {
      this.set(registeredSensors());
    },
  });
}
