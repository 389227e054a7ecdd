import { topics } from '@cnx/protocol';
import type { InjectOptions } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import {
  CAPTURED_BODY,
  CHIP,
  DEVICE,
  FIRMWARE_HEADERS,
  firmwareBody,
  type PushHarness,
  pushHarness,
  removeTempDirs,
  SENSOR,
  STATION,
  VERSION,
} from './helpers';

const PATH = '/push/airrohr';
const open: PushHarness[] = [];
afterEach(async () => {
  for (const h of open.splice(0)) await h.close();
  removeTempDirs();
});

async function harness(opts: Parameters<typeof pushHarness>[0] = {}): Promise<PushHarness> {
  const h = await pushHarness(opts);
  open.push(h);
  return h;
}

function post(
  h: PushHarness,
  payload: string | Buffer,
  headers: Record<string, string> = {},
  extra: Partial<InjectOptions> = {},
) {
  return h.app.inject({ method: 'POST', url: PATH, headers: { ...FIRMWARE_HEADERS, ...headers }, payload, ...extra });
}

const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

describe('airrohr push: the firmware POST', () => {
  it('the captured body is what the firmware builds', () => {
    const built = firmwareBody([
      ['SDS_P1', '12.30'],
      ['SDS_P2', '7.50'],
      ['temperature', '29.40'],
      ['humidity', '71.20'],
      ['samples', '5128463'],
      ['min_micro', '28'],
      ['max_micro', '20132'],
      ['signal', '-67'],
    ]);
    expect(built).toBe(CAPTURED_BODY);
    expect(JSON.parse(CAPTURED_BODY)).toMatchObject({ esp8266id: CHIP, software_version: VERSION });
  });

  it('accepts it: one normalised reading, spooled and republished, with correction and metrics', async () => {
    const h = await harness();
    h.clock.now = 1_732_190_405_120;
    const res = await post(h, CAPTURED_BODY);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ ok: true });

    const [reading, ...rest] = h.spooled();
    expect(rest).toHaveLength(0);
    expect(reading).toMatchObject({
      v: 1,
      city: 'chiang-mai',
      station: STATION,
      device: DEVICE,
      kind: 'air',
      ts: 1_732_190_405_120,
      receivedAt: 1_732_190_405_120,
      values: { pm10: 12.3, pm25: 7.5, temperature: 29.4, humidity: 71.2 },
    });
    expect(reading?.seq).toBeUndefined();
    // The bus carries the same record, in a batch on the city's readings topic.
    expect(h.published).toHaveLength(1);
    expect(h.published[0]?.topic).toBe(topics.readings('chiang-mai'));
    expect(JSON.parse(h.published[0]?.payload ?? '')).toEqual({ v: 1, readings: [reading] });

    expect(h.stats).toMatchObject({ received: 1, accepted: 1, spooled: 1, ignoredValues: 4 });
    const text = await h.metricsText();
    expect(text).toContain('gateway_http_push_requests_total{result="accepted"} 1');
    expect(text).toContain('gateway_readings_accepted_total 1');
    expect(text).toContain('gateway_values_ignored_total 4');
    expect(text).toContain('gateway_http_push_registered_sensors 2');
  });

  it('maps PMS, BME280 and SHT3X types, preferring the better sensor when two report one metric', async () => {
    const h = await harness();
    const body = firmwareBody([
      ['PMS_P0', '8.00'],
      ['PMS_P1', '15.00'],
      ['PMS_P2', '11.00'],
      ['temperature', '31.00'],
      ['humidity', '65.00'],
      ['BME280_temperature', '30.10'],
      ['BME280_pressure', '97012.00'],
      ['BME280_humidity', '60.20'],
      ['GPS_date', '01/31/2024'],
      ['signal', '-70'],
    ]);
    expect((await post(h, body)).statusCode).toBe(200);
    const [r] = h.readings();
    expect(r?.values).toEqual({ pm1: 8, pm10: 15, pm25: 11, temperature: 30.1, humidity: 60.2 });
    // DHT22 temperature and humidity (shadowed), pressure, GPS_date and signal are not stored.
    expect(h.stats.ignoredValues).toBe(5);
  });

  it('accepts the Sensor.Community per-sensor format (X-Pin, prefix stripped) as one reading per POST', async () => {
    const h = await harness();
    h.clock.now = 1_732_190_405_000;
    const pm =
      '{"software_version": "NRZ-2020-133", "sensordatavalues":[{"value_type":"P1","value":"20.10"},{"value_type":"P2","value":"9.80"}]}';
    const th =
      '{"software_version": "NRZ-2020-133", "sensordatavalues":[{"value_type":"temperature","value":"28.00"},{"value_type":"humidity","value":"70.00"}]}';
    expect((await post(h, pm, { 'x-pin': '1' })).statusCode).toBe(200);
    // Same millisecond: the second reading still gets its own (later) time, so it cannot overwrite the first.
    expect((await post(h, th, { 'x-pin': '7' })).statusCode).toBe(200);
    const [a, b] = h.readings();
    expect(a?.values).toEqual({ pm10: 20.1, pm25: 9.8 });
    expect(b?.values).toEqual({ temperature: 28, humidity: 70 });
    expect(a?.ts).toBe(1_732_190_405_000);
    expect(b?.ts).toBe(1_732_190_405_001);
  });

  it('does not read plain P1/P2 without X-Pin 1: in the custom-API body they are PPD42NS particle counts', async () => {
    const h = await harness();
    const ppd = firmwareBody([
      ['durP1', '31213'],
      ['ratioP1', '0.10'],
      ['P1', '52.13'],
      ['durP2', '0'],
      ['ratioP2', '0.00'],
      ['P2', '0.62'],
      ['signal', '-71'],
    ]);
    const res = await post(h, ppd);
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ ok: false, reason: 'no_values' });
    expect(h.spooled()).toHaveLength(0);
  });

  it('answers a browser GET with a short explanation', async () => {
    const h = await harness();
    const res = await h.app.inject({ method: 'GET', url: PATH });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ ok: true });
  });
});

