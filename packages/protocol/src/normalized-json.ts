import type { Correction, MetricValues, QcFlag, StationKind } from '@cnx/domain';

/**
 * The gateway writes every accepted reading as a NormalizedReadingPayload line (spool, bus). This
 * builds that JSON by hand instead of with `JSON.stringify` of a fresh object: the part that is the
 * same for every reading of a device (v, city, station, device, kind, district) is serialised once
 * per device (`normalizedReadingHead`), the rest is appended per reading. The result parses to the
 * same object `JSON.stringify` would give (normalized-json.test.ts checks it against it); it saves
 * building a second object per reading and about a microsecond of serialisation (docs/performance.md).
 */

/** Strings that need no JSON escaping: printable ASCII without `"` and `\`. */
const PLAIN = /^[\x20-\x21\x23-\x5b\x5d-\x7e]*$/;

/** A JSON string literal; the common plain case without `JSON.stringify`. */
export const jsonString = (s: string): string => (PLAIN.test(s) ? `"${s}"` : JSON.stringify(s));

/**
 * `{"v":1,"city":…,"station":…,"device":…,"kind":…,"district":…,"ts":` — the constant head of a
 * device's normalised readings.
 */
export function normalizedReadingHead(p: {
  city: string;
  station: string;
  device: string;
  kind: StationKind;
  district: string;
}): string {
  return `{"v":1,"city":${jsonString(p.city)},"station":${jsonString(p.station)},"device":${jsonString(p.device)},"kind":${jsonString(p.kind)},"district":${jsonString(p.district)},"ts":`;
}

/** Quoted correction methods and `"metric":` keys (a handful of constants), escaped once each. */
const methods = new Map<string, string>();
const keys = new Map<string, string>();
/** `{"metric":"pm25","value":` per metric. */
const correctionHeads = new Map<string, string>();

/**
 * The rest of a normalised reading after `head` (see normalizedReadingHead). Numbers must be finite
 * (the gateway rejects others before this): JSON has no NaN or Infinity.
 */
export function normalizedReadingJson(
  head: string,
  r: {
    ts: number;
    seq?: number;
    values: MetricValues;
    corrections: readonly Correction[];
    qc: readonly QcFlag[];
    qcMetrics?: readonly string[];
  },
  receivedAt: number,
): string {
  let s = `${head}${r.ts}`;
  if (r.seq !== undefined) s += `,"seq":${r.seq}`;
  s += ',"values":{';
  let first = true;
  const values = r.values as Record<string, number | undefined>;
  for (const key in values) {
    const v = values[key];
    if (v === undefined) continue;
    let k = keys.get(key);
    if (k === undefined) {
      k = `${jsonString(key)}:`;
      if (keys.size < 256) keys.set(key, k);
    }
    s += first ? k + v : `,${k}${v}`;
    first = false;
  }
  s += '},"corrections":[';
  for (let i = 0; i < r.corrections.length; i++) {
    const c = r.corrections[i] as Correction;
    let m = methods.get(c.method);
    if (m === undefined) {
      m = jsonString(c.method);
      if (methods.size < 64) methods.set(c.method, m);
    }
    let head = correctionHeads.get(c.metric);
    if (head === undefined) {
      head = `{"metric":${jsonString(c.metric)},"value":`;
      if (correctionHeads.size < 256) correctionHeads.set(c.metric, head);
    }
    s += `${i > 0 ? ',' : ''}${head}${c.value},"method":${m}}`;
  }
  s += '],"qc":[';
  for (let i = 0; i < r.qc.length; i++) s += `${i > 0 ? ',' : ''}"${r.qc[i]}"`;
  s += ']';
  // Only when a metric flag is set (registry metric ids: safe JSON strings as they are).
  if (r.qcMetrics && r.qcMetrics.length > 0) s += `,"qcMetrics":["${r.qcMetrics.join('","')}"]`;
  return `${s},"receivedAt":${receivedAt}}`;
}
