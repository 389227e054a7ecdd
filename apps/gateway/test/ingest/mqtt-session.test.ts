import { createLogger } from '@cnx/runtime';
import { type MosquittoHandle, startMosquitto } from '@cnx/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MqttSession, type SessionHandler } from '../../src/ingest/mqtt-session';
import { connect, publishQos1, waitFor } from '../helpers';

/** A session that records what it was handed; commits always succeed. */
function recordingSession(url: string, readCoalesceMs: number) {
  const got: string[] = [];
  const handler: SessionHandler = {
    message: (_topic, payload) => {
      got.push(payload.toString('utf8'));
      return true;
    },
    oversized: () => undefined,
    commit: () => true,
    connected: () => undefined,
    disconnected: () => undefined,
    reconnecting: () => undefined,
  };
  const session = new MqttSession(
    {
      url,
      clientId: 'session-test',
      subscriptions: { 'test/#': 1 },
      maxPacketBytes: 65_536,
      readCoalesceMs,
      logger: createLogger('session-test', 'silent'),
    },
    handler,
  );
  return { session, got };
}

describe('MqttSession read coalescing (real Mosquitto)', () => {
  let mosq: MosquittoHandle;
  beforeAll(async () => {
    mosq = await startMosquitto();
  });
  afterAll(async () => {
    await mosq?.stop();
  });

  it('a fast stream read in coalesced batches arrives complete, in order, once, and is acknowledged', async () => {
    const N = 3000;
    const a = recordingSession(mosq.url, 5);
    await a.session.start();
    const pub = await connect(mosq.url, 'session-test-pub');
    try {
      // One burst, then one message after a quiet spell (it must not wait for more to come).
      await Promise.all(Array.from({ length: N }, (_, i) => publishQos1(pub, 'test/stream', `m${i}`)));
      await waitFor(() => a.got.length === N, 20_000, `${N} messages`);
      await new Promise((r) => setTimeout(r, 100));
      await publishQos1(pub, 'test/stream', 'after-quiet');
      await waitFor(() => a.got.length === N + 1, 20_000, 'the message after the quiet spell');
      expect(a.got).toEqual([...Array.from({ length: N }, (_, i) => `m${i}`), 'after-quiet']);
      // (What coalescing saves is measured by the bench, not here: `gateway+GATEWAY_MQTT_READ_COALESCE_MS=0`.)
      await a.session.stop();

      // Everything was acknowledged: the persistent session has nothing to deliver again.
      const b = recordingSession(mosq.url, 5);
      await b.session.start();
      await publishQos1(pub, 'test/stream', 'marker');
      await waitFor(() => b.got.length > 0, 20_000, 'the marker');
      expect(b.got).toEqual(['marker']);
      await b.session.stop();
    } finally {
      await new Promise<void>((r) => pub.end(true, {}, () => r()));
    }
  });
});
