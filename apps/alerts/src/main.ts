import { ConfigError, createLogger, runUntilSignal } from '@cnx/runtime';
import { AlertsService, StartupError } from './alerts.service';
import { loadAlertsConfig } from './config';

// Contact details are personal data: never in the logs (on top of @cnx/runtime's defaults).
const logger = createLogger('alerts').child(
  {},
  {
    redact: {
      paths: ['address', '*.address', 'to', '*.to', 'secret', '*.secret', 'token', '*.token'],
      censor: '[redacted]',
    },
  },
);
try {
  const service = new AlertsService(loadAlertsConfig(), logger);
  await runUntilSignal(service, logger);
} catch (error) {
  if (error instanceof ConfigError || error instanceof StartupError) {
    logger.fatal({ problems: error.problems }, 'invalid configuration');
    console.error(error.message);
  } else logger.fatal({ err: error }, 'alerts failed');
  process.exit(1);
}