describe('airrohr push: bad requests are answered, counted and dead-lettered', () => {
  const cases: [string, string | Buffer, string][] = [
    ['invalid JSON', '{"esp8266id": "13463418", "sensordatavalues":[', 'malformed_json'],
    ['an empty body', '', 'malformed_json'],
    ['invalid UTF-8', Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), 'invalid_utf8'],
    ['a missing sensordatavalues', '{"esp8266id": "13463418", "software_version": "NRZ-2020-133"}', 'schema_violation'],
    ['sensordatavalues not an array', '{"sensordatavalues": {"SDS_P1": "1"}}', 'schema_violation'],
    ['an empty sensordatavalues', '{"sensordatavalues": []}', 'schema_violation'],
    ['a value that is null', '{"sensordatavalues":[{"value_type":"SDS_P1","value":null}]}', 'schema_violation'],
    ['a JSON array', '[{"value_type":"SDS_P1","value":"1"}]', 'schema_violation'],
    ['a decimal comma', firmwareBody([['SDS_P1', '12,30']]), 'non_numeric_value'],
    ['nan from a failed sensor', firmwareBody([['SDS_P2', 'nan']]), 'non_numeric_value'],
    ['an exponent', firmwareBody([['temperature', '2.9e1']]), 'non_numeric_value'],
    [
      'a negative PM value',
      firmwareBody([
        ['SDS_P1', '-1.00'],
        ['SDS_P2', '7.50'],
      ]),
      'impossible_value',
    ],
    ['humidity above 100 %', firmwareBody([['humidity', '101.00']]), 'impossible_value'],
    [
      'no value we store',
      firmwareBody([
        ['samples', '5128463'],
        ['signal', '-67'],
      ]),
      'no_values',
    ],
    ['another chip id in the body', firmwareBody([['SDS_P1', '1.00']], '99999999'), 'schema_violation'],
  ];

  it.each(cases)('%s -> 400 %s', async (_name, payload, reason) => {
    const h = await harness();
    const res = await post(h, payload);
    expect(res.statusCode).toBe(400);
    const answer = res.json();
    expect(answer).toMatchObject({ ok: false, reason });
    expect(answer.message.length).toBeGreaterThan(20);
    expect(h.spooled()).toHaveLength(0);
    expect(h.readings()).toHaveLength(0);
    const [dl, ...more] = h.deadLetters();
    expect(more).toHaveLength(0);
    expect(dl).toMatchObject({ reason, topicName: topics.deadletter('chiang-mai', DEVICE) });
    expect(dl?.topic).toBe(`POST ${PATH} X-Sensor=${SENSOR}`);
    // The dead letter echoes the body as received (base64 when it is not UTF-8).
    if (typeof payload === 'string') expect(dl?.payload).toBe(payload);
    else expect(dl).toMatchObject({ encoding: 'base64', payload: payload.toString('base64') });
    expect(h.stats.received).toBe(1);
    expect(h.stats.rejected.get(reason as never)).toBe(1);
    expect(h.pushStats.get('bad_request')).toBe(1);
    expect(await h.metricsText()).toContain(`gateway_messages_rejected_total{reason="${reason}"} 1`);
  });

  it('names the offending value in the message', async () => {
    const h = await harness();
    const neg = await post(h, firmwareBody([['SDS_P1', '-1.00']]));
    expect(neg.json().message).toContain('pm10=-1 (SDS_P1)');
    const nan = await post(h, firmwareBody([['SDS_P2', 'nan']]));
    expect(nan.json().message).toContain('SDS_P2="nan"');
  });

  it('413 for a body over the limit, without reading it', async () => {
    const h = await harness();
    const huge = firmwareBody(Array.from({ length: 400 }, (_, i) => [`x${i}`, 'y'.repeat(40)] as [string, string]));
    expect(huge.length).toBeGreaterThan(16 * 1024);
    const res = await post(h, huge);
    expect(res.statusCode).toBe(413);
    expect(res.json()).toMatchObject({ ok: false, reason: 'payload_too_large' });
    expect(res.json().message).toContain(`${huge.length} bytes > 16384`);
    expect(h.deadLetters()[0]).toMatchObject({ reason: 'payload_too_large', payload: '' });
    expect(h.pushStats.get('payload_too_large')).toBe(1);
  });

  it.each([
    ['text/plain', { 'content-type': 'text/plain' }],
    ['form data', { 'content-type': 'application/x-www-form-urlencoded' }],
  ])('415 for %s', async (_name, headers) => {
    const h = await harness();
    const res = await post(h, CAPTURED_BODY, headers);
    expect(res.statusCode).toBe(415);
    expect(res.json()).toMatchObject({ ok: false, reason: 'unsupported_media_type' });
    expect(h.deadLetters()[0]?.reason).toBe('unsupported_media_type');
    expect(h.pushStats.get('unsupported_media_type')).toBe(1);
  });

  it('415 without a Content-Type; a charset parameter is fine', async () => {
    const h = await harness();
    const { 'content-type': _, ...noType } = FIRMWARE_HEADERS;
    const res = await h.app.inject({ method: 'POST', url: PATH, headers: noType, payload: CAPTURED_BODY });
    expect(res.statusCode).toBe(415);
    const ok = await post(h, CAPTURED_BODY, { 'content-type': 'application/json; charset=utf-8' });
    expect(ok.statusCode).toBe(200);
  });

  it('400 bad_sensor_header for a missing or malformed X-Sensor or X-Pin', async () => {
    const h = await harness();
    const { 'x-sensor': _, ...noSensor } = FIRMWARE_HEADERS;
    const missing = await h.app.inject({ method: 'POST', url: PATH, headers: noSensor, payload: CAPTURED_BODY });
    expect(missing.statusCode).toBe(400);
    expect(missing.json()).toMatchObject({ reason: 'bad_sensor_header' });
    const bad = await post(h, CAPTURED_BODY, { 'x-sensor': 'esp8266/../13463418' });
    expect(bad.json()).toMatchObject({ reason: 'bad_sensor_header' });
    const pin = await post(h, CAPTURED_BODY, { 'x-pin': 'one' });
    expect(pin.json()).toMatchObject({ reason: 'bad_sensor_header' });
    // Dead letters of unusable ids go to the reserved topic level.
    expect(h.deadLetters().map((d) => d.topicName)).toEqual([
      topics.deadletter('chiang-mai', 'invalid-device-id'),
      topics.deadletter('chiang-mai', 'invalid-device-id'),
      topics.deadletter('chiang-mai', DEVICE),
    ]);
    expect(h.stats.rejected.get('bad_sensor_header')).toBe(3);
  });
});

