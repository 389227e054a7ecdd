import { randomBytes } from 'node:crypto';
import { type DeviceStatusPayload, filters } from '@cnx/protocol';
import mqtt from 'mqtt';

/**
 * The devices of `ids` whose retained status on the broker says `online` now: another client already
 * plays them (typically the `npm start` fleet). A run for the same device id still connects (its own
 * client id), but the gateway sees one device whose readings interleave, so the CLI warns.
 *
 * Retained messages arrive after SUBACK; to know they all have, the check publishes one message to a
 * topic of its own after subscribing and waits for it to come back: the broker delivers in order.
 * Best effort: an error gives an empty list, no echo within `timeoutMs` what had arrived by then. Not
 * for brokers with logins and ACLs (a device may not read other devices' status): the CLI skips it
 * when `--username` is given; such a broker keeps one session per username anyway.
 */
export async function devicesOnline(
  url: string,
  city: string,
  ids: readonly string[],
  auth: { username?: string; password?: string } = {},
  timeoutMs = 3000,
): Promise<string[]> {
  const marker = `cnx/v1/${city}/sim-preflight/${randomBytes(6).toString('hex')}`;
  const online = new Set<string>();
  const wanted = new Set(ids);
  let client: mqtt.MqttClient | undefined;
  let timer: NodeJS.Timeout | undefined;
  try {
    client = await mqtt.connectAsync(url, { ...auth, reconnectPeriod: 0, connectTimeout: timeoutMs, clean: true });
    const c = client;
    const done = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, timeoutMs);
      c.on('message', (topic, payload, packet) => {
        if (topic === marker) return resolve();
        const id = topic.split('/')[4] ?? '';
        if (!packet.retain || !wanted.has(id)) return;
        try {
          if ((JSON.parse(payload.toString('utf8')) as DeviceStatusPayload).state === 'online') online.add(id);
          else online.delete(id);
        } catch {
          // not a status payload: ignore
        }
      });
    });
    await c.subscribeAsync([filters.allStatus(city), marker], { qos: 0 });
    await c.publishAsync(marker, '', { qos: 0 });
    await done;
  } catch {
    return [];
  } finally {
    clearTimeout(timer);
    client?.end(true);
  }
  return ids.filter((id) => online.has(id));
}
