import type { Logger } from 'pino';

export interface Service {
  start(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Run a long-lived service until SIGINT/SIGTERM (docs/architecture.md house style 4): a second signal, or a
 * stop that takes longer than `graceMs`, exits at once.
 */
export async function runUntilSignal(service: Service, logger: Logger, graceMs = 10_000): Promise<void> {
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) {
      logger.warn({ signal }, 'second signal, exiting now');
      process.exit(1);
    }
    stopping = true;
    logger.info({ signal }, 'shutting down');
    const timer = setTimeout(() => {
      logger.error({ graceMs }, 'shutdown took too long, exiting');
      process.exit(1);
    }, graceMs);
    timer.unref();
    try {
      await service.stop();
      logger.info({}, 'stopped');
      process.exit(0);
    } catch (error) {
      logger.error({ err: error }, 'error during shutdown');
      process.exit(1);
    }
  };
  process.once('SIGINT', () => void stop('SIGINT'));
  process.once('SIGTERM', () => void stop('SIGTERM'));
  try {
    await service.start();
  } catch (error) {
    logger.fatal({ err: error }, 'failed to start');
    await service.stop().catch(() => undefined);
    process.exit(1);
  }
}
