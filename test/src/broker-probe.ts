import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { requireBinary } from '@cnx/testkit';
import type { MqttClient } from 'mqtt';

/**
 * What the suites that run the shipped broker rules (infra/mosquitto) on a real Mosquitto share:
 * test/infra/production-broker.ts (the whole mosquitto.conf) and test/e2e/broker-acl.e2e.test.ts
 * (its authentication lines): the accounts and the ACL file, and a client that records what it receives.
 */
export const infraMosquittoDir = fileURLToPath(new URL('../../infra/mosquitto/', import.meta.url));
/** Each test account's password, derived from its name. */
export const password = (user: string): string => `pw-${user}-${user.length}`;
/** A message that must arrive: generous, a slow shared machine is not a failure. */
export const ARRIVAL_TIMEOUT_MS = 10_000;

/**
 * Writes `<dir>/passwd` with an account per user (hashed by the real `mosquitto_passwd`) and
 * `<dir>/acl`, the shipped ACL verbatim; both 0600.
 */
export function writeBrokerAccounts(dir: string, users: readonly string[]): { passwordFile: string; aclFile: string } {
  const passwordFile = join(dir, 'passwd');
  writeFileSync(passwordFile, '', { mode: 0o600 });
  const passwd = requireBinary('mosquitto_passwd', 'mosquitto');
  for (const user of users) execFileSync(passwd, ['-b', passwordFile, user, password(user)]);
  const aclFile = join(dir, 'acl');
  writeFileSync(aclFile, readFileSync(join(infraMosquittoDir, 'acl')), { mode: 0o600 });
  return { passwordFile, aclFile };
}

export interface Received {
  topic: string;
  payload: string;
  /** Delivered from the broker's retained store (on subscribe), not live. */
  retain: boolean;
}

/** A connected client that records every message it receives. */
export interface Recorder {
  client: MqttClient;
  received: Received[];
  /** Resolves with the first message matching `pred`, already received or future. */
  waitFor(pred: (m: Received) => boolean): Promise<Received>;
}

/**
 * Records from now on: call it before the CONNACK, since a persistent session's queued messages
 * arrive right behind it. `name` labels the timeout error.
 */
export function recordMessages(client: MqttClient, name: string): Recorder {
  const received: Received[] = [];
  const waiters: Array<{ pred: (m: Received) => boolean; resolve: (m: Received) => void }> = [];
  client.on('message', (topic, payload, packet) => {
    const m = { topic, payload: payload.toString('utf8'), retain: packet.retain };
    received.push(m);
    for (const w of waiters.filter((x) => x.pred(m))) {
      waiters.splice(waiters.indexOf(w), 1);
      w.resolve(m);
    }
  });
  const waitFor = (pred: (m: Received) => boolean) => {
    const seen = received.find(pred);
    if (seen) return Promise.resolve(seen);
    return new Promise<Received>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${name}: expected message not received`)), ARRIVAL_TIMEOUT_MS);
      waiters.push({
        pred,
        resolve: (m) => {
          clearTimeout(timer);
          resolve(m);
        },
      });
    });
  };
  return { client, received, waitFor };
}
