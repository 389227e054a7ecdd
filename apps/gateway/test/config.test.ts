import { ConfigError } from '@cnx/runtime';
import { describe, expect, it } from 'vitest';
import { loadGatewayConfig } from '../src/config';

describe('gateway config', () => {
  it('works with nothing set: embedded broker, SQLite under ./data', () => {
    const c = loadGatewayConfig({});
    expect(c.mqttUrl).toBeUndefined();
    expect(c.embeddedBroker).toEqual({ host: '127.0.0.1', port: 1883 });
    expect(c.store.backend).toBe('sqlite');
    expect(c.city).toBe('chiang-mai');
    expect(c.spool.fsync).toBe('interval');
  });

  it('chooses InfluxDB when INFLUX_URL is set', () => {
    const c = loadGatewayConfig({ INFLUX_URL: 'http://127.0.0.1:8086', INFLUX_DB: 'city', INFLUX_TOKEN: 't' });
    expect(c.store).toMatchObject({ backend: 'influxdb', url: 'http://127.0.0.1:8086', database: 'city', token: 't' });
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
    ]) {
      expect(text).toContain(needle);
    }
    expect(error!.problems).toHaveLength(7);
  });
});
