import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { MODBUS_ERROR_KINDS } from './errors';
import { POLL_RESULTS } from './health';
import type { ModbusPoller } from './poller.service';

/**
 * Modbus metrics on the gateway's registry (same style as ../metrics.ts: counters and gauges are read
 * from the poller's plain-number health at scrape time; only the RTT histogram is observed live).
 *
 *   gateway_modbus_polls_total{device,result}          ok | failed | rejected | spool_full | skipped_backoff | skipped_busy
 *   gateway_modbus_requests_total{device}              requests sent (retries included)
 *   gateway_modbus_errors_total{device,kind}           failed requests by kind (errors.ts)
 *   gateway_modbus_exceptions_total{device,code}       exception responses by code
 *   gateway_modbus_rtt_seconds{device}                 request round trip (histogram)
 *   gateway_modbus_last_rtt_seconds{device}
 *   gateway_modbus_device_up{device}                   1 online, 0 offline or not yet answered
 *   gateway_modbus_consecutive_failures{device}
 *   gateway_modbus_last_success_timestamp_seconds{device}
 *   gateway_modbus_status_bit{device,bit}              the status register's named bits (1 = set)
 *   gateway_modbus_bus_queue_depth{bus}                requests queued or in flight per bus
 *   gateway_modbus_bus_connected{bus}
 */
export function registerModbusMetrics(registry: Registry, poller: ModbusPoller): void {
  const registers = [registry];
  new Counter({
    name: 'gateway_modbus_polls_total',
    help: 'Modbus poll slots by outcome',
    labelNames: ['device', 'result'],
    registers,
    collect() {
      this.reset();
      for (const h of poller.healths())
        for (const r of POLL_RESULTS) this.inc({ device: h.deviceId, result: r }, h.polls[r]);
    },
  });
  new Counter({
    name: 'gateway_modbus_requests_total',
    help: 'Modbus requests sent (retries included)',
    labelNames: ['device'],
    registers,
    collect() {
      this.reset();
      for (const h of poller.healths()) this.inc({ device: h.deviceId }, h.requests);
    },
  });
  new Counter({
    name: 'gateway_modbus_errors_total',
    help: 'Failed Modbus requests by kind (timeout, exception, crc, frame, connection, decode)',
    labelNames: ['device', 'kind'],
    registers,
    collect() {
      this.reset();
      for (const h of poller.healths())
        for (const k of MODBUS_ERROR_KINDS) this.inc({ device: h.deviceId, kind: k }, h.errors[k]);
    },
  });
  new Counter({
    name: 'gateway_modbus_exceptions_total',
    help: 'Modbus exception responses by exception code',
    labelNames: ['device', 'code'],
    registers,
    collect() {
      this.reset();
      for (const h of poller.healths())
        for (const [code, n] of h.exceptions) this.inc({ device: h.deviceId, code: String(code) }, n);
    },
  });
  const rtt = new Histogram({
    name: 'gateway_modbus_rtt_seconds',
    help: 'Modbus request round trip, request sent to answer received',
    labelNames: ['device'],
    // Loopback TCP answers in < 1 ms; one RTU read at 9600 baud takes ~40-85 ms; timeouts are ~1 s.
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers,
  });
  poller.onRtt((device, seconds) => rtt.observe({ device }, seconds));
  const gauge = (name: string, help: string, labelNames: string[], fill: (g: Gauge) => void) =>
    new Gauge({
      name,
      help,
      labelNames,
      registers,
      collect() {
        this.reset();
        fill(this);
      },
    });
  gauge('gateway_modbus_last_rtt_seconds', 'Last Modbus round trip', ['device'], (g) => {
    for (const h of poller.healths()) if (h.lastRttMs !== undefined) g.set({ device: h.deviceId }, h.lastRttMs / 1000);
  });
  gauge('gateway_modbus_device_up', '1 while the device answers its polls', ['device'], (g) => {
    for (const h of poller.healths()) g.set({ device: h.deviceId }, h.state === 'online' ? 1 : 0);
  });
  gauge('gateway_modbus_consecutive_failures', 'Failed polls in a row', ['device'], (g) => {
    for (const h of poller.healths()) g.set({ device: h.deviceId }, h.consecutiveFailures);
  });
  gauge('gateway_modbus_last_success_timestamp_seconds', 'Time of the last successful poll', ['device'], (g) => {
    for (const h of poller.healths())
      if (h.lastSuccessAt !== undefined) g.set({ device: h.deviceId }, h.lastSuccessAt / 1000);
  });
  gauge(
    'gateway_modbus_status_bit',
    "Device status register bits (from the device's register map)",
    ['device', 'bit'],
    (g) => {
      for (const h of poller.healths()) {
        if (!h.status) continue;
        for (const bit of h.statusBits) g.set({ device: h.deviceId, bit }, h.status.active.includes(bit) ? 1 : 0);
      }
    },
  );
  gauge('gateway_modbus_bus_queue_depth', 'Modbus requests queued or in flight', ['bus'], (g) => {
    for (const b of poller.busList()) g.set({ bus: b.id }, b.queueDepth);
  });
  gauge('gateway_modbus_bus_connected', '1 while the bus port / a connection is open', ['bus'], (g) => {
    for (const b of poller.busList()) g.set({ bus: b.id }, b.connected ? 1 : 0);
  });
}
