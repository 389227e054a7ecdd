import net from 'node:net';
import type { Logger } from '@cnx/runtime';
import type { Aedes } from 'aedes';

/**
 * The embedded MQTT broker (aedes, in-memory persistence) used when GATEWAY_MQTT_URL is not set, so
 * `npm start` needs nothing installed. Production runs Mosquitto or an EMQX cluster (docs/operations.md);
 * the gateway speaks plain MQTT 3.1.1 to either.
 */
export class EmbeddedBroker {
  private broker?: Aedes;
  private server?: net.Server;

  constructor(
    private readonly opts: { host: string; port: number },
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
    const broker = await AedesBroker.createBroker();
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

  async stop(): Promise<void> {
    const server = this.server;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
    const broker = this.broker;
    if (broker) await new Promise<void>((resolve) => broker.close(() => resolve()));
  }
}
