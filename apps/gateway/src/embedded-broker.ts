import { timingSafeEqual } from 'node:crypto';
import net from 'node:net';
import type { Logger } from '@cnx/runtime';
import type { Aedes, AuthenticateError, Client } from 'aedes';

/** The gateway's own account on the embedded broker: its client id, username and a per-start secret. */
export interface BrokerOwner {
  clientId: string;
  username: string;
  password: string;
}

/**
 * The embedded MQTT broker (aedes, in-memory persistence) used when GATEWAY_MQTT_URL is not set, so
 * `npm start` needs nothing installed. Production runs Mosquitto or an EMQX cluster (docs/operations.md);
 * the gateway speaks plain MQTT 3.1.1 to either.
 *
 * Devices connect anonymously (a demo on loopback), but the gateway's client id and username are
 * bound to the gateway: only a client logging in with the gateway's per-start password may use them
 * (CONNACK 5 otherwise). Without it any client connecting with the gateway's client id took its
 * persistent session, with the readings queued in it, and disconnected the gateway. Mosquitto does
 * the same with `use_username_as_clientid` (infra/mosquitto).
 */
export class EmbeddedBroker {
  private broker?: Aedes;
  private server?: net.Server;

  constructor(
    private readonly opts: { host: string; port: number; owner: BrokerOwner },
    private readonly logger: Logger,
  ) {}

  get url(): string {
    const addr = this.server?.address();
    const port = addr && typeof addr === 'object' ? addr.port : this.opts.port;
    return `mqtt://${this.opts.host}:${port}`;
  }

  async start(): Promise<void> {
    // Imported only when used: a gateway on an external broker does not carry aedes in memory.
    const { Aedes: AedesBroker } = await import('aedes');
    const broker = await AedesBroker.createBroker({
      authenticate: (c, u, p, done) => this.authenticate(c, u, p, done),
    });
    this.broker = broker;
    broker.on('clientError', (client, error) =>
      this.logger.debug({ client: client.id, err: error }, 'mqtt client error'),
    );
    const server = net.createServer(broker.handle);
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', (error: NodeJS.ErrnoException) =>
        reject(
          error.code === 'EADDRINUSE'
            ? new Error(
                `port ${this.opts.port} is in use: set CNX_MQTT_PORT, or GATEWAY_MQTT_URL to use an existing broker`,
              )
            : error,
        ),
      );
      server.listen(this.opts.port, this.opts.host, () => resolve());
    });
    this.logger.info({ url: this.url }, 'embedded mqtt broker listening');
  }

  private authenticate(
    client: Client,
    username: string | undefined,
    password: Readonly<Buffer> | undefined,
    done: (error: AuthenticateError | null, success: boolean | null) => void,
  ): void {
    const owner = this.opts.owner;
    const claimsOwner = client.id === owner.clientId || username === owner.username;
    if (!claimsOwner) {
      done(null, true);
      return;
    }
    const expected = Buffer.from(owner.password);
    const ok =
      username === owner.username &&
      client.id === owner.clientId &&
      password !== undefined &&
      password.length === expected.length &&
      timingSafeEqual(password, expected);
    if (ok) {
      done(null, true);
      return;
    }
    this.logger.warn({ client: client.id, username }, 'mqtt connect refused: the gateway session is reserved');
    done(Object.assign(new Error('not authorised'), { returnCode: 5 as const }), false);
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
    const broker = this.broker;
    if (broker) await new Promise<void>((resolve) => broker.close(() => resolve()));
  }
}
