import type { Reading } from '@cnx/domain';
import type { NormalizedReadingPayload } from '@cnx/protocol';
import { invalidReading } from '@cnx/store';

/** A spool record read back: the reading for the store, and when the gateway received it. */
export interface SpoolRecord {
  reading: Reading;
  receivedAt: number;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * A spool line (a normalised reading as JSON, as the pipeline wrote it; quarantine files hold the
 * same lines) back as a Reading. Throws STORE_INVALID_READING when the text is not one: a corrupt
 * or hand-edited line can never be stored, so the writer isolates and quarantines it like any
 * reading the store refuses. The store validates ids and values itself.
 */
export function readingFromRecord(text: string): SpoolRecord {
  let p: NormalizedReadingPayload;
  try {
    p = JSON.parse(text) as NormalizedReadingPayload;
  } catch (error) {
    throw invalidReading(`not a spool record: ${(error as Error).message}`);
  }
  if (
    !isObject(p) ||
    typeof p.city !== 'string' ||
    typeof p.station !== 'string' ||
    typeof p.device !== 'string' ||
    typeof p.ts !== 'number' ||
    !isObject(p.values)
  ) {
    throw invalidReading('not a spool record: expected city, station, device, ts and values');
  }
  const reading: Reading = {
    city: p.city,
    stationId: p.station,
    deviceId: p.device,
    ts: p.ts,
    values: p.values,
    corrections: Array.isArray(p.corrections) ? p.corrections : [],
    qc: Array.isArray(p.qc) ? p.qc : [],
  };
  if (p.seq !== undefined) reading.seq = p.seq;
  if (Array.isArray(p.qcMetrics) && p.qcMetrics.length > 0) reading.qcMetrics = p.qcMetrics;
  return { reading, receivedAt: typeof p.receivedAt === 'number' ? p.receivedAt : p.ts };
}
