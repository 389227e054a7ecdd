import { topics } from '@cnx/protocol';
import { freePort, makeTempDir, removeDir } from '@cnx/testkit';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Gateway } from '../src/gateway';
import { chiangMaiAirDevices, collect, connect, publishQos1, startTestGateway } from './helpers';

/**
 * The embedded broker of `npm start` (aedes) binds the gateway's client id to the gateway: before,
 * any client connecting with that id took the gateway's persistent session (and the readings queued
 * in it) and disconnected the gateway.
 */
const ALERTS_PASSWORD = 'alerts-password-of-this-start';

describe('embedded broker: the gateway session cannot be taken over', () => {
  let dir: string;
  let gateway: Gateway;
  let url: string;

  beforeAll(async () => {
    dir = await makeTempDir('cnx-embedded-');
    const port = await freePort();
    url = `mqtt://127.0.0.1:${port}`;
    gateway = await startTestGateway({
      CNX_DATA_DIR: dir,
      CNX_MQTT_PORT: String(port),
      GATEWAY_EMBEDDED_MQTT_ACCOUNTS: `cnx-alerts:${ALERTS_PASSWORD}`, // as npm start passes it
    });
  });
  afterAll(async () => {
    await gateway?.stop();
    if (dir) await removeDir(dir);
  });

  it("refuses the gateway's client id and username to anyone else; the gateway keeps receiving", async () => {
    const clientId = 'cnx-gateway-chiang-mai'; // GATEWAY_MQTT_CLIENT_ID's default for this city
    const attempt = (opts: mqtt.IClientOptions) =>
      mqtt.connectAsync(url, { clientId, clean: false, reconnectPeriod: 0, ...opts });
    await expect(attempt({})).rejects.toMatchObject({ code: 5 });
    await expect(attempt({ username: 'cnx-gateway', password: 'a-guess' })).rejects.toMatchObject({ code: 5 });
    await expect(attempt({ clientId: 'someone', username: 'cnx-gateway', password: 'x' })).rejects.toMatchObject({
      code: 5,
    });

    // The alerts service's session (cnx-alerts-<city>, persistent) is bound to its account the same way.
    const alerts = { clientId: 'cnx-alerts-chiang-mai', clean: false, reconnectPeriod: 0 };
    await expect(mqtt.connectAsync(url, alerts)).rejects.toMatchObject({ code: 5 });
    await expect(
      mqtt.connectAsync(url, { ...alerts, username: 'cnx-alerts', password: 'wrong' }),
    ).rejects.toMatchObject({
      code: 5,
    });
    await expect(
      mqtt.connectAsync(url, { ...alerts, clientId, username: 'cnx-alerts', password: ALERTS_PASSWORD }),
    ).rejects.toMatchObject({ code: 5 }); // one account cannot take another's client id
    const realAlerts = await mqtt.connectAsync(url, { ...alerts, username: 'cnx-alerts', password: ALERTS_PASSWORD });
    await realAlerts.endAsync();

    // Devices (anonymous, as on every npm start) still connect, and their readings reach the bus.
    const reader = await connect(url, 'bus-reader');
    const bus = await collect(reader, topics.readings('chiang-mai'));
    const device = (await chiangMaiAirDevices())[0]!;
    const client = await connect(url, device);
    await publishQos1(
      client,
      topics.telemetry('chiang-mai', device),
      JSON.stringify({ ts: Date.now(), seq: 1, values: { pm25: 20 } }),
    );
    await bus.waitForReadings(1);
    expect(bus.readings()[0]).toMatchObject({ device });
    await Promise.all([reader.endAsync(), client.endAsync()]);
  });
});
