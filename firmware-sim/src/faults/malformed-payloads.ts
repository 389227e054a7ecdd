import {
  encodeReading,
  type PayloadFormat,
  type SimReading,
  senmlBaseName,
  toTelemetryPayload,
} from '../devices/payload';
import type { MalformedKind } from './types';

/**
 * Raw Plantower frame (domain-facts: 0x42 0x4D, length 28, 13 big-endian words, checksum of bytes
 * 0-29): what a firmware bug that forwards the UART buffer instead of JSON puts on the wire. The version
 * byte 0x91 (as PMS5003 units report) is not valid UTF-8, so the gateway must fall back to base64.
 */
export function pmsFrame(values: Record<string, number>): Uint8Array {
  const b = new Uint8Array(32);
  const dv = new DataView(b.buffer);
  b[0] = 0x42;
  b[1] = 0x4d;
  dv.setUint16(2, 28);
  const pm = [values.pm1 ?? 0, values.pm25 ?? 0, values.pm10 ?? 0].map((x) =>
    Math.min(65535, Math.max(0, Math.round(x))),
  );
  pm.forEach((x, i) => {
    dv.setUint16(4 + 2 * i, x); // CF=1
    dv.setUint16(10 + 2 * i, x); // atmospheric
  });
  b[28] = 0x91;
  b[29] = 0x00;
  let sum = 0;
  for (let i = 0; i < 30; i++) sum += b[i] as number;
  dv.setUint16(30, sum & 0xffff);
  return b;
}

const firstMetric = (r: SimReading, prefer: readonly string[]): string =>
  prefer.find((m) => m in r.values) ?? Object.keys(r.values)[0] ?? 'pm25';

/**
 * Build one malformed payload of the given kind, in the device's own format where the kind makes sense
 * for it. Each kind maps to one dead-letter reason the gateway should report.
 */
export function malformedPayload(
  kind: MalformedKind,
  r: SimReading,
  format: PayloadFormat,
  spikeMetrics: readonly string[],
): string | Uint8Array {
  const primary = firstMetric(r, spikeMetrics);
  const json = format === 'json';
  const withValue = (metric: string, v: unknown): string => {
    if (json) return JSON.stringify({ ...toTelemetryPayload(r), values: { ...r.values, [metric]: v } });
    const pack = JSON.parse(encodeReading('senml', r)) as Record<string, unknown>[];
    return JSON.stringify(pack.map((rec) => (rec.n === metric ? { ...rec, v } : rec)));
  };
  switch (kind) {
    case 'invalid_json': {
      const good = encodeReading(format, r);
      return good.slice(0, Math.max(1, good.length - 9)); // truncated mid-value, as after a buffer overrun
    }
    case 'not_an_object':
      // JSON, but neither our object nor a SenML array of records.
      return json ? JSON.stringify(Object.values(r.values)) : JSON.stringify({ bn: senmlBaseName(r.deviceId), v: 1 });
    case 'wrong_types':
      if (json) {
        const strs = Object.fromEntries(Object.entries(r.values).map(([k, v]) => [k, String(v)]));
        return JSON.stringify({ ...toTelemetryPayload(r), values: strs });
      }
      return withValue(primary, String(r.values[primary]));
    case 'missing_ts': {
      if (json) {
        const { ts: _ts, ...rest } = toTelemetryPayload(r);
        return JSON.stringify(rest);
      }
      // Valid per RFC 8428 (no time = "now"), but not idempotent: the gateway's policy decides.
      const pack = JSON.parse(encodeReading('senml', r)) as Record<string, unknown>[];
      return JSON.stringify(pack.map(({ bt: _bt, ...rec }) => rec));
    }
    case 'bad_ts':
      if (json) return JSON.stringify({ ...toTelemetryPayload(r), ts: 'yesterday' });
      return JSON.stringify(
        (JSON.parse(encodeReading('senml', r)) as Record<string, unknown>[]).map((rec, i) =>
          i === 0 ? { ...rec, bt: 'yesterday' } : rec,
        ),
      );
    case 'missing_values': {
      if (!json) return '[]';
      const { values: _v, ...rest } = toTelemetryPayload(r);
      return JSON.stringify(rest);
    }
    case 'unit_mismatch':
      // mg/m3 is neither the canonical unit nor an alias of any metric's unit: must be rejected, not converted.
      if (json) return JSON.stringify({ ...toTelemetryPayload(r), units: { [primary]: 'mg/m3' } });
      return JSON.stringify(
        (JSON.parse(encodeReading('senml', r)) as Record<string, unknown>[]).map((rec) =>
          rec.n === primary ? { ...rec, u: 'mg/m3' } : rec,
        ),
      );
    case 'negative_value':
      return withValue(primary, -12.3);
    case 'out_of_range':
      return 'humidity' in r.values ? withValue('humidity', 150) : withValue(primary, 99999);
    case 'binary_garbage':
      return pmsFrame(r.values);
    case 'empty':
      return '';
  }
}
