import { type Logger, pino } from 'pino';

export type { Logger };

/**
 * Structured logs (docs/architecture.md house style 8): an object first, a short constant message, a child
 * logger per component. JSON to stdout; set LOG_PRETTY=1 only for human reading.
 */
export function createLogger(
  name: string,
  level = process.env.LOG_LEVEL ?? 'info',
  /** Where the JSON lines go (default stdout); tests pass a stream to read them back. */
  destination?: pino.DestinationStream,
): Logger {
  const options: pino.LoggerOptions = {
    name,
    level,
    base: { app: name },
    timestamp: pino.stdTimeFunctions.isoTime,
    // Never log contact details or credentials by accident (alerts subscriptions, API keys).
    redact: {
      paths: ['*.password', '*.token', '*.email', '*.phone', '*.lineUserId', 'headers.authorization'],
      censor: '[redacted]',
    },
  };
  return destination ? pino(options, destination) : pino(options);
}
