import { ConfigError } from '@cnx/runtime';
import { describe, expect, it } from 'vitest';
import { loadGatewayConfig } from '../src/config';

describe('gateway config', () => {
  it('works with nothing set: embedded broker, SQLite under ./data', () => {
    const c = loadGatewayConfig({});
    expect(c.mqttUrl).toBeUndefined();
    expect(c.embeddedBroker).toEqual({ host: '127.0.0.1', port: 1883, accounts: {} });
    expect(c.store.backend).toBe('sqlite');
    expect(c.city).toBe('chiang-mai');
    expect(c.spool.fsync).toBe('interval');
    expect(c.spool.checkpointIntervalMs).toBe(1000);
    expect(c.busBatchMs).toBe(25);
    expect(c.mqttVersion).toBe(4);
    expect(c.mqttClientId).toBe('cnx-gateway-chiang-mai');
    expect(c.mqttShareGroup).toBeUndefined();
  });
  it("reads the services' accounts on the embedded broker (npm start passes them)", () => {
    const pw = 'a-password-of-24-chars-x';
    const c = loadGatewayConfig({ GATEWAY_EMBEDDED_MQTT_ACCOUNTS: `cnx-alerts:${pw},cnx-api:${pw}` });
    expect(c.embeddedBroker.accounts).toEqual({ 'cnx-alerts': pw, 'cnx-api': pw });
    expect(() => loadGatewayConfig({ GATEWAY_EMBEDDED_MQTT_ACCOUNTS: 'cnx-alerts:short' })).toThrow(
      /GATEWAY_EMBEDDED_MQTT_ACCOUNTS/,
    );
  });

  it('chooses InfluxDB when INFLUX_URL is set', () => {
    const c = loadGatewayConfig({ INFLUX_URL: 'http://127.0.0.1:8086', INFLUX_DB: 'city', INFLUX_TOKEN: 't' });
    expect(c.store).toMatchObject({ backend: 'influxdb', url: 'http://127.0.0.1:8086', database: 'city', token: 't' });
    expect(c.store).toMatchObject({ version: 'auto', createDatabase: true });
  });

  it('takes INFLUX_VERSION, INFLUX_ORG and INFLUX_BUCKET; CREATE DATABASE only where 1.x is possible', () => {
    const env = { INFLUX_URL: 'http://db:8086', INFLUX_TOKEN: 't', INFLUX_ORG: 'city', INFLUX_BUCKET: 'air' };
    expect(loadGatewayConfig({ ...env, INFLUX_VERSION: '2' }).store).toMatchObject({
      version: '2',
      org: 'city',
      bucket: 'air',
      createDatabase: false,
    });
    expect(loadGatewayConfig({ ...env, INFLUX_VERSION: '3' }).store).toMatchObject({
      version: '3',
      createDatabase: false,
    });
    const v1 = { INFLUX_URL: 'http://db:8086', INFLUX_USERNAME: 'u', INFLUX_VERSION: '1' };
    expect(loadGatewayConfig(v1).store).toMatchObject({ version: '1', username: 'u', createDatabase: true });
  });

  it('refuses InfluxDB settings the named version cannot use, listing each', () => {
    const problems = (env: Record<string, string>): string[] => {
      try {
        loadGatewayConfig({ INFLUX_URL: 'http://db:8086', ...env });
      } catch (e) {
        return (e as ConfigError).problems;
      }
      return [];
    };
    expect(problems({ INFLUX_VERSION: '4' })).toEqual([expect.stringContaining('INFLUX_VERSION="4"')]);
    expect(problems({ INFLUX_VERSION: '1', INFLUX_TOKEN: 't' })).toEqual([
      expect.stringContaining('INFLUX_VERSION=1: InfluxDB 1.x has no API tokens'),
    ]);
    expect(problems({ INFLUX_VERSION: '2' })).toEqual([expect.stringContaining('needs INFLUX_TOKEN')]);
    expect(problems({ INFLUX_VERSION: '3', INFLUX_USERNAME: 'u', INFLUX_RP: 'autogen' })).toHaveLength(2);
    expect(problems({ INFLUX_TOKEN: 't', INFLUX_USERNAME: 'u' })).toEqual([expect.stringContaining('not both')]);
  });

  it('refuses to start listing every bad setting with its value', () => {
    let error: ConfigError | undefined;
    try {
      loadGatewayConfig({
        CNX_CITY: 'Chiang Mai!',
        GATEWAY_MQTT_URL: 'http//broker',
        GATEWAY_STORE: 'influxdb',
        GATEWAY_SPOOL_FSYNC: 'sometimes',
        GATEWAY_BATCH_SIZE: '0',
        GATEWAY_HTTP_PORT: '70000',
        GATEWAY_BUS_QOS: '2',
        GATEWAY_MQTT_VERSION: '4',
        GATEWAY_BUS_BATCH_MS: 'soon',
        GATEWAY_SPOOL_CHECKPOINT_MS: '-1',
      });
    } catch (e) {
      error = e as ConfigError;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const text = error!.problems.join('\n');
    for (const needle of [
      'CNX_CITY="Chiang Mai!"',
      'GATEWAY_MQTT_URL="http//broker"',
      'INFLUX_URL',
      'GATEWAY_SPOOL_FSYNC="sometimes"',
      'GATEWAY_BATCH_SIZE="0"',
      'GATEWAY_HTTP_PORT="70000"',
      'GATEWAY_BUS_QOS="2"',
      'GATEWAY_MQTT_VERSION="4"',
      'GATEWAY_BUS_BATCH_MS="soon"',
      'GATEWAY_SPOOL_CHECKPOINT_MS="-1"',
    ]) {
      expect(text).toContain(needle);
    }
    expect(error!.problems).toHaveLength(10);
  });

  it('accepts plain, TLS and WebSocket MQTT URLs; TLS files must exist, certificate and key together', () => {
    for (const url of [
      'mqtt://127.0.0.1:1883',
      'tcp://broker:1883',
      'mqtts://broker:8883',
      'ssl://broker',
      'ws://broker:9001/mqtt',
      'wss://broker/mqtt',
    ]) {
      expect(loadGatewayConfig({ GATEWAY_MQTT_URL: url }).mqttUrl).toBe(url);
    }
    expect(() => loadGatewayConfig({ GATEWAY_MQTT_URL: 'http://broker' })).toThrow(
      /GATEWAY_MQTT_URL="http:\/\/broker"/,
    );
    const here = new URL(import.meta.url).pathname;
    expect(loadGatewayConfig({ GATEWAY_MQTT_CA_FILE: here, GATEWAY_MQTT_VERSION: '5' })).toMatchObject({
      mqttTls: { caFile: here },
      mqttVersion: 5,
    });
    expect(() => loadGatewayConfig({ GATEWAY_MQTT_CA_FILE: '/nonexistent/ca.pem' })).toThrow(
      /GATEWAY_MQTT_CA_FILE="\/nonexistent\/ca.pem": no such file/,
    );
    expect(() => loadGatewayConfig({ GATEWAY_MQTT_CERT_FILE: here })).toThrow(/must be set together/);
  });

  it('in a share group, each instance gets its own stable client id (machine and spool directory)', () => {
    const a = loadGatewayConfig({ GATEWAY_MQTT_SHARE_GROUP: 'gateways', GATEWAY_SPOOL_DIR: '/var/lib/cnx/a' });
    const again = loadGatewayConfig({ GATEWAY_MQTT_SHARE_GROUP: 'gateways', GATEWAY_SPOOL_DIR: '/var/lib/cnx/a' });
    const b = loadGatewayConfig({ GATEWAY_MQTT_SHARE_GROUP: 'gateways', GATEWAY_SPOOL_DIR: '/var/lib/cnx/b' });
    expect(a.mqttClientId).toMatch(/^cnx-gateway-chiang-mai-[0-9a-f]{8}$/);
    expect(again.mqttClientId).toBe(a.mqttClientId);
    expect(b.mqttClientId).not.toBe(a.mqttClientId);
    expect(() => loadGatewayConfig({ GATEWAY_MQTT_SHARE_GROUP: 'a/b' })).toThrow(/GATEWAY_MQTT_SHARE_GROUP="a\/b"/);
  });

  it('rolls up every 5 min and keeps raw readings 90 days by default; retention under 2 days is refused', () => {
    expect(loadGatewayConfig({}).rollup).toEqual({ intervalMs: 300_000, rawRetentionMs: 90 * 86_400_000 });
    expect(loadGatewayConfig({ GATEWAY_ROLLUP_INTERVAL_S: '0' }).rollup.intervalMs).toBe(0);
    expect(() => loadGatewayConfig({ GATEWAY_RAW_RETENTION_DAYS: '1' })).toThrow(/GATEWAY_RAW_RETENTION_DAYS/);
  });
});
