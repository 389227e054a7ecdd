/**
 * The bus adapter: the ONE place that knows how readings arrive: batches on `cnx/v1/{city}/readings`
 * (`{"v":1,"readings":[NormalizedReadingPayload, ...]}`, docs/protocol.md).
 */
import { type NormalizedReadingPayload, parseTopic, topics } from '@cnx/protocol';

export const readingsBatchTopic = (city: string) => topics.readings(city);
export const alertTopic = (city: string, ruleId: string, subject: string) => topics.alert(city, ruleId, subject);

export type ParsedReadings = { ok: true; readings: NormalizedReadingPayload[] } | { ok: false; error: string };

const isReading = (r: unknown): r is NormalizedReadingPayload => {
  if (typeof r !== 'object' || r === null) return false;
  const o = r as Record<string, unknown>;
  return (
    typeof o.station === 'string' &&
    typeof o.device === 'string' &&
    typeof o.ts === 'number' &&
    Number.isFinite(o.ts) &&
    typeof o.values === 'object' &&
    o.values !== null
  );
};

export function parseReadingsMessage(topic: string, payload: Buffer | string): ParsedReadings {
  let doc: unknown;
  try {
    doc = JSON.parse(typeof payload === 'string' ? payload : payload.toString('utf8'));
  } catch {
    return { ok: false, error: 'malformed_json' };
  }
  if (parseTopic(topic)?.kind === 'readings') {
    const batch = doc as { v?: unknown; readings?: unknown };
    if (batch?.v !== 1 || !Array.isArray(batch.readings)) return { ok: false, error: 'not_a_batch' };
    const readings = batch.readings.filter(isReading);
    if (readings.length !== batch.readings.length) return { ok: false, error: 'bad_reading_in_batch' };
    return { ok: true, readings };
  }
  return { ok: false, error: 'unknown_topic' };
}

/** PM2.5 for alerting is the corrected value when the gateway applied one (EPA correction). */
export function metricValues(r: NormalizedReadingPayload): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(r.values)) if (typeof v === 'number') out[k] = v;
  for (const c of r.corrections ?? []) if (Number.isFinite(c.value)) out[c.metric] = c.value;
  return out;
}
