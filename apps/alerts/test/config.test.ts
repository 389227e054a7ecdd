import { readdirSync } from 'node:fs';
import { loadCityPackSync, REPO_CITIES_DIR, resolveCityDir } from '@cnx/city-pack';
import { formatUtcOffset, timeZoneOffsetMs } from '@cnx/domain';
import type { ConfigError } from '@cnx/runtime';
import { describe, expect, it } from 'vitest';
import {
  cityDayStart,
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
    expect(c.mqttUsername).toBeUndefined();
    // Personal data (docs/privacy.md): unconfirmed 48 h, ended subscriptions 30 days.
    expect(c).toMatchObject({ confirmTtlMs: 48 * 3_600_000, unsubscribedRetentionMs: 30 * 86_400_000 });
  });
  it('refuses a retention out of range, naming it', () => {
    expect(loadAlertsConfig({ ALERTS_UNSUBSCRIBED_RETENTION_D: '0' }).unsubscribedRetentionMs).toBe(0);
    for (const bad of ['-1', '366', 'month']) {
      try {
        loadAlertsConfig({ ALERTS_UNSUBSCRIBED_RETENTION_D: bad });
        expect.unreachable();
      } catch (e) {
        expect((e as ConfigError).problems.join('\n')).toContain('ALERTS_UNSUBSCRIBED_RETENTION_D');
      }
    }
  });
  it('takes its broker account (infra/mosquitto: cnx-alerts)', () => {
    const c = loadAlertsConfig({ ALERTS_MQTT_USERNAME: 'cnx-alerts', ALERTS_MQTT_PASSWORD: 'secret' });
    expect(c).toMatchObject({ mqttUsername: 'cnx-alerts', mqttPassword: 'secret' });
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
  it('checks the sender lease settings (at least two renewals per lease)', () => {
    const c = loadAlertsConfig({});
    expect(c).toMatchObject({ leaseTtlMs: 10_000, leaseRenewMs: 2000 });
    expect(c.instanceId).toMatch(new RegExp(`-${process.pid}$`));
    expect(loadAlertsConfig({ ALERTS_INSTANCE_ID: 'alerts-b' }).instanceId).toBe('alerts-b');
    try {
      loadAlertsConfig({ ALERTS_LEASE_TTL_MS: '3000', ALERTS_LEASE_RENEW_MS: '2000' });
      expect.unreachable();
    } catch (e) {
      expect((e as ConfigError).problems).toEqual([
        'ALERTS_LEASE_RENEW_MS=2000 must be at most half of ALERTS_LEASE_TTL_MS=3000',
      ]);
    }
    try {
      loadAlertsConfig({ ALERTS_LEASE_TTL_MS: '500' });
      expect.unreachable();
    } catch (e) {
      expect((e as ConfigError).problems.join('\n')).toMatch(/ALERTS_LEASE_TTL_MS/);
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

/** The time zone of every city pack in cities/, and one that is not the packs' (west of Greenwich). */
const ZONES = [
  ...readdirSync(REPO_CITIES_DIR, { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .map((e) => {
      const pack = loadCityPackSync(resolveCityDir(e.name));
      if (!pack.ok) throw new Error(`city pack ${e.name} is invalid`);
      return [e.name, pack.value.city.timezone] as const;
    }),
  ['(a zone west of Greenwich)', 'America/Mexico_City'] as const,
];

describe.each(ZONES)('quiet hours and the local day of %s (%s)', (_city, zone) => {
  const offset = formatUtcOffset(timeZoneOffsetMs(zone, Date.UTC(2025, 2, 10)));
  const at = (hhmm: string, day = '10') => Date.parse(`2025-03-${day}T${hhmm}:00${offset}`);
  it("defers a delivery inside quiet hours to their end (the city's time, across midnight)", () => {
    const q = { quiet_start: 22 * 60, quiet_end: 7 * 60 };
    expect(quietEnd(q, at('12:00'), zone)).toBe(at('12:00'));
    expect(quietEnd(q, at('06:30'), zone)).toBe(at('07:00'));
    expect(quietEnd(q, at('23:00'), zone)).toBe(at('07:00', '11'));
    expect(cityDayStart(at('06:30'), zone)).toBe(at('00:00'));
  });
});
