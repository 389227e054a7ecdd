import { ConfigError } from '@cnx/runtime';
import { describe, expect, it } from 'vitest';
import { loadApiConfig, redactedConfig } from '../src/config';

describe('API configuration', () => {
  it('defaults to the gateway SQLite file read-only, the embedded broker and port 8080', () => {
    const c = loadApiConfig({ CNX_DATA_DIR: '/srv/cnx' });
    expect(c.port).toBe(8080);
    expect(c.host).toBe('127.0.0.1');
    expect(c.store).toEqual({ backend: 'sqlite', path: '/srv/cnx/cnx.sqlite' });
    expect(c.mqtt).toEqual({ url: 'mqtt://127.0.0.1:1883', username: undefined, password: undefined });
    expect(c.adminKeys).toEqual([]);
    expect(c.limits).toEqual({ maxPoints: 10_000, rawMaxDays: 31, seriesMaxDays: 3660, exportMaxDays: 366 });
    // Staff routes are off until the alerts service is named (npm start names it).
    expect(c.alerts).toBeUndefined();
    expect(loadApiConfig({ API_ALERTS_URL: 'http://127.0.0.1:8082/' }).alerts).toEqual({
      url: 'http://127.0.0.1:8082',
      timeoutMs: 5000,
    });
  });

  it('selects InfluxDB like the gateway does, and can turn the live stream off', () => {
    const c = loadApiConfig({
      INFLUX_URL: 'http://db:8086',
      INFLUX_DB: 'air',
      INFLUX_TOKEN: 't0k3n',
      API_LIVE: 'false',
    });
    expect(c.store).toMatchObject({ backend: 'influxdb', url: 'http://db:8086', database: 'air', token: 't0k3n' });
    expect(c.store).toMatchObject({ version: 'auto', createDatabase: false });
    const v3 = loadApiConfig({ INFLUX_URL: 'http://db:8181', INFLUX_VERSION: '3', INFLUX_TOKEN: 't0k3n' });
    expect(v3.store).toMatchObject({ version: '3', token: 't0k3n' });
    expect(c.mqtt).toBeUndefined();
    expect(JSON.stringify(redactedConfig(c))).not.toContain('t0k3n');
  });

  it('lists every bad setting at once', () => {
    let error: unknown;
    try {
      loadApiConfig({
        API_PORT: '99999',
        API_STORE: 'influxdb',
        API_MQTT_URL: 'ftp://x',
        API_ADMIN_KEYS: 'short, also-short',
        API_MAX_POINTS: '5',
        CNX_CITY: '../etc',
        API_LIVE: 'maybe',
        API_ALERTS_URL: 'http://user:pw@alerts:8082',
        API_ALERTS_TIMEOUT_MS: '5',
      });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems.join('\n');
    for (const name of [
      'API_PORT',
      'INFLUX_URL',
      'API_MQTT_URL',
      'API_ADMIN_KEYS: key #1',
      'API_ADMIN_KEYS: key #2',
      'API_MAX_POINTS',
      'CNX_CITY',
      'API_LIVE',
      'API_ALERTS_URL',
      'API_ALERTS_TIMEOUT_MS',
    ]) {
      expect(problems).toContain(name);
    }
  });
});