describe('airrohr push: registration', () => {
  it('403 for an unregistered sensor, telling the citizen how to register; dead-lettered', async () => {
    const h = await harness();
    const body = firmwareBody([['SDS_P1', '12.30']], '99999999');
    const res = await post(h, body, { 'x-sensor': 'esp8266-99999999' });
    expect(res.statusCode).toBe(403);
    const answer = res.json();
    expect(answer).toMatchObject({ ok: false, reason: 'unregistered_sensor' });
    expect(answer.message).toContain('esp8266-99999999');
    expect(answer.message).toContain('https://cnx-sense.example/register');
    const [dl] = h.deadLetters();
    expect(dl).toMatchObject({
      reason: 'unregistered_sensor',
      topicName: topics.deadletter('chiang-mai', 'esp8266-99999999'),
      payload: body,
    });
    expect(h.spooled()).toHaveLength(0);
    const text = await h.metricsText();
    expect(text).toContain('gateway_messages_rejected_total{reason="unregistered_sensor"} 1');
    expect(text).toContain('gateway_http_push_requests_total{result="unregistered"} 1');
  });

  it('an unregistered sensor learns it before any body error', async () => {
    const h = await harness();
    const res = await post(h, '{"sensordatavalues": []}', { 'x-sensor': 'esp8266-99999999' });
    expect(res.statusCode).toBe(403);
  });

  it('X-Sensor is matched case-insensitively (ESP32 chip ids are hex)', async () => {
    const h = await harness();
    const body = firmwareBody([['SDS_P2', '5.00']], 'A1B2C3D4E5F6');
    const res = await post(h, body, {
      'x-sensor': 'esp32-A1B2C3D4E5F6',
      authorization: basic('esp32-a1b2c3d4e5f6', 'chiangmai-2024'),
    });
    expect(res.statusCode).toBe(200);
    expect(h.readings()[0]?.device).toBe('cm-air-citizen-0002');
  });

  it('a registration with a password needs HTTP basic auth with it (401 otherwise)', async () => {
    const h = await harness();
    const body = firmwareBody([['SDS_P2', '5.00']], 'a1b2c3d4e5f6');
    const headers = { 'x-sensor': 'esp32-a1b2c3d4e5f6' };
    const none = await post(h, body, headers);
    expect(none.statusCode).toBe(401);
    expect(none.headers['www-authenticate']).toMatch(/^Basic realm=/);
    expect(none.json()).toMatchObject({ ok: false, reason: 'bad_credentials' });
    const wrong = await post(h, body, { ...headers, authorization: basic('x', 'chiangmai-2023') });
    expect(wrong.statusCode).toBe(401);
    const right = await post(h, body, { ...headers, authorization: basic('anything', 'chiangmai-2024') });
    expect(right.statusCode).toBe(200);
    expect(h.stats.rejected.get('bad_credentials')).toBe(2);
    expect(h.pushStats.get('unauthorized')).toBe(2);
  });
});

