import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, ManagedProcess } from '@cnx/testkit';

/** The gateway's GET /health answer ('unreachable' when nothing answered). */
export interface GatewayHealth {
  status: string;
  checks?: Record<string, { ok: boolean; detail?: unknown }>;
}

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/**
 * The gateway as a real OS process (as deployed), so tests can SIGKILL it and start it again on
 * the same spool directory and MQTT client id.
 */
export class GatewayProcess {
  private proc?: ManagedProcess;
  readonly httpPort: Promise<number> = freePort();

  constructor(private readonly env: Record<string, string>) {}

  /**
   * Spawn the gateway and wait until its /health satisfies `ready` (default: status ok). A gateway
   * started before its broker or store answers `down` or `degraded`: pass what the test expects.
   */
  async start(
    ready: (h: GatewayHealth) => boolean = (h) => h.status === 'ok',
    what = 'GET /health to answer ok',
  ): Promise<void> {
    const port = await this.httpPort;
    this.proc = ManagedProcess.spawn({
      name: 'gateway',
      command: process.execPath,
      args: ['--import', 'tsx', path.join(repoRoot, 'apps/gateway/src/main.ts')],
      cwd: repoRoot,
      env: { ...process.env, LOG_LEVEL: 'warn', GATEWAY_HTTP_PORT: String(port), ...this.env },
    });
    await this.proc.waitUntilReady(async () => ready(await this.health()), { timeoutMs: 60_000, what });
  }

  async health(): Promise<GatewayHealth> {
    try {
      const res = await fetch(`http://127.0.0.1:${await this.httpPort}/health`);
      return (await res.json()) as GatewayHealth;
    } catch {
      return { status: 'unreachable' };
    }
  }

  /** One Prometheus sample by exact name (and labels), or undefined. */
  async metric(name: string): Promise<number | undefined> {
    const text = await (await fetch(`http://127.0.0.1:${await this.httpPort}/metrics`)).text();
    const line = text.split('\n').find((l) => l.startsWith(`${name} `));
    return line ? Number(line.slice(name.length + 1)) : undefined;
  }

  /**
   * Wait (bounded) until everything the gateway accepted is confirmed by the store. A publisher's
   * PUBACK only says the broker has a message, which may still be on its way to the gateway: pass
   * `atLeast` (counter name → minimum) to wait for it to arrive as well, e.g.
   * `{ gateway_readings_accepted_total: before + sent }`.
   */
  async drained(atLeast: Record<string, number> = {}, timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let short: Record<string, number | undefined> = {};
    while (Date.now() < deadline) {
      short = {};
      for (const [name, min] of Object.entries(atLeast)) {
        const v = await this.metric(name);
        if ((v ?? 0) < min) short[name] = v;
      }
      if (!Object.keys(short).length && (await this.metric('gateway_spool_pending_readings')) === 0) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(
      `gateway did not drain its spool within ${timeoutMs} ms (short of ${JSON.stringify(atLeast)}: ${JSON.stringify(short)})\n${this.output()}`,
    );
  }

  output(): string {
    return this.proc?.output() ?? '';
  }

  async kill(): Promise<void> {
    await this.proc?.kill('SIGKILL');
  }

  async stop(): Promise<void> {
    await this.proc?.stop();
  }
}
