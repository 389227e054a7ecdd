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

export interface EmbeddedBrokerOptions {
  host: string;
  port: number;
  owner: BrokerOwner;
  /** Other services' accounts (npm start: cnx-alerts, cnx-api), name -> password. */
  accounts?: Record<string, string>;
}

/**
 * The embedded MQTT broker (aedes, in-memory persistence) used when GATEWAY_MQTT_URL is not set, so
 * `npm start` needs nothing installed. Production runs Mosquitto or an EMQX cluster (docs/operations.md);
 * the gateway speaks plain MQTT 3.1.1 to either.
 *
 * Devices connect anonymously (a demo on loopback), but the services' client ids are bound to their
 * accounts: the gateway's client id, and every client id `<account>` or `<account>-…` of an account
 * (`cnx-gateway`, and what npm start passes: `cnx-alerts`, `cnx-api`), may be used only by a client
 * that logs in as that account with its password (CONNACK 5 otherwise); so may the account names.
 * Without this any client connecting with the gateway's client id took its persistent session, with
 * the readings queued in it, and disconnected the gateway. Mosquitto does the same with
 * `use_username_as_clientid` (infra/mosquitto).
 */
export class EmbeddedBroker {
  private broker?: Aedes;
  private server?: net.Server;

  constructor(
    private readonly opts: EmbeddedBrokerOptions,
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

  /** The account that owns `clientId`, if any. */
  private ownerOf(clientId: string): string | undefined {
    const { owner, accounts = {} } = this.opts;
    if (clientId === owner.clientId) return owner.username;
    return [owner.username, ...Object.keys(accounts)].find(
      (name) => clientId === name || clientId.startsWith(`${name}-`),
    );
  }

  private authenticate(
    client: Client,
    username: string | undefined,
    password: Readonly<Buffer> | undefined,
    done: (error: AuthenticateError | null, success: boolean | null) => void,
  ): void {
    const { owner, accounts = {} } = this.opts;
    const passwords: Record<string, string> = { ...accounts, [owner.username]: owner.password };
    const expected = username !== undefined && Object.hasOwn(passwords, username) ? passwords[username] : undefined;
    const loggedIn =
      expected !== undefined &&
      password !== undefined &&
      password.length === Buffer.byteLength(expected) &&
      timingSafeEqual(password, Buffer.from(expected));
    const claimed = this.ownerOf(client.id);
    // An account name needs its password; an account's client id needs that account.
    const ok = (expected === undefined || loggedIn) && (claimed === undefined || (loggedIn && username === claimed));
    if (ok) {
      done(null, true);
      return;
    }
    this.logger.warn({ client: client.id, username }, 'mqtt connect refused: client id or account reserved');
    done(Object.assign(new Error('not authorised'), { returnCode: 5 as const }), false);
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
    const broker = this.broker;
    if (broker) await new Promise<void>((resolve) => broker.close(() => resolve()));
  }
}
