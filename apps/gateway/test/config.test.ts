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
    expect(c.spool.checkpointIntervalMs).toBe(1000);
    expect(c.busBatchMs).toBe(25);
    expect(c.mqttAck).toEqual({ batch: 16, delayMs: 2, readCoalesceMs: 2 });
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
        GATEWAY_MQTT_ACK_BATCH: '0',
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
      'GATEWAY_MQTT_ACK_BATCH="0"',
      'GATEWAY_BUS_BATCH_MS="soon"',
      'GATEWAY_SPOOL_CHECKPOINT_MS="-1"',
    ]) {
      expect(text).toContain(needle);
    }
    expect(error!.problems).toHaveLength(10);
  });

  it('accepts plain and TLS MQTT URLs, and refuses WebSocket ones (the gateway has no WebSocket transport)', () => {
    for (const url of ['mqtt://127.0.0.1:1883', 'tcp://broker:1883', 'mqtts://broker:8883', 'ssl://broker']) {
      expect(loadGatewayConfig({ GATEWAY_MQTT_URL: url }).mqttUrl).toBe(url);
    }
    expect(() => loadGatewayConfig({ GATEWAY_MQTT_URL: 'ws://broker:9001' })).toThrow(
      /GATEWAY_MQTT_URL="ws:\/\/broker:9001"/,
    );
  });
});
