/**
 * The bus adapter: the ONE place that knows how readings arrive: batches on `cnx/v1/{city}/readings`
 * (`{"v":1,"readings":[NormalizedReadingPayload, ...]}`, docs/protocol.md), read with the bus
 * contract's schema (@cnx/protocol bus.ts).
 */
import { type BusReading, parseReadingsBatch, parseTopic, topics } from '@cnx/protocol';

export const readingsBatchTopic = (city: string) => topics.readings(city);
export const alertTopic = (city: string, ruleId: string, subject: string) => topics.alert(city, ruleId, subject);

export type ParsedReadings = { ok: true; readings: BusReading[] } | { ok: false; error: string };

export function parseReadingsMessage(topic: string, payload: Buffer | string): ParsedReadings {
  if (parseTopic(topic)?.kind !== 'readings') return { ok: false, error: 'unknown_topic' };
  const parsed = parseReadingsBatch(payload);
  // A batch with a reading that breaks the contract is refused whole: its producer is broken.
  return parsed.ok ? { ok: true, readings: parsed.value.readings } : { ok: false, error: parsed.error };
}

/** PM2.5 for alerting is the corrected value when the gateway applied one (EPA correction). */
export function metricValues(r: BusReading): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(r.values)) if (typeof v === 'number') out[k] = v;
  for (const c of r.corrections ?? []) if (Number.isFinite(c.value)) out[c.metric] = c.value;
  return out;
}
