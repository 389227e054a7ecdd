import type { SenmlPack, TelemetryPayload } from '@cnx/protocol';

/** How a device encodes telemetry. `mixed` is a fleet option (some devices each), not a device format. */
export type PayloadFormat = 'json' | 'senml';

/** One reading as the device firmware holds it before encoding. */
export interface SimReading {
  deviceId: string;
  /** uint32 message counter, wraps. */
  seq: number;
  /** Device clock, epoch ms, integer. */
  ts: number;
  values: Record<string, number>;
  /** metric -> canonical unit symbol (SenML registry style). */
  units: Readonly<Record<string, string>>;
  fw?: string;
}

/** Our JSON (TelemetryPayload): canonical units are implied, so `units` is omitted as most firmware does. */
export function toTelemetryPayload(r: SimReading): TelemetryPayload {
  const p: TelemetryPayload = { ts: r.ts, seq: r.seq, values: { ...r.values } };
  if (r.fw) p.fw = r.fw;
  return p;
}

export const senmlBaseName = (deviceId: string): string => `urn:dev:cnx:${deviceId}:`;

/**
 * SenML (RFC 8428): base name and base time on the first record, one record per metric. bt is in
 * seconds (RFC 8428 section 4.5.3), with millisecond precision kept as a fraction. SenML has no field
 * for our seq, so SenML devices send none (seq is optional in the protocol).
 */
export function toSenmlPack(r: SimReading): SenmlPack {
  return Object.entries(r.values).map(([n, v], i) => {
    const rec = { n, u: r.units[n] ?? '', v };
    return i === 0 ? { bn: senmlBaseName(r.deviceId), bt: r.ts / 1000, ...rec } : rec;
  });
}

export function encodeReading(format: PayloadFormat, r: SimReading): string {
  return JSON.stringify(format === 'senml' ? toSenmlPack(r) : toTelemetryPayload(r));
}
