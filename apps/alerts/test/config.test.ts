import type { ConfigError } from '@cnx/runtime';
import { describe, expect, it } from 'vitest';
import {
  bangkokDayStart,
  loadAlertsConfig,
  loadRuleSet,
  parseReadingsMessage,
  quietEnd,
  validateRuleSet,
} from '../src/index';
import { busReading } from './process';

describe('config', () => {
  it('has defaults that work with npm start', () => {
    const c = loadAlertsConfig({});
    expect(c.mqttUrl).toBe('mqtt://127.0.0.1:1883');
    expect(c.dbFile).toMatch(/data\/alerts\.sqlite$/);
    expect(c.rulesFile).toMatch(/cities\/chiang-mai\/alert-rules\.json$/);
  });
  it('lists every bad setting at once', () => {
    try {
      loadAlertsConfig({
        ALERTS_HTTP_PORT: 'x',
        ALERTS_MQTT_URL: 'http://a',
        ALERTS_VAPID_PUBLIC_KEY: 'k',
        ALERTS_SMTP_URL: '::',
      });
      expect.unreachable();
    } catch (e) {
      expect((e as ConfigError).problems).toHaveLength(4);
    }
  });
});

describe('alert-rules.json', () => {
  it('the Chiang Mai rule file is valid', () => {
    const r = loadRuleSet(loadAlertsConfig({}).rulesFile, 'chiang-mai');
    expect(r.ok ? r.value.rules.length : r.problems).toBeGreaterThanOrEqual(7);
  });
  it('reports schema and cross-field problems', () => {
    const r = validateRuleSet({ v: 1, city: 'chiang-mai', rules: [{ id: 'X' }] }, 'chiang-mai');
    expect(r.ok).toBe(false);
    const bad = validateRuleSet(
      {
        v: 1,
        city: 'other',
        rules: [
          {
            id: 'a',
            name: { th: 'a', en: 'a' },
            signal: 'canal_level',
            stationKind: 'canal',
            direction: 'above',
            scope: 'district',
            levels: [
              { id: 'w', severity: 'warning', threshold: { station: 'warningLevelM' }, label: { th: 'w', en: 'w' } },
            ],
            durationMin: 0,
            hysteresis: 0,
            renotifyMin: 0,
          },
        ],
      },
      'chiang-mai',
    );
    expect(bad.ok ? [] : bad.problems).toHaveLength(2);
  });
});

describe('bus adapter', () => {
  const r = busReading('s', 'd', 'air', 'old-city', 1732190400000, { pm25: 1 });
  it('parses the batch format with the bus contract (@cnx/protocol) and refuses anything else', () => {
    expect(
      parseReadingsMessage('cnx/v1/chiang-mai/readings', JSON.stringify({ v: 1, readings: [r, r] })),
    ).toMatchObject({ ok: true });
    expect(parseReadingsMessage('cnx/v1/chiang-mai/readings/s', JSON.stringify(r))).toEqual({
      ok: false,
      error: 'unknown_topic',
    });
    expect(parseReadingsMessage('cnx/v1/chiang-mai/readings', JSON.stringify(r))).toEqual({
      ok: false,
      error: 'invalid',
    });
    // One reading that breaks the contract (here: no receivedAt) refuses the batch.
    const { receivedAt: _, ...partial } = r;
    expect(
      parseReadingsMessage('cnx/v1/chiang-mai/readings', JSON.stringify({ v: 1, readings: [r, partial] })),
    ).toEqual({ ok: false, error: 'invalid' });
    expect(parseReadingsMessage('cnx/v1/chiang-mai/readings', '{')).toEqual({ ok: false, error: 'malformed_json' });
    expect(parseReadingsMessage('cnx/v1/chiang-mai/readings', JSON.stringify({ v: 1, readings: [{}] }))).toMatchObject({
      ok: false,
    });
  });
});

describe('quiet hours and the Thai day', () => {
  const at = (hhmm: string) => Date.parse(`2025-03-10T${hhmm}:00+07:00`);
  it('defers a delivery inside quiet hours to their end (Thai time, across midnight)', () => {
    const q = { quiet_start: 22 * 60, quiet_end: 7 * 60 };
    expect(quietEnd(q, at('12:00'))).toBe(at('12:00'));
    expect(quietEnd(q, at('06:30'))).toBe(at('07:00'));
    expect(quietEnd(q, at('23:00'))).toBe(Date.parse('2025-03-11T07:00:00+07:00'));
    expect(bangkokDayStart(at('06:30'))).toBe(at('00:00'));
  });
});
