import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  freePort,
  type MosquittoHandle,
  makeTempDir,
  makeTestCertificates,
  removeDir,
  startMosquitto,
  type TestCertificates,
} from '@cnx/testkit';
import mqtt, { type IClientOptions, type IConnackPacket, type MqttClient } from 'mqtt';
import { infraMosquittoDir, password, type Recorder, recordMessages, writeBrokerAccounts } from '../src/broker-probe';

export { infraMosquittoDir as infraDir } from '../src/broker-probe';

/**
 * The shipped production broker (infra/mosquitto: mosquitto.conf, acl) on a real Mosquitto, for
 * test/infra/mosquitto-production.test.ts. The configuration is the shipped file with only its
 * paths, ports and log destination rewritten: every rewritten line must exist verbatim in the
 * shipped file, so a change there fails here instead of being tested around.
 */
export interface ProductionBroker {
  broker: MosquittoHandle;
  /** Loopback listener of the apps: `mqtt://127.0.0.1:<port>`. */
  appsUrl: string;
  /** The devices' TLS listener: `mqtts://127.0.0.1:<port>`. */
  tlsUrl: string;
  certs: TestCertificates;
  passwordFile: string;
  aclFile: string;
  dir: string;
  stop(): Promise<void>;
}

/** Replaces whole lines of `text`; throws when a line is not there (the shipped file changed). */
function replaceLines(text: string, replacements: Record<string, string>): string {
  const lines = text.split('\n');
  for (const [from, to] of Object.entries(replacements)) {
    const i = lines.indexOf(from);
    if (i < 0) throw new Error(`infra/mosquitto/mosquitto.conf has no line ${JSON.stringify(from)}`);
    lines[i] = to;
  }
  return lines.join('\n');
}

/**
 * Starts it with accounts for `users`. `overrides` replaces further whole lines of the shipped file
 * (a test that needs a smaller limit), under the same rule: each line must be there verbatim.
 */
export async function startProductionBroker(
  users: readonly string[],
  overrides: Record<string, string> = {},
): Promise<ProductionBroker> {
  const dir = await makeTempDir('cnx-prod-broker-');
  const certs = makeTestCertificates(dir);
  const { passwordFile, aclFile } = writeBrokerAccounts(dir, users);
  const shipped = readFileSync(join(infraMosquittoDir, 'mosquitto.conf'), 'utf8');
  const tlsPort = await freePort();
  const broker = await startMosquitto({
    config: ({ port, dataDir }) =>
      `${replaceLines(shipped, {
        'password_file /etc/mosquitto/cnx/passwd': `password_file ${passwordFile}`,
        'acl_file /etc/mosquitto/cnx/acl': `acl_file ${aclFile}`,
        'persistence_location /var/lib/mosquitto/': `persistence_location ${dataDir}/`,
        'log_dest syslog': 'log_dest stderr',
        'listener 1883 127.0.0.1': `listener ${port} 127.0.0.1`,
        'listener 8883': `listener ${tlsPort} 127.0.0.1`,
        'certfile /etc/mosquitto/certs/server.crt': `certfile ${certs.serverCert}`,
        'keyfile /etc/mosquitto/certs/server.key': `keyfile ${certs.serverKey}`,
        'cafile /etc/mosquitto/certs/ca.crt': `cafile ${certs.caFile}`,
        ...overrides,
      })}\n${process.getuid?.() === 0 ? 'user root\n' : ''}`,
  });
  return {
    broker,
    appsUrl: broker.url,
    tlsUrl: `mqtts://127.0.0.1:${tlsPort}`,
    certs,
    passwordFile,
    aclFile,
    dir,
    async stop() {
      await broker.stop();
      await removeDir(dir);
    },
  };
}

/** A connected client that records every message it receives, with the broker's CONNACK. */
export interface Probe extends Recorder {
  /** sessionPresent: the client was handed an existing session. */
  connack: IConnackPacket;
}

/** Connects and resolves with the CONNACK, or rejects with the connection's error (CONNACK 5: code 5). */
export function connectWithConnack(
  url: string,
  opts: IClientOptions,
  onClient: (client: MqttClient) => void = () => undefined,
): Promise<{ client: MqttClient; connack: IConnackPacket }> {
  const client = mqtt.connect(url, opts);
  onClient(client);
  return new Promise((resolve, reject) => {
    client.once('connect', (connack) => resolve({ client, connack }));
    client.once('error', (err) => {
      client.end(true);
      reject(err);
    });
  });
}

/** Clients opened by a test, closed after it. */
export class Clients {
  private readonly open: MqttClient[] = [];

  constructor(private readonly env: () => ProductionBroker) {}

  /** `user` with its password on the apps' loopback listener (or `url`), MQTT 3.1.1, no reconnects. */
  async connect(user: string, opts: IClientOptions & { url?: string } = {}): Promise<Probe> {
    const { url, ...rest } = opts;
    let recorder: Recorder | undefined;
    const { client, connack } = await connectWithConnack(
      url ?? this.env().appsUrl,
      { username: user, password: password(user), clientId: user, protocolVersion: 4, reconnectPeriod: 0, ...rest },
      (c) => {
        recorder = recordMessages(c, user);
      },
    );
    this.open.push(client);
    return { ...recorder!, connack };
  }

  /** A device over the TLS listener, verifying the broker against the suite's CA. */
  device(user: string, opts: IClientOptions = {}): Promise<Probe> {
    return this.connect(user, { url: this.env().tlsUrl, ca: readFileSync(this.env().certs.caFile), ...opts });
  }

  track(client: MqttClient): MqttClient {
    this.open.push(client);
    return client;
  }

  async closeAll(): Promise<void> {
    await Promise.all(this.open.splice(0).map((c) => c.endAsync(true)));
  }
}
