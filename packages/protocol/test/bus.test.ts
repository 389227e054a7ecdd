import { describe, expect, it } from 'vitest';
import {
  normalizedReadingValidator,
  parseDeadLetter,
  parseDeviceEvent,
  parseReadingsBatch,
  parseReadingsBatchLenient,
  readingsBatchJson,
} from '../src/bus';
import { normalizedReadingHead, normalizedReadingJson } from '../src/normalized-json';

const head = normalizedReadingHead({
  city: 'chiang-mai',
  station: 'cm-air-oldcity-01',
  device: 'cm-air-oldcity-01-pms',
  kind: 'air',
  district: 'old-city',
});
const TS = 1_742_000_000_000;
const record = (ts: number, extra: Partial<{ seq: number; qcMetrics: ['pm25'] }> = {}) =>
  normalizedReadingJson(
    head,
    {
      ts,
      values: { pm25: 31.4, humidity: 81 },
      corrections: [{ metric: 'pm25', value: 15.8, method: 'epa-barkjohn-2021-extended@1' }],
      qc: extra.qcMetrics ? ['spike', 'humidity'] : ['humidity'],
      ...extra,
    },
    ts + 5,
  );

describe('the bus contract', () => {
  it('takes what the producer writes (normalizedReadingJson, readingsBatchJson)', () => {
    const batch = readingsBatchJson([record(TS, { seq: 1 }), record(TS + 1000, { qcMetrics: ['pm25'] })]);
    const parsed = parseReadingsBatch(batch);
    expect(parsed.ok).toBe(true);
    expect(parsed.ok && parsed.value.readings.map((r) => r.qcMetrics)).toEqual([undefined, ['pm25']]);
  });

  it('refuses a batch with a reading that breaks the schema; the lenient parse keeps the others', () => {
    const bad = JSON.stringify({ ...JSON.parse(record(TS)), ts: '2025-03-15' });
    const batch = readingsBatchJson([record(TS), bad]);
    expect(parseReadingsBatch(batch)).toEqual({ ok: false, error: 'invalid' });
    const lenient = parseReadingsBatchLenient(batch);
    expect(lenient.ok && lenient.value.invalid).toBe(1);
    expect(lenient.ok && lenient.value.readings).toHaveLength(1);
    expect(parseReadingsBatch('{"v":1,"readings":[')).toEqual({ ok: false, error: 'malformed_json' });
    expect(parseReadingsBatchLenient('{"v":2,"readings":[]}')).toEqual({ ok: false, error: 'invalid' });
  });

  it.each([
    ['a time in seconds', { ts: 1_742_000_000 }],
    ['a device id with a topic separator', { device: 'a/b' }],
    ['a value that is not a number', { values: { pm25: '31' } }],
    ['an empty qcMetrics', { qcMetrics: [] }],
    ['a missing receivedAt', { receivedAt: undefined }],
  ])('refuses a reading with %s', (_what, change) => {
    expect(normalizedReadingValidator.Check({ ...JSON.parse(record(TS)), ...change })).toBe(false);
  });

  it('keeps a flag or metric it does not know yet (producers only ever add them)', () => {
    const newer = { ...JSON.parse(record(TS)), qc: ['humidity', 'drift'], values: { pm25: 3, co2: 412 } };
    expect(normalizedReadingValidator.Check(newer)).toBe(true);
  });

  it('dead letters and device events', () => {
    const dl = {
      v: 1,
      reason: 'malformed_json',
      message: 'Payload is not valid JSON: x',
      topic: 'cnx/v1/chiang-mai/devices/d/telemetry',
      receivedAt: TS,
      payload: '{oops',
      encoding: 'utf8',
      truncated: false,
    };
    expect(parseDeadLetter(JSON.stringify(dl)).ok).toBe(true);
    expect(parseDeadLetter(JSON.stringify({ ...dl, encoding: 'hex' })).ok).toBe(false);
    const ev = {
      v: 1,
      event: 'device-offline',
      city: 'chiang-mai',
      station: 'cm-canal-01',
      device: 'cm-canal-01-probe',
      transport: 'modbus-tcp',
      ts: TS,
      lastSuccessAt: null,
      silenceMs: 30_000,
      consecutiveFailures: 3,
      lastError: { kind: 'timeout', message: 'no answer in 1000 ms' },
    };
    expect(parseDeviceEvent(Buffer.from(JSON.stringify(ev))).ok).toBe(true);
    expect(parseDeviceEvent(JSON.stringify({ ...ev, event: 'gone' })).ok).toBe(false);
  });
});
