/**
 * The one typed map from MQTT topic to payload type (docs/architecture.md house style 3).
 *
 *   cnx/v1/{city}/devices/{deviceId}/telemetry   device -> gateway  TelemetryPayload | SenmlPack
 *   cnx/v1/{city}/devices/{deviceId}/history     device -> gateway  TelemetryPayload | SenmlPack (logged, past)
 *   cnx/v1/{city}/devices/{deviceId}/status      device, retained   DeviceStatusPayload (LWT: offline)
 *   cnx/v1/{city}/readings                       gateway -> bus     ReadingsBatchPayload
 *   cnx/v1/{city}/deadletter/{deviceId}          gateway -> bus     DeadLetterPayload
 *   cnx/v1/{city}/events/device-offline|online   gateway -> bus     DeviceEventPayload
 *   cnx/v1/{city}/alerts/{ruleId}/{subjectId}    alerts, retained   AlertEventPayload (alerts.ts)
 *   cnx/v1/{city}/reports/{reportId}             alerts -> bus      ReportEventPayload (reports.ts)
 *
 * Ids are restricted to [A-Za-z0-9_-] (see ID_PATTERN) so they can never contain MQTT wildcards or
 * level separators, and are safe as InfluxDB tag values and SQL parameters.
 */
export const TOPIC_ROOT = 'cnx/v1';
export const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;
export const isValidId = (s: string): boolean => ID_PATTERN.test(s);

export type TopicKind = 'telemetry' | 'history' | 'status' | 'readings' | 'deadletter';

export const topics = {
  telemetry: (city: string, deviceId: string) => `${TOPIC_ROOT}/${city}/devices/${deviceId}/telemetry`,
  /**
   * Logged past readings uploaded later (an SD-card log, the simulator's backfill): the payloads of
   * telemetry; the gateway does not judge their lateness (never `stale`), and they are never live.
   */
  history: (city: string, deviceId: string) => `${TOPIC_ROOT}/${city}/devices/${deviceId}/history`,
  status: (city: string, deviceId: string) => `${TOPIC_ROOT}/${city}/devices/${deviceId}/status`,
  /**
   * The internal bus: batches of normalised readings, one message per gateway flush (see
   * docs/architecture.md: one QoS 1 publish per reading cost more CPU than the rest of ingest).
   */
  readings: (city: string) => `${TOPIC_ROOT}/${city}/readings`,
  deadletter: (city: string, deviceId: string) => `${TOPIC_ROOT}/${city}/deadletter/${deviceId}`,
  /** A polled device went silent (device-offline) or answered again (device-online). QoS 1, not retained. */
  deviceEvent: (city: string, event: 'device-offline' | 'device-online') => `${TOPIC_ROOT}/${city}/events/${event}`,
  /** The alerts service's current state of one alert subject (retained). */
  alert: (city: string, ruleId: string, subject: string) => `${TOPIC_ROOT}/${city}/alerts/${ruleId}/${subject}`,
  /** A citizen report approved by staff (QoS 1, not retained: GET /v1/reports gives the state). */
  report: (city: string, reportId: number) => `${TOPIC_ROOT}/${city}/reports/${reportId}`,
} as const;

/** Subscription filters (MQTT wildcards). */
export const filters = {
  allTelemetry: (city: string) => `${TOPIC_ROOT}/${city}/devices/+/telemetry`,
  allHistory: (city: string) => `${TOPIC_ROOT}/${city}/devices/+/history`,
  allStatus: (city: string) => `${TOPIC_ROOT}/${city}/devices/+/status`,
  allReadings: (city: string) => `${TOPIC_ROOT}/${city}/readings`,
  allDeadletter: (city: string) => `${TOPIC_ROOT}/${city}/deadletter/+`,
  allDeviceEvents: (city: string) => `${TOPIC_ROOT}/${city}/events/+`,
  allAlerts: (city: string) => `${TOPIC_ROOT}/${city}/alerts/+/+`,
  allReports: (city: string) => `${TOPIC_ROOT}/${city}/reports/+`,
} as const;

export interface ParsedTopic {
  kind: TopicKind;
  city: string;
  /** deviceId for telemetry/history/status/deadletter; '' for the readings bus. */
  id: string;
}

/** Parse a topic of this map. Returns undefined for anything else (never throws). */
export function parseTopic(topic: string): ParsedTopic | undefined {
  const p = topic.split('/');
  if (p[0] !== 'cnx' || p[1] !== 'v1' || p.length < 4) return undefined;
  const city = p[2] as string;
  if (p.length === 4) return p[3] === 'readings' ? { kind: 'readings', city, id: '' } : undefined;
  if (p[3] === 'devices' && p.length === 6) {
    const kind = p[5];
    if (kind === 'telemetry' || kind === 'history' || kind === 'status') return { kind, city, id: p[4] as string };
    return undefined;
  }
  if (p.length === 5 && p[3] === 'deadletter') return { kind: 'deadletter', city, id: p[4] as string };
  return undefined;
}
