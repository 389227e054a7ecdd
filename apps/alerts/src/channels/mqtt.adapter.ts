/**
 * The alert topic for the API's live stream: `cnx/v1/{city}/alerts/{ruleId}/{subject}`, QoS 1,
 * retained (a late subscriber learns the current state; a cleared alert replaces it).
 */
import type { MqttClient } from 'mqtt';
import type { Channel, OutgoingMessage, SendResult } from './types';

export class MqttAlertChannel implements Channel {
  readonly name = 'mqtt';
  constructor(private readonly client: () => MqttClient | undefined) {}

  async send(msg: OutgoingMessage): Promise<SendResult> {
    const c = this.client();
    if (!c?.connected || !msg.topic) return { ok: false, retryable: true, detail: 'mqtt not connected' };
    await c.publishAsync(msg.topic, JSON.stringify(msg.payload), { qos: 1, retain: true });
    return { ok: true, detail: 'published' };
  }
}
