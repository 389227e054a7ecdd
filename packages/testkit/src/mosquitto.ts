import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { canConnect, freePort } from './ports';
import { isAddressInUse, ManagedProcess, makeTempDir, removeDir, ServiceStartError } from './process';
import { requireBinary } from './require';

export interface MosquittoOptions {
  /** Keep retained messages and persistent sessions on disk across restart() (default false). */
  persistence?: boolean;
  /** Appended verbatim to the generated config (e.g. an acl_file or a password_file line). */
  extraConfig?: string;
  /** Listen on this port (default: a free one). */
  port?: number;
  /** Persistence directory. When given it is the caller's and is never deleted. */
  dataDir?: string;
  /** Readiness timeout (default 30 s). */
  startTimeoutMs?: number;
  /**
   * A whole configuration of the caller's (e.g. a shipped mosquitto.conf with its paths rewritten)
   * instead of the generated one; `extraConfig` and `persistence` are then ignored. Its first
   * listener must be `listener <port> 127.0.0.1`, on the port given here: readiness is a TCP
   * connection to it.
   */
  config?: (ctx: { port: number; dataDir: string }) => string;
}

export interface MosquittoHandle {
  /** `mqtt://127.0.0.1:<port>` */
  readonly url: string;
  readonly port: number;
  readonly dataDir: string;
  readonly configPath: string;
  readonly pid: number | undefined;
  readonly running: boolean;
  /** Last output lines of the broker, for assertion messages. */
  output(): string;
  /** Final: stop the broker (SIGTERM, then SIGKILL) and remove the temp dirs this handle created. */
  stop(): Promise<void>;
  /** Crash the broker (SIGKILL); files are kept and restart() brings it back. */
  kill(): Promise<void>;
  /** Stop the broker gracefully (it saves its persistence file), keeping files for restart(). */
  stopProcess(): Promise<void>;
  /** Start the broker again on the same port with the same config and data (stops it first if running). */
  restart(): Promise<void>;
}

/**
 * mosquitto defaults that lose messages in tests, and what we set instead (mosquitto.conf(5), 2.0):
 * - max_queued_messages defaults to 1000 per client: a persistent-session (clean=false) subscriber that
 *   is offline or slow silently drops QoS 1/2 messages beyond that. We set 1000000 so a no-loss test
 *   or benchmark measures our code, not the broker's queue cap. (0 would mean "no limit" too, but an
 *   explicit large bound keeps a runaway test from eating all memory.)
 * - max_queued_bytes 0 = no byte limit on that queue.
 * - max_inflight_messages stays at its default (20 un-acknowledged outgoing QoS 1/2 messages per
 *   client): it throttles, it never drops.
 * - persistence false unless asked, so tests start from a clean broker.
 * - When run as root, mosquitto 2.x switches to the `mosquitto` user, which cannot write our private
 *   temp dir; `user root` keeps it as the current user (ignored when not root).
 */
export const MOSQUITTO_MAX_QUEUED_MESSAGES = 1_000_000;

function mosquittoConfig(port: number, dataDir: string, opts: MosquittoOptions): string {
  const lines = [
    '# written by @cnx/testkit for a throw-away test broker',
    `listener ${port} 127.0.0.1`,
    'allow_anonymous true',
    `persistence ${opts.persistence ? 'true' : 'false'}`,
    `persistence_location ${dataDir.endsWith('/') ? dataDir : `${dataDir}/`}`,
    `max_queued_messages ${MOSQUITTO_MAX_QUEUED_MESSAGES}`,
    'max_queued_bytes 0',
    'set_tcp_nodelay true',
    'log_dest stderr',
    'log_type error',
    'log_type warning',
  ];
  if (process.getuid?.() === 0) lines.push('user root');
  if (opts.extraConfig) lines.push(opts.extraConfig);
  return `${lines.join('\n')}\n`;
}

export async function startMosquitto(opts: MosquittoOptions = {}): Promise<MosquittoHandle> {
  const bin = requireBinary('mosquitto', 'mosquitto');
  const timeoutMs = opts.startTimeoutMs ?? 30_000;
  const confDir = await makeTempDir('cnx-mosquitto-');
  const dataDir = opts.dataDir ?? join(confDir, 'data');
  await mkdir(dataDir, { recursive: true });
  const configPath = join(confDir, 'mosquitto.conf');

  const launch = async (port: number): Promise<ManagedProcess> => {
    await writeFile(configPath, opts.config ? opts.config({ port, dataDir }) : mosquittoConfig(port, dataDir, opts));
    const proc = ManagedProcess.spawn({ name: 'mosquitto', command: bin, args: ['-c', configPath] });
    await proc.waitUntilReady(() => canConnect(port), {
      timeoutMs,
      what: `a TCP connection on 127.0.0.1:${port}`,
    });
    return proc;
  };

  let port = opts.port ?? (await freePort());
  let proc: ManagedProcess | undefined;
  for (let attempt = 1; proc === undefined; attempt++) {
    try {
      proc = await launch(port);
    } catch (err) {
      const retry = opts.port === undefined && attempt < 5 && err instanceof ServiceStartError;
      if (!retry || !isAddressInUse(err.output)) {
        await removeDir(confDir);
        throw err;
      }
      port = await freePort();
    }
  }

  let current: ManagedProcess = proc;
  return {
    url: `mqtt://127.0.0.1:${port}`,
    port,
    dataDir,
    configPath,
    get pid() {
      return current.pid;
    },
    get running() {
      return current.running;
    },
    output: () => current.output(),
    async stop() {
      await current.stop();
      await removeDir(confDir);
    },
    async kill() {
      await current.kill('SIGKILL');
    },
    async stopProcess() {
      await current.stop();
    },
    async restart() {
      await current.stop();
      current = await launch(port);
    },
  };
}