describe('airrohr push: retries and back-pressure', () => {
  it('a retry of the same body within the window is answered 200 without a second reading', async () => {
    const h = await harness();
    const t0 = Date.now();
    h.clock.now = t0;
    expect((await post(h, CAPTURED_BODY)).statusCode).toBe(200);
    h.clock.now = t0 + 5_000;
    const retry = await post(h, CAPTURED_BODY);
    expect(retry.statusCode).toBe(200);
    expect(retry.json()).toMatchObject({ ok: true, duplicate: true });
    expect(h.readings()).toHaveLength(1);
    expect(h.pushStats.get('duplicate')).toBe(1);
    // After the window the same bytes are a new reading (a real sensor never repeats `samples`).
    h.clock.now = t0 + 61_000;
    expect((await post(h, CAPTURED_BODY)).json()).toEqual({ ok: true });
    expect(h.readings().map((r) => r.ts)).toEqual([t0, t0 + 61_000]);
  });

  it('dedupe can be switched off', async () => {
    const h = await harness({ config: { dedupeWindowMs: 0 } });
    await post(h, CAPTURED_BODY);
    await post(h, CAPTURED_BODY);
    expect(h.readings()).toHaveLength(2);
  });

  it('503 with Retry-After while the spool is full; nothing dead-lettered; accepted again once drained', async () => {
    const h = await harness({ spoolMaxBytes: 1 });
    // The first reading fills the spool (the check is before each write).
    expect((await post(h, CAPTURED_BODY)).statusCode).toBe(200);
    expect(h.spool.full).toBe(true);
    const res = await post(h, firmwareBody([['SDS_P1', '3.00']]));
    expect(res.statusCode).toBe(503);
    expect(res.headers['retry-after']).toBe('60');
    expect(res.json()).toMatchObject({ ok: false, reason: 'spool_full' });
    expect(h.deadLetters()).toHaveLength(0);
    expect(h.stats.received).toBe(1);
    expect(h.pushStats.get('spool_full')).toBe(1);
    // The writer drains the spool: intake resumes.
    expect(h.spooled()).toHaveLength(1);
    expect(h.spool.full).toBe(false);
    expect((await post(h, firmwareBody([['SDS_P1', '3.00']]))).statusCode).toBe(200);
  });

  it('reports the reason when the ingest step itself refuses the decoded reading', async () => {
    const h = await harness({
      ingest: {
        step: {
          register: () => undefined,
          decoded: () => ({ ok: false, error: { reason: 'no_values', detail: 'none' } }),
        },
      },
    });
    const res = await post(h, CAPTURED_BODY);
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ ok: false, reason: 'no_values' });
    expect(h.deadLetters()[0]).toMatchObject({
      reason: 'no_values',
      topicName: topics.deadletter('chiang-mai', DEVICE),
      payload: CAPTURED_BODY,
    });
  });

  it('answers 503, never 200, when the reading cannot be committed (spool write refused)', async () => {
    const h = await harness({ ingest: { sink: { full: false, commit: () => false } as never } });
    const res = await post(h, CAPTURED_BODY);
    expect(res.statusCode).toBe(503);
    expect(res.json()).toMatchObject({ ok: false, reason: 'spool_full' });
    // Not remembered as accepted: the same body is not treated as a retry next time.
    const again = await post(h, CAPTURED_BODY);
    expect(again.json()).not.toMatchObject({ duplicate: true });
  });

  it('never crashes: an internal error is a 500, counted, and the next request is served', async () => {
    let calls = 0;
    const h = await harness({
      ingest: {
        sink: {
          full: false,
          commit: () => {
            calls++;
            if (calls === 1) throw new Error('disk on fire');
            return true;
          },
        } as never,
      },
    });
    const res = await post(h, CAPTURED_BODY);
    expect(res.statusCode).toBe(500);
    expect(res.json()).toEqual({ ok: false, reason: 'internal_error', message: 'internal error' });
    expect(h.pushStats.get('error')).toBe(1);
    expect((await post(h, CAPTURED_BODY)).statusCode).toBe(200);
  });
});
