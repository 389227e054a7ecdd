import { existsSync, readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { describe, expect, it } from 'vitest';
import { canConnect, MOSQUITTO_MAX_QUEUED_MESSAGES, startMosquitto } from '../src/index';

/** Sends an MQTT 3.1.1 CONNECT and resolves with the CONNACK return code. */
function mqttConnect(port: number): Promise<number> {
  const clientId = Buffer.from('cnx-testkit');
  const variable = Buffer.from([0x00, 0x04, 0x4d, 0x51, 0x54, 0x54, 0x04, 0x02, 0x00, 0x3c]);
  const payload = Buffer.concat([Buffer.from([0x00, clientId.length]), clientId]);
  const packet = Buffer.concat([Buffer.from([0x10, variable.length + payload.length]), variable, payload]);
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port }, () => socket.write(packet));
    socket.setTimeout(5000, () => socket.destroy(new Error('no CONNACK within 5 s')));
    socket.once('error', reject);
    socket.once('data', (data) => {
      socket.destroy();
      if (data[0] !== 0x20) reject(new Error(`expected CONNACK, got 0x${data[0]?.toString(16)}`));
      else resolve(data[3]!);
    });
  });
}

describe('startMosquitto', () => {
  it('starts an anonymous loopback broker on a free port and stops it', async () => {
    const broker = await startMosquitto();
    try {
      expect(broker.url).toBe(`mqtt://127.0.0.1:${broker.port}`);
      expect(await mqttConnect(broker.port)).toBe(0);
      const conf = readFileSync(broker.configPath, 'utf8');
      expect(conf).toContain(`listener ${broker.port} 127.0.0.1`);
      expect(conf).toContain(`max_queued_messages ${MOSQUITTO_MAX_QUEUED_MESSAGES}`);
      expect(conf).toContain('persistence false');
    } finally {
      await broker.stop();
    }
    expect(broker.running).toBe(false);
    expect(await canConnect(broker.port)).toBe(false);
    expect(existsSync(broker.configPath)).toBe(false);
  });

  it('restarts on the same port with persistence (the database file survives)', async () => {
    const broker = await startMosquitto({ persistence: true });
    try {
      const port = broker.port;
      await broker.stopProcess();
      expect(await canConnect(port)).toBe(false);
      expect(existsSync(`${broker.dataDir}/mosquitto.db`)).toBe(true);
      await broker.restart();
      expect(broker.port).toBe(port);
      expect(await mqttConnect(port)).toBe(0);
      await broker.kill();
      expect(broker.running).toBe(false);
      await broker.restart();
      expect(await mqttConnect(port)).toBe(0);
    } finally {
      await broker.stop();
    }
  });

  it('fails with the broker output when the config is bad', async () => {
    await expect(startMosquitto({ extraConfig: 'no_such_option 1' })).rejects.toThrow(/mosquitto exited before/);
  });
});
